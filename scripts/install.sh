#!/usr/bin/env bash
# Installs everything emostream needs on a fresh Debian/Ubuntu machine, idempotently:
#   bash scripts/install.sh          what `emostream analyze` needs (ffmpeg, the Haar cascade,
#                                    npm dependencies, TensorFlow.js on the native backend)
#   bash scripts/install.sh --test   plus what the tests need (GStreamer RTSP server, Chromium,
#                                    Prometheus, Java for the Kafka broker, kustomize)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
want_test=0
for a in "$@"; do case $a in --test) want_test=1;; *) echo "usage: $0 [--test]" >&2; exit 2;; esac; done
log() { printf '[install] %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------------------------
pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
need() { for p in "$@"; do have_pkg "$p" || pkgs+=("$p"); done; }
need ffmpeg opencv-data
if [ "$want_test" = 1 ]; then
  need python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
       gstreamer1.0-plugins-bad chromium prometheus openjdk-17-jre-headless maven
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    log "apt-get install ${pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    # The prometheus package may start its own server on :9090; tests run their own.
    if have_pkg prometheus; then (service prometheus stop || systemctl stop prometheus || pkill -x prometheus) >/dev/null 2>&1 || true; fi
  else
    log "please install these system packages (as root): ${pkgs[*]}"; exit 1
  fi
fi

# --- npm dependencies ------------------------------------------------------------------------
# Install scripts are skipped: tfjs-node's would download libtensorflow from a host that may be
# unreachable; scripts/install-tfjs-node.sh does that step (normal download first).
stamp=node_modules/.emostream-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  log "npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

# --- TensorFlow.js native backend ------------------------------------------------------------
bash scripts/install-tfjs-node.sh cpu

# --- test tools ------------------------------------------------------------------------------
if [ "$want_test" = 1 ]; then
  [ -x scripts/install-tools.sh ] && bash scripts/install-tools.sh
  [ -x scripts/kafka.sh ] && bash scripts/kafka.sh fetch
fi
log "done"

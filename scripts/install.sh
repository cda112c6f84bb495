#!/usr/bin/env bash
# Installs everything emostream needs on a fresh Debian/Ubuntu machine, idempotently:
#   bash scripts/install.sh          what `emostream analyze` needs (ffmpeg, the Haar cascade,
#                                    npm dependencies, TensorFlow.js on the native backend)
#   bash scripts/install.sh --test   plus what the tests need (GStreamer RTSP server, Chromium,
#                                    Prometheus, Java for the Kafka broker, kustomize, and a Python
#                                    venv with kafka-python for the consumer example, .cache/python)
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
       gstreamer1.0-plugins-bad chromium prometheus openjdk-17-jre-headless maven python3-venv
fi
# The Debian package `prometheus` starts its own service (on :9090) when it is installed. The
# tests do not need it: test/helpers/prometheus.ts runs its own `prometheus` on a free port and
# stops that child itself. Nothing is ever stopped by name here (a `pkill -x prometheus` used to
# kill a Prometheus the user runs, and the servers of a test run in progress). The one server
# stopped is the service of a package that this very run installed (so not the user's: the
# package was not on the machine before), through its service manager: systemd only when the unit
# is the package's own file; else the package's init script, which signals the pid in its pidfile
# (/run/prometheus/prometheus.pid) only if that pid is still /usr/bin/prometheus run by user prometheus.
prom_preinstalled=0
have_pkg prometheus && prom_preinstalled=1
stop_new_prometheus_service() {
  [ "$prom_preinstalled" = 0 ] && have_pkg prometheus || return 0
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    case "$(systemctl show -p FragmentPath --value prometheus.service 2>/dev/null)" in
      /lib/systemd/system/prometheus.service|/usr/lib/systemd/system/prometheus.service)
        log "stopping the prometheus service the package just started (the tests run their own)"
        systemctl stop prometheus.service >/dev/null 2>&1 || true ;;
    esac
  elif [ -x /etc/init.d/prometheus ] && dpkg -S /etc/init.d/prometheus >/dev/null 2>&1; then
    /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
}
if [ ${#pkgs[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    log "apt-get install ${pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    stop_new_prometheus_service
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
  # The Python consumer example's venv (test/python-consumer.test.ts): kafka-python at the version
  # examples/python/requirements.txt pins; rebuilt only when that file changes or the venv broke.
  venv=.cache/python req=examples/python/requirements.txt
  if ! cmp -s "$req" "$venv/.emostream-requirements" || ! "$venv/bin/python" -c 'import kafka' >/dev/null 2>&1; then
    log "python venv $venv: $(grep -v '^#' "$req" | tr '\n' ' ')"
    python3 -m venv --clear "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req"
    cp "$req" "$venv/.emostream-requirements"
  fi
fi
log "done"

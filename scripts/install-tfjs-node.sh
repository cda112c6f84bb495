#!/usr/bin/env bash
# Makes @tensorflow/tfjs-node (and, with `gpu`, tfjs-node-gpu) loadable.
# First the package's normal install (it downloads libtensorflow from Google's storage); where
# that host cannot be reached, the same C library is taken from TensorFlow's wheel on PyPI and
# the addon is compiled from source against it (see DESIGN.md, "Real parts").
#   usage: scripts/install-tfjs-node.sh [cpu|gpu]
set -euo pipefail
kind=${1:-cpu}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$kind" = gpu ]; then pkg=@tensorflow/tfjs-node-gpu; wheel=tensorflow; else pkg=@tensorflow/tfjs-node; wheel=tensorflow-cpu; fi
tfver=${EMOSTREAM_TF_WHEEL_VERSION:-2.21.0}
dir="$root/node_modules/$pkg"
cache=${EMOSTREAM_CACHE:-$root/.cache}
log() { printf '[install-tfjs] %s\n' "$*" >&2; }

loads() { (cd "$root" && TF_CPP_MIN_LOG_LEVEL=3 node -e "require('$pkg')" >/dev/null 2>&1); }

mkdir -p "$cache"
[ -d "$dir" ] || { log "$pkg is not in node_modules: run npm ci first"; exit 1; }
if loads; then log "$pkg already loads"; exit 0; fi

if [ "${EMOSTREAM_TFJS_OFFLINE:-0}" != 1 ]; then
  log "trying $pkg's own install (downloads libtensorflow; 120 s limit)"
  if (cd "$root" && timeout 120 npm rebuild "$pkg" >"$cache/tfjs-normal.log" 2>&1) && loads; then
    log "$pkg installed the normal way"; rm -f "$cache/tfjs-normal.log"; exit 0
  fi
  log "normal install failed (see $cache/tfjs-normal.log); building from the $wheel $tfver wheel"
fi

mkdir -p "$cache/wheels"
whl=$(ls "$cache/wheels/"${wheel//-/_}-"$tfver"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$whl" ]; then
  log "downloading $wheel==$tfver from PyPI (~270 MB)"
  for plat in manylinux_2_27_x86_64 manylinux_2_17_x86_64; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 --platform "$plat" \
      "$wheel==$tfver" -d "$cache/wheels" && break || true
  done
  whl=$(ls "$cache/wheels/"${wheel//-/_}-"$tfver"-*.whl 2>/dev/null | head -1 || true)
  [ -n "$whl" ] || { log "could not download $wheel==$tfver from PyPI"; exit 1; }
fi

log "unpacking libtensorflow and the C API headers from $(basename "$whl")"
rm -rf "$dir/deps"; mkdir -p "$dir/deps/lib" "$dir/deps/include"
python3 - "$whl" "$dir/deps" <<'PY'
import sys, zipfile, os, shutil
whl, deps = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(whl)
# The C API headers the addon includes moved between TF versions: take every candidate place.
keep = ('tensorflow/c/', 'tsl/', 'xla/tsl/', 'tensorflow/tsl/', 'tensorflow/core/platform/', 'tensorflow/compiler/xla/tsl/')
for name in z.namelist():
    if name in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
        target = os.path.join(deps, 'lib', os.path.basename(name))
    elif name.startswith('tensorflow/include/') and name.endswith('.h') and name[len('tensorflow/include/'):].startswith(keep):
        target = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
    else:
        continue
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with z.open(name) as src, open(target, 'wb') as dst:
        shutil.copyfileobj(src, dst)
PY
cd "$dir/deps/lib"
strip --strip-unneeded libtensorflow_cc.so.2 libtensorflow_framework.so.2 2>/dev/null || true
ln -sf libtensorflow_cc.so.2 libtensorflow.so
ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so
# The marker the package's install script checks; with it present it skips its download.
marker=$(cd "$dir" && node -p "require('./scripts/deps-constants.js').depsLibTensorFlowPath")
fw=$(cd "$dir" && node -p "require('./scripts/deps-constants.js').depsLibTensorFlowFrameworkPath")
ln -sf libtensorflow_cc.so.2 "$marker"
ln -sf libtensorflow_framework.so.2 "$fw"

log "compiling the addon against /usr/include/node"
nodedir=${npm_config_nodedir:-}
if [ -z "$nodedir" ]; then
  for d in /usr /usr/local "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"; do
    [ -f "$d/include/node/node_api.h" ] && { nodedir=$d; break; }
  done
fi
[ -n "$nodedir" ] || { log "no Node.js headers found (install nodejs headers or set npm_config_nodedir)"; exit 1; }
if [ "$kind" = gpu ]; then
  (cd "$dir" && npm_config_build_from_source=true npm_config_nodedir="$nodedir" node scripts/install.js gpu)
else
  (cd "$root" && npm_config_build_from_source=true npm_config_nodedir="$nodedir" npm rebuild "$pkg")
fi
if [ "$kind" = gpu ]; then log "built $pkg (it loads only where CUDA is present)"; exit 0; fi
loads || { log "$pkg still does not load after the build"; (cd "$root" && node -e "require('$pkg')") ; exit 1; }
log "$pkg loads (libtensorflow $tfver from PyPI)"

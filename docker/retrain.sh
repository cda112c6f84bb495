#!/bin/sh
# The retrain job (deploy/k8s CronJob / Job): train a new model version into the model volume,
# evaluate it, and publish it only when it is good enough, by flipping the /models/current
# symlink atomically (rename), which the classifiers hot-reload.
#   env: EMOSTREAM_TRAIN_DATA (default /data/train), EMOSTREAM_EVAL_DATA (default /data/test),
#        EMOSTREAM_TRAIN_CONFIG (paper|best, default best), EMOSTREAM_MIN_ACCURACY (default 0.6),
#        EMOSTREAM_MODELS (default /models)
set -eu
models=${EMOSTREAM_MODELS:-/models}
train_data=${EMOSTREAM_TRAIN_DATA:-/data/train}
eval_data=${EMOSTREAM_EVAL_DATA:-/data/test}
min_acc=${EMOSTREAM_MIN_ACCURACY:-0.6}
version=$(date -u +%Y%m%dT%H%M%SZ)
run="$models/runs/$version"
cli="node /app/bin/emostream.mjs"

mkdir -p "$models/runs" "$models/versions"
echo "retrain: training version $version on $train_data (config ${EMOSTREAM_TRAIN_CONFIG:-best})"
$cli train --data "$train_data" --config "${EMOSTREAM_TRAIN_CONFIG:-best}" --out "$run"
echo "retrain: evaluating on $eval_data"
$cli evaluate --model "$run/model" --data "$eval_data" --json --report "$run/evaluation.html" > "$run/evaluation.json"
acc=$(node -e 'const e=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.stdout.write(String(e.accuracy))' "$run/evaluation.json")
if ! node -e 'process.exit(Number(process.argv[1]) >= Number(process.argv[2]) ? 0 : 1)' "$acc" "$min_acc"; then
  echo "retrain: accuracy $acc is below EMOSTREAM_MIN_ACCURACY=$min_acc: version $version NOT published (kept in $run)" >&2
  exit 1
fi
cp -R "$run/model" "$models/versions/$version"
# Atomic publish: a new symlink renamed over the old one; a classifier never sees a half-written model.
ln -sfn "versions/$version" "$models/current.next"
mv -T "$models/current.next" "$models/current"
echo "retrain: published $version (accuracy $acc) as $models/current"

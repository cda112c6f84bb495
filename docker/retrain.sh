#!/bin/sh
# The retrain job (deploy/k8s CronJob / Job): train a new model version into the model volume,
# evaluate it on the validation set, and publish it only when it is good enough, by flipping the
# /models/current symlink atomically (rename), which the classifiers hot-reload.
#   env: EMOSTREAM_TRAIN_DATA (default /data/train), EMOSTREAM_EVAL_DATA (default /data/test),
#        EMOSTREAM_TRAIN_CONFIG (paper|best, default best), EMOSTREAM_MIN_ACCURACY (default 0.6),
#        EMOSTREAM_MODELS (default /models)
# Selection never touches the test split: on FER-2013 folders, training chooses its epoch on
# PublicTest and does not score PrivateTest (--no-final-test), the candidate is evaluated on
# PublicTest (--split PublicTest), and `emostream publish-decision` refuses an evaluation scored on
# PrivateTest. PrivateTest is scored once per shipped model, by a person
# (`emostream evaluate --split PrivateTest`). A <label>/<image> EMOSTREAM_EVAL_DATA is taken
# whole as the validation set: keep the final test images out of it.
set -eu
models=${EMOSTREAM_MODELS:-/models}
train_data=${EMOSTREAM_TRAIN_DATA:-/data/train}
eval_data=${EMOSTREAM_EVAL_DATA:-/data/test}
min_acc=${EMOSTREAM_MIN_ACCURACY:-0.6}
version=$(date -u +%Y%m%dT%H%M%SZ)
run="$models/runs/$version"
cli="node /app/bin/emostream.mjs"

for d in "$train_data" "$eval_data"; do
  if [ ! -d "$d" ] || [ -z "$(ls -A "$d" 2>/dev/null)" ]; then
    echo "retrain: $d is missing or empty: put <label>/<image> folders (or FER-2013's train/ and test/) on the training-data volume first; nothing was trained" >&2
    exit 2
  fi
done

mkdir -p "$models/runs" "$models/versions"
echo "retrain: training version $version on $train_data (config ${EMOSTREAM_TRAIN_CONFIG:-best})"
$cli train --data "$train_data" --config "${EMOSTREAM_TRAIN_CONFIG:-best}" --split official --no-final-test --out "$run"
echo "retrain: evaluating on $eval_data (validation split: PublicTest for FER-2013)"
$cli evaluate --model "$run/model" --data "$eval_data" --split PublicTest --json --report "$run/evaluation.html" > "$run/evaluation.json"
# "publish: <figures>" or "keep: <figures>"; an evaluation on PrivateTest is an error (exit 1).
decision=$($cli publish-decision --candidate "$run/evaluation.json" --min-accuracy "$min_acc")
case $decision in
  publish:*) ;;
  *)
    echo "retrain: ${decision#keep: } (EMOSTREAM_MIN_ACCURACY=$min_acc): version $version NOT published (kept in $run)" >&2
    exit 1
    ;;
esac
cp -R "$run/model" "$models/versions/$version"
# Atomic publish: a new symlink renamed over the old one; a classifier never sees a half-written model.
ln -sfn "versions/$version" "$models/current.next"
mv -T "$models/current.next" "$models/current"
echo "retrain: published $version (${decision#publish: }) as $models/current"

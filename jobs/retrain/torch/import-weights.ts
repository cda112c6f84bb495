// Turns a run of jobs/retrain/torch/train.py (`<run>.json` + `<run>.bin`, weights already in
// tfjs's names and layout) into an emostream model directory: the `best` network built by
// packages/model, those weights set by name, PublicTest scored again here through the same
// code as `emostream evaluate` (it must agree with the GPU's figure), an optional post-hoc logit
// adjustment chosen on PublicTest (as `train --logit-adjustment`), and a card that records the run.
//   node --import tsx jobs/retrain/torch/import-weights.ts <run.json> <FER-2013 folder> <out dir> [--logit-adjustment auto|τ]
import fs from 'node:fs';
import path from 'node:path';
import { loadTf } from '@emostream/runtime';
import { EMOTIONS } from '@emostream/contracts';
import { buildModel, saveModelDir, BEST_ARCHITECTURE, PREPROCESSING, type ModelCard, type EvaluationSummary } from '@emostream/model';
import { loadFerFolders, summarise, predictSet, adjustLogits, configByName, readTorchRun, setWeightsByName, type LogitAdjustment } from '../src/index.js';

const args = process.argv.slice(2);
const la = args.indexOf('--logit-adjustment');
const adjustArg = la >= 0 ? args.splice(la, 2)[1] : undefined;
const [runJson, ferRoot, out] = args;
if (!runJson || !ferRoot || !out) {
  console.error('usage: import-weights.ts <run.json> <FER-2013 folder> <out dir> [--logit-adjustment auto|τ]');
  process.exit(2);
}
const { tf, backend } = await loadTf();
const run = readTorchRun(runJson);
const a = run.meta.args as Record<string, number | string | null>;
const architecture = { ...BEST_ARCHITECTURE, blockDropout: Number(a.block_dropout), denseDropout: Number(a.dense_dropout) };
const model = buildModel(tf, architecture);
setWeightsByName(tf, model, run.weights);
// Scored as the `best` recipes are: with the mirrored face averaged in.
const { flipTta } = configByName('best');

const fer = await loadFerFolders(ferRoot, { cacheDir: path.resolve('.cache/datasets'), warn: (m) => console.error(`warning: ${m}`) });
const score = async (name: string) => summarise('best', name, fer.PublicTest.labels, await predictSet(tf, model, fer.PublicTest, flipTta), EMOTIONS.length);
const here = await score('fer2013-PublicTest');
const gpu = run.meta.publicTest as { accuracy: number; balancedAccuracy: number };
console.log(`PublicTest here: ${(here.accuracy * 100).toFixed(2)}% / ${(here.balancedAccuracy * 100).toFixed(2)}%; by train.py: ${(gpu.accuracy * 100).toFixed(2)}% / ${(gpu.balancedAccuracy * 100).toFixed(2)}%`);
if (Math.abs(here.accuracy - gpu.accuracy) > 0.005) {
  throw new Error(`${runJson}: PublicTest accuracy here (${here.accuracy}) differs from train.py's (${gpu.accuracy}) by more than 0.5 points: the weights did not carry over`);
}
let adjustment: LogitAdjustment | undefined;
if (adjustArg !== undefined) {
  adjustment = await adjustLogits(tf, model, {
    val: fer.PublicTest, valName: 'fer2013-PublicTest', prior: run.meta.drawnPrior as number[], flipTta,
    tau: adjustArg === 'auto' ? undefined : Number(adjustArg), log: console.log,
  });
  console.log(`logit adjustment: τ=${adjustment.tau} (${adjustment.chosenOn})`);
}
const evaluation: Record<string, EvaluationSummary> = { 'fer2013-PublicTest': adjustment ? await score('fer2013-PublicTest') : here };
// A `video` run's card names the recipe and carries its filming, which `emostream interpolate` films PublicTest with.
const name = run.meta.recipe === 'video' ? 'video' : 'best';
const version = `${name}-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-gpu-e${run.meta.bestEpoch}`;
const chosen = (run.meta.selection as string | undefined) ?? 'PublicTest, mean of accuracy and balanced accuracy';
const card: ModelCard = {
  name, version, createdAt: new Date().toISOString(), architecture, parameters: model.countParams(), labels: [...EMOTIONS],
  preprocessing: PREPROCESSING,
  training: {
    trainer: run.meta.trainer, torch: run.meta.torch, device: run.meta.device, importedWith: 'jobs/retrain/torch/import-weights.ts',
    importBackend: backend, recipe: run.meta.recipe ?? 'still',
    config: { ...a, flipTta, ...(run.meta.video ? { video: run.meta.video } : {}), ...(a.ferplus_weight ? { ferPlusWeight: a.ferplus_weight } : {}) },
    data: path.basename(path.resolve(ferRoot)), exported: run.meta.data, split: 'official',
    splitDescription: `FER-2013 official split: ${run.meta.trainImages} Training images (blank images dropped${run.meta.ferplus ? ', FER+ "not a face" images dropped' : ''}), epoch chosen on ${chosen}, reported on PrivateTest`,
    trainImages: run.meta.trainImages, classCounts: run.meta.classCounts, seed: a.seed, initialisedFrom: a.init ?? undefined,
    epochsDone: run.meta.epochsDone, bestEpoch: run.meta.bestEpoch, trainSeconds: run.meta.trainSeconds, history: run.meta.history,
    ...(run.meta.publicTestFilmed ? { publicTestFilmed: run.meta.publicTestFilmed } : {}), ...(run.meta.ferplus ? { ferplus: run.meta.ferplus } : {}),
    ...(adjustment ? { logitAdjustment: adjustment } : {}),
  },
  evaluation,
};
fs.mkdirSync(out, { recursive: true });
await saveModelDir(model, out, card);
console.log(`wrote ${out} (version ${version}); PublicTest ${(evaluation['fer2013-PublicTest'].accuracy * 100).toFixed(2)}% / ${(evaluation['fer2013-PublicTest'].balancedAccuracy * 100).toFixed(2)}%`);

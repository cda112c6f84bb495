/** `emostream evaluate`: scores a model (ours or Human's) on any labelled folder, as JSON and as a report. */
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadTf, type BackendChoice } from '@emostream/runtime';
import { loadEmotionModel, type EmotionModel } from '@emostream/classifier';
import {
  DataError, isCkFolder, isFerFolder, loadCkFolder, loadFerFolders, loadFerPlus, loadLabelFolder, readPathColumn, subset,
  summarise, renderEvaluationReport, type LabelledSet, type EpochRecord,
} from '@emostream/retrain';
import { EMOTIONS } from '@emostream/contracts';
import { INPUT_PIXELS, recordEvaluation, type EvaluationSummary } from '@emostream/model';
import { parseLabelMap } from './options.js';

const FER_SPLITS = ['PrivateTest', 'PublicTest', 'Training'] as const;

/** Scores a model on a set, batch by batch. */
export async function scoreSet(model: EmotionModel, set: LabelledSet, name: string, data: string): Promise<EvaluationSummary> {
  const n = set.labels.length, k = EMOTIONS.length;
  const probs = new Float32Array(n * k);
  for (let i = 0; i < n; i += 256) {
    const crops: Uint8Array[] = [];
    for (let j = i; j < Math.min(n, i + 256); j++) crops.push(set.images.subarray(j * INPUT_PIXELS, (j + 1) * INPUT_PIXELS));
    probs.set(await model.predict(crops), i * k);
  }
  return summarise(name, data, set.labels, probs);
}

/** Loads the evaluation set of a folder; for FER-2013, also the variants without duplicates/blank. */
async function loadEvalSets(data: string, split: string | undefined, equalize: boolean, labelMap: Record<string, string>, warn: (m: string) => void, ferplus?: string) {
  const opts = { cacheDir: path.resolve('.cache/datasets'), warn, labelMap, equalize };
  if (ferplus) {
    if (!isFerFolder(data)) throw new DataError(`--ferplus needs --data to be the FER-2013 folder (train/ test/), got ${data}`);
    const votes = path.join(ferplus, 'fer2013new.csv'), mapping = path.join(ferplus, 'mapping.csv');
    for (const f of [votes, mapping]) if (!fsSync.existsSync(f)) throw new DataError(`${f} is missing: --ferplus needs fer2013new.csv and mapping.csv`);
    const which = (split ?? 'PrivateTest') as (typeof FER_SPLITS)[number];
    if (!FER_SPLITS.includes(which)) throw new DataError(`--split must be one of ${FER_SPLITS.join(', ')}, got '${split}'`);
    const sets = await loadFerPlus(data, votes, mapping, opts);
    return { set: sets[which], name: `ferplus-majority-${which}`, variants: {} };
  }
  if (isFerFolder(data)) {
    const which = (split ?? 'PrivateTest') as (typeof FER_SPLITS)[number];
    if (!FER_SPLITS.includes(which)) throw new DataError(`--split must be one of ${FER_SPLITS.join(', ')} for FER-2013, got '${split}'`);
    const fer = await loadFerFolders(data, opts);
    const set = fer[which];
    const variants: Record<string, LabelledSet> = {};
    if (which !== 'Training') {
      // Test images whose exact pixels also occur in Training (duplicates.csv groups).
      const rows = (await fs.readFile(path.join(data, 'duplicates.csv'), 'utf8').catch(() => '')).trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
      const groupsWithTraining = new Set(rows.filter((r) => r[2] === 'Training').map((r) => r[0]));
      const dup = new Set(rows.filter((r) => groupsWithTraining.has(r[0]) && r[2] !== 'Training').map((r) => r[1]));
      const blank = await readPathColumn(path.join(data, 'blank.csv'));
      if (dup.size) variants.withoutTrainingDuplicates = subset(set, (i) => !dup.has(set.ids[i]));
      if (blank.size) variants.withoutBlank = subset(set, (i) => !blank.has(set.ids[i]));
    }
    return { set, name: `fer2013-${which}`, variants };
  }
  if (isCkFolder(data)) return { set: await loadCkFolder(data, opts), name: 'ckplus', variants: {} };
  return { set: await loadLabelFolder(data, opts), name: path.basename(path.resolve(data)), variants: {} };
}

/** Registers `evaluate` on the program. */
export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('score a model on a labelled folder: accuracy, balanced accuracy, per-class P/R/F1, confusion matrix, calibration')
    .requiredOption('--data <dir>', 'FER-2013 folder (train/ test/), CK+ folder, or <label>/<image> folders')
    .option('--model <dir>', 'model directory, or `human` for Human\'s emotion model (default: the shipped model)')
    .option('--split <name>', 'FER-2013 split: PrivateTest (default), PublicTest or Training')
    .option('--json', 'print one JSON object on stdout', false)
    .option('--report <file>', 'write the HTML report here (default: evaluation.html in the current folder)')
    .option('--label-map <pairs>', 'extra label synonyms, e.g. contempt=disgust')
    .option('--ferplus <dir>', 'score against FER+ majority votes (folder with fer2013new.csv and mapping.csv); --data is the FER-2013 folder')
    .option('--record', 'also store the result in the model directory\'s card.json (evaluation.<test set>)', false)
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .action(async (o) => {
      const rt = await loadTf(o.backend as BackendChoice);
      const model = await loadEmotionModel(rt.tf, { model: o.model });
      if (o.record && !model.dir) throw new Error('--record needs a model directory (--model DIR), not a built-in model');
      const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
      // Human's model was trained on plain gray faces; ours on equalised ones: each gets its own input.
      const { set, name, variants } = await loadEvalSets(o.data, o.split, o.model !== 'human', parseLabelMap(o.labelMap), warn, o.ferplus);
      const skipped = Object.entries(set.skippedLabels);
      const main = await scoreSet(model, set, model.version, name);
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(variants)) {
        const s = await scoreSet(model, v, model.version, `${name}-${k}`);
        extra[k] = { n: s.n, accuracy: s.accuracy, balancedAccuracy: s.balancedAccuracy };
      }
      const result = { ...main, model: model.version, data: name, ...(Object.keys(extra).length ? { variants: extra } : {}), ...(skipped.length ? { skippedLabels: set.skippedLabels } : {}), unreadable: set.unreadable.length, backend: rt.provider };
      const reportFile = o.report ?? 'evaluation.html';
      let history: EpochRecord[] | undefined;
      if (model.dir) {
        try { history = (JSON.parse(await fs.readFile(path.join(model.dir, 'card.json'), 'utf8')).training?.history) as EpochRecord[]; } catch { /* no card history */ }
      }
      if (o.record && model.dir) {
        await recordEvaluation(model.dir, name, { ...result, command: `emostream evaluate --model ${o.model ?? model.dir} --data ${o.data}${o.split ? ` --split ${o.split}` : ''}${o.ferplus ? ` --ferplus ${o.ferplus}` : ''}` });
      }
      await fs.writeFile(reportFile, renderEvaluationReport({ title: `Evaluation of ${model.version} on ${name}`, model: model.version, results: [main], history }));
      if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(`${model.version} on ${name}: accuracy ${(main.accuracy * 100).toFixed(2)}%, balanced ${(main.balancedAccuracy * 100).toFixed(2)}%, ECE ${main.ece.toFixed(3)} (n=${main.n})\n`);
        for (const [k, v] of Object.entries(extra)) process.stdout.write(`  ${k}: ${JSON.stringify(v)}\n`);
        process.stdout.write(`report: ${reportFile}\n`);
      }
      model.dispose();
    });
}

/**
 * Selection never touches PrivateTest: on a small FER-2013-style folder, PrivateTest files stay
 * out of training, out of the set that chooses the epoch and τ, and out of the publish decision;
 * files without a split prefix are reported; CK+ folds keep subjects apart.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EMOTIONS } from '@emostream/contracts';
import { INPUT_PIXELS } from '@emostream/model';
import { loadTf } from '@emostream/runtime';
import { concat, ferSplitOf, loadCkFolder, loadFerFolders, loadPipelineCrops, pick, type LabelledSet } from './datasets.js';
import { loadTrainSplits, runTrainJob } from './job.js';
import { crossValidationFolds } from './crossval.js';
import { evaluateModel, type Predictor } from './evaluate.js';
import { publishDecision, SelectionError } from './selection.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-selection-'));
const FER = path.join(tmp, 'fer2013');
const CK = path.join(tmp, 'ck');
const cwd = process.cwd();

let seed = 1;
/** A 48x48 gray noise image, different for every call, as PNG or JPEG. */
async function writeFace(file: string): Promise<void> {
  const px = Buffer.alloc(INPUT_PIXELS);
  let s = seed++ * 2654435761;
  for (let i = 0; i < px.length; i++) { s = (s * 1103515245 + 12345) >>> 0; px[i] = s >>> 24; }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp(px, { raw: { width: 48, height: 48, channels: 1 } });
  await (file.endsWith('.jpg') ? img.jpeg({ quality: 95 }) : img.png()).toFile(file);
}

/** The FER-2013 layout of ../shared/data/fer2013: train/<class>/Training_*, test/<class>/{PublicTest,PrivateTest}_*. */
const FER_FILES = {
  Training: ['train/happy/Training_1.png', 'train/happy/Training_2.jpg', 'train/sad/Training_3.png', 'train/sad/Training_4.jpg', 'train/angry/Training_5.png', 'train/angry/Training_6.png'],
  PublicTest: ['test/happy/PublicTest_11.png', 'test/happy/PublicTest_12.jpg', 'test/sad/PublicTest_13.png', 'test/angry/PublicTest_14.png'],
  // One misplaced under train/: the name, not the folder, says which split a file is.
  PrivateTest: ['test/happy/PrivateTest_21.png', 'test/sad/PrivateTest_22.jpg', 'test/angry/PrivateTest_23.png', 'train/happy/PrivateTest_24.png'],
  unknown: ['train/sad/Holdout_31.png', 'test/neutral/Holdout_32.jpg'],
};

/** CK+-style: file names that do not name the subject, subject ids in index.csv only. */
const CK_SUBJECTS = ['S005', 'S010', 'S011', 'S022', 'S026', 'S034'];

before(async () => {
  for (const f of Object.values(FER_FILES).flat()) await writeFace(path.join(FER, f));
  const rows = ['path,label,subject,sequence,frame'];
  let k = 0;
  for (const [s, subject] of CK_SUBJECTS.entries()) {
    for (const label of ['anger', 'happy', 'surprise']) {
      for (let frame = 0; frame < 1 + (s % 3); frame++) {
        const rel = `${label}/img_${String(k++).padStart(4, '0')}.png`;
        await writeFace(path.join(CK, rel));
        rows.push(`${rel},${label},${subject},001,${frame}`);
      }
    }
  }
  fs.writeFileSync(path.join(CK, 'index.csv'), rows.join('\n') + '\n');
  // The loaders cache decoded sets under ./.cache: keep that in the temp folder.
  process.chdir(tmp);
});
after(() => { process.chdir(cwd); fs.rmSync(tmp, { recursive: true, force: true }); });

const sorted = (ids: Iterable<string>) => [...ids].sort();
const privateIds = () => sorted(FER_FILES.PrivateTest);
function assertNoPrivate(set: LabelledSet, role: string): void {
  const bad = set.ids.filter((id) => FER_FILES.PrivateTest.includes(id) || ferSplitOf(id) === 'PrivateTest');
  assert.deepEqual(bad, [], `PrivateTest files in the ${role} set`);
}

test('the FER-2013 loader splits by file-name prefix and reports files without one', async () => {
  const warnings: string[] = [];
  const fer = await loadFerFolders(FER, { warn: (m) => warnings.push(m) });
  assert.deepEqual(sorted(fer.Training.ids), sorted(FER_FILES.Training));
  assert.deepEqual(sorted(fer.PublicTest.ids), sorted(FER_FILES.PublicTest));
  assert.deepEqual(sorted(fer.PrivateTest.ids), privateIds());
  assertNoPrivate(fer.Training, 'Training');
  assertNoPrivate(fer.PublicTest, 'PublicTest');
  // Not dropped silently: one warning with the count and an example file.
  const unknown = warnings.filter((w) => /without a FER-2013 split prefix/.test(w));
  assert.equal(unknown.length, 1, warnings.join('\n'));
  assert.match(unknown[0], /^2 images under .* without a FER-2013 split prefix \(Training_, PublicTest_, PrivateTest_\), e\.g\. (train\/sad\/Holdout_31\.png|test\/neutral\/Holdout_32\.jpg): left out of every split$/);
  for (const s of [fer.Training, fer.PublicTest, fer.PrivateTest]) assert.ok(!s.ids.some((id) => id.includes('Holdout_')));
});

test('training and the epoch/τ selection set hold no PrivateTest file; the scheduled run does not score it', async () => {
  const log: string[] = [];
  const splits = await loadTrainSplits({ data: FER, split: 'official', log: (l) => log.push(l) }, { seed: 7 });
  assert.deepEqual(sorted(splits.train.ids), sorted(FER_FILES.Training));
  assertNoPrivate(splits.train, 'training');
  // `train` picks the best epoch, and `--logit-adjustment auto` τ, on splits.val.
  assert.equal(splits.valName, 'fer2013-PublicTest');
  assert.equal(splits.valHeldOut, true);
  assert.deepEqual(sorted(splits.val.ids), sorted(FER_FILES.PublicTest));
  assertNoPrivate(splits.val, 'validation');
  assert.ok(log.some((l) => /^warning: 2 images .* without a FER-2013 split prefix/.test(l)), log.join('\n'));
  // A person's run reports PrivateTest; the scheduled retrain's (--no-final-test) does not score it.
  assert.deepEqual(Object.keys(splits.tests).sort(), ['fer2013-PrivateTest', 'fer2013-PublicTest']);
  const scheduled = await loadTrainSplits({ data: FER, split: 'official', finalTest: false, log: () => {} }, { seed: 7 });
  assert.deepEqual(Object.keys(scheduled.tests), ['fer2013-PublicTest']);
});

test('the train job refuses PrivateTest files in a plain <label>/<image> folder', async () => {
  const mixed = path.join(tmp, 'mixed');
  for (const f of ['happy/a_1.png', 'happy/a_2.png', 'sad/a_3.png', 'sad/PrivateTest_4.png', 'angry/a_5.png', 'angry/a_6.png']) await writeFace(path.join(mixed, f));
  await assert.rejects(loadTrainSplits({ data: mixed, split: 'official', log: () => {} }, { seed: 7 }),
    (e: Error) => e instanceof SelectionError && /1 PrivateTest image in the (training|validation \(holdout-20\)) set, e\.g\. sad\/PrivateTest_4\.png/.test(e.message));
});

test('the scheduled run end to end: trains on Training, chooses on PublicTest, never scores PrivateTest', async () => {
  const { tf } = await loadTf();
  const log: string[] = [];
  const dir = await runTrainJob({
    tf, backend: 'test', data: FER, config: 'best', out: path.join(tmp, 'run'), split: 'official', epochs: 1, batchSize: 4,
    finalTest: false, log: (l) => log.push(l),
  });
  assert.ok(dir);
  const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8'));
  assert.equal(card.training.trainImages, FER_FILES.Training.length);
  assert.deepEqual(Object.keys(card.evaluation), ['fer2013-PublicTest']);
  assert.equal(card.evaluation['fer2013-PublicTest'].n, FER_FILES.PublicTest.length);
  assert.equal(typeof card.training.history[0].valAccuracy, 'number', 'the epoch was scored on the validation split');
  assert.match(card.training.splitDescription, /model chosen on PublicTest \(4\), PrivateTest \(4\) not scored by this run/);
  assert.ok(!log.some((l) => /^fer2013-PrivateTest:/.test(l)), log.join('\n'));
});

test('pipeline crops: Training faces only, trained beside the stills with their source ids and marked as filmed, never scored', async () => {
  const crops = path.join(tmp, 'crops');
  for (const f of ['happy/Training_1.png', 'sad/Training_3.png', 'angry/Training_5.png']) await writeFace(path.join(crops, f));
  const set = await loadPipelineCrops(crops, {});
  // The source file's FER-2013 path (for FER+ votes), Training, marked as already filmed.
  assert.deepEqual(sorted(set.ids), ['train/angry/Training_5.jpg', 'train/happy/Training_1.jpg', 'train/sad/Training_3.jpg']);
  assert.deepEqual([...set.prefilmed!], [1, 1, 1]);
  // concat and pick carry the mark (and one-hot targets beside a set with soft ones).
  const fer = await loadFerFolders(FER, {});
  const both = concat({ ...fer.Training, soft: new Float32Array(fer.Training.labels.length * EMOTIONS.length).fill(1 / EMOTIONS.length) }, set);
  assert.deepEqual([...both.prefilmed!], [...new Array(fer.Training.labels.length).fill(0), 1, 1, 1]);
  const last = both.labels.length - 1;
  assert.equal(both.soft![last * EMOTIONS.length + both.labels[last]], 1);
  assert.deepEqual([...pick(both, [last, 0]).prefilmed!], [1, 0]);
  // The train job adds them to Training, and only there.
  const splits = await loadTrainSplits({ data: FER, split: 'official', log: () => {} }, { seed: 7 });
  const log: string[] = [];
  const dir = await runTrainJob({
    tf: (await loadTf()).tf, backend: 'test', data: FER, config: 'best', out: path.join(tmp, 'run-crops'), split: 'official', epochs: 1, batchSize: 4,
    finalTest: false, pipelineCrops: crops, log: (l) => log.push(l),
  });
  const card = JSON.parse(fs.readFileSync(path.join(dir!, 'card.json'), 'utf8'));
  assert.equal(card.training.trainImages, splits.train.labels.length + 3);
  assert.equal(card.evaluation['fer2013-PublicTest'].n, FER_FILES.PublicTest.length);
  assert.match(card.training.splitDescription, /plus 3 of its Training faces as the pipeline cropped them \(crops\)/);
  // A crop named after a test face is refused, naming the file.
  await writeFace(path.join(crops, 'sad/PrivateTest_22.png'));
  await assert.rejects(loadPipelineCrops(crops, {}), /sad\/PrivateTest_22\.png is not named after a FER-2013 Training image/);
});

/** Predicts `happy` for every crop, and remembers the crops it saw. */
function fakeModel(): Predictor & { seen: Uint8Array[] } {
  const seen: Uint8Array[] = [];
  return {
    version: 'fake', seen,
    async predict(crops) {
      const p = new Float32Array(crops.length * EMOTIONS.length);
      crops.forEach((c, i) => { seen.push(Uint8Array.from(c)); p[i * EMOTIONS.length + EMOTIONS.indexOf('happy')] = 1; });
      return p;
    },
  };
}

test('the publish decision is made on PublicTest and refuses PrivateTest', async () => {
  const fer = await loadFerFolders(FER, {});
  const privateCrops = Array.from({ length: fer.PrivateTest.labels.length }, (_, i) => Buffer.from(fer.PrivateTest.images.subarray(i * INPUT_PIXELS, (i + 1) * INPUT_PIXELS)).toString('hex'));
  // What docker/retrain.sh runs: evaluate --split PublicTest, then publish-decision on its JSON.
  const m = fakeModel();
  const candidate = (await evaluateModel(m, { data: FER, split: 'PublicTest', backend: 'test' })).result;
  assert.equal(candidate.data, 'fer2013-PublicTest');
  assert.equal(candidate.n, FER_FILES.PublicTest.length);
  assert.equal(m.seen.length, FER_FILES.PublicTest.length);
  for (const c of m.seen) assert.ok(!privateCrops.includes(Buffer.from(c).toString('hex')), 'the model was shown a PrivateTest image');
  const json = JSON.parse(JSON.stringify(candidate));
  // 2 of the 4 PublicTest faces are happy.
  assert.equal(candidate.accuracy, 0.5);
  const yes = publishDecision(json, undefined, { minAccuracy: 0.5 });
  assert.deepEqual([yes.publish, yes.split, yes.data], [true, 'PublicTest', 'fer2013-PublicTest']);
  assert.match(yes.reason, /^accuracy 0\.5000 on fer2013-PublicTest \(n=4\) reaches the minimum 0\.5$/);
  assert.equal(publishDecision(json, undefined, { minAccuracy: 0.6 }).publish, false);
  // Compared with the current model on the same set.
  assert.equal(publishDecision(json, { ...json, accuracy: 0.25 }, { minAccuracy: 0.4 }).publish, true);
  assert.equal(publishDecision(json, { ...json, accuracy: 0.75, model: 'v1' }, { minAccuracy: 0.4 }).publish, false);
  assert.throws(() => publishDecision(json, { ...json, n: 3589 }, { minAccuracy: 0.4 }), /different sets/);

  // `evaluate` without --split still scores PrivateTest (a person's one-off report)...
  const report = (await evaluateModel(fakeModel(), { data: FER, backend: 'test' })).result;
  assert.equal(report.data, 'fer2013-PrivateTest');
  // ...and no decision is ever made on it, for the candidate or the current model.
  const onTest = /scored on (fer2013|ferplus-majority)-PrivateTest, the test split: the publish decision never uses PrivateTest/;
  assert.throws(() => publishDecision(JSON.parse(JSON.stringify(report)), undefined, { minAccuracy: 0 }), onTest);
  assert.throws(() => publishDecision(json, { ...json, data: 'fer2013-PrivateTest' }, { minAccuracy: 0 }), onTest);
  assert.throws(() => publishDecision({ ...json, data: 'ferplus-majority-PrivateTest' }, undefined, { minAccuracy: 0 }), onTest);
  assert.throws(() => publishDecision(json, undefined, { minAccuracy: 0, split: 'PrivateTest' }), /uses the validation split PublicTest, not PrivateTest/);
  assert.throws(() => publishDecision({ ...json, data: 'fer2013-Training' }, undefined, { minAccuracy: 0 }), /publish decision uses PublicTest/);
  assert.throws(() => publishDecision({ accuracy: 0.9 } as never, undefined, { minAccuracy: 0 }), /not an `emostream evaluate --json` result/);
  // Data without FER-2013 splits (a <label>/<image> validation folder, CK+) is decided on as it is.
  assert.equal(publishDecision({ ...json, data: 'test' }, undefined, { minAccuracy: 0.5 }).publish, true);
});

/** Asserts that every fold keeps subjects apart and every image is tested exactly once. */
function assertFoldsKeepSubjectsApart(set: LabelledSet, k: number): void {
  const folds = crossValidationFolds(set.groups, k, 7);
  assert.equal(folds.length, k);
  const tested = new Array(set.labels.length).fill(0);
  folds.forEach(({ trainIdx, testIdx }, f) => {
    const trainSubjects = new Set(trainIdx.map((i) => set.groups[i]));
    const testSubjects = new Set(testIdx.map((i) => set.groups[i]));
    assert.ok(testSubjects.size > 0, `fold ${f + 1} tests no subject`);
    assert.deepEqual([...testSubjects].filter((s) => trainSubjects.has(s)), [], `fold ${f + 1}: subjects on both sides`);
    assert.equal(trainIdx.length + testIdx.length, set.labels.length);
    for (const i of testIdx) tested[i]++;
  });
  assert.ok(tested.every((c) => c === 1));
}

test('CK+ folds keep subjects apart (subject ids from index.csv)', async () => {
  const ck = await loadCkFolder(CK, {});
  // The file names say nothing of the subject: the groups come from index.csv.
  assert.deepEqual(sorted(new Set(ck.groups)), CK_SUBJECTS);
  assertFoldsKeepSubjectsApart(ck, 3);
  // The train job's subject-independent split of a CK+ folder, too.
  const splits = await loadTrainSplits({ data: CK, split: 'official', log: () => {} }, { seed: 7 });
  const trainSubjects = new Set(splits.train.groups);
  assert.ok(splits.val.groups.length > 0);
  assert.deepEqual(splits.val.groups.filter((s) => trainSubjects.has(s)), []);
});

const REAL_CK = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../../shared/data/ckplus48');
test('CK+48 (../shared/data, read in place): 10 folds keep its subjects apart', { skip: fs.existsSync(REAL_CK) ? undefined : `${REAL_CK} is absent` }, async () => {
  const ck = await loadCkFolder(REAL_CK, {});
  const index = fs.readFileSync(path.join(REAL_CK, 'index.csv'), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
  const subjectOf = new Map(index.map((c) => [c[0], c[2]]));
  ck.ids.forEach((id, i) => assert.equal(ck.groups[i], subjectOf.get(id), id));
  assertFoldsKeepSubjectsApart(ck, 10);
});

test('--select-on ferplus: the epoch and τ are chosen on FER+\'s majority vote of PublicTest, never on PrivateTest', async () => {
  const fp = path.join(tmp, 'ferplus');
  fs.mkdirSync(fp, { recursive: true });
  // Votes in FERPLUS_COLUMNS order: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF.
  const votes: Record<string, number[]> = {
    'test/happy/PublicTest_11.png': [7, 3, 0, 0, 0, 0, 0, 0, 0, 0], // FER-2013 says happy, FER+ neutral
    'test/happy/PublicTest_12.jpg': [0, 10, 0, 0, 0, 0, 0, 0, 0, 0],
    'test/sad/PublicTest_13.png': [0, 0, 0, 0, 0, 0, 0, 0, 10, 0], // unknown: not a label, dropped
    'test/angry/PublicTest_14.png': [0, 0, 0, 2, 8, 0, 0, 0, 0, 0],
  };
  for (const f of [...FER_FILES.Training, ...FER_FILES.PrivateTest]) votes[f] = [1, 0, 0, 8, 1, 0, 0, 0, 0, 0];
  const usage = (f: string) => path.basename(f).split('_')[0];
  const entries = Object.entries(votes);
  fs.writeFileSync(path.join(fp, 'fer2013new.csv'), ['Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF',
    ...entries.map(([f, v], i) => `${usage(f)},fer${String(i).padStart(7, '0')}.png,${v.join(',')}`)].join('\n') + '\n');
  fs.writeFileSync(path.join(fp, 'mapping.csv'), ['ferplus_row,usage,ferplus_image,fer2013_path,mad,second_best_mad,match',
    ...entries.map(([f], i) => `${i},${usage(f)},fer${String(i).padStart(7, '0')}.png,${f},1.0,30.0,unique`)].join('\n') + '\n');
  const log: string[] = [];
  const dir = await runTrainJob({
    tf: (await loadTf()).tf, backend: 'test', data: FER, config: 'best', out: path.join(tmp, 'run-ferplus'), split: 'official', epochs: 1, batchSize: 4,
    finalTest: false, ferplus: fp, ferPlusWeight: 1, selectOn: 'ferplus', logitAdjustment: 'auto', log: (l) => log.push(l),
  });
  assert.ok(log.includes('validation: FER+ majority vote of PublicTest, 3 faces'), log.join('\n'));
  assert.ok(log.some((l) => /^logit adjustment τ=0\.0: ferplus-majority-PublicTest accuracy/.test(l)), 'τ is chosen on the FER+ majority');
  const card = JSON.parse(fs.readFileSync(path.join(dir!, 'card.json'), 'utf8'));
  assert.deepEqual(Object.keys(card.evaluation).sort(), ['fer2013-PublicTest', 'ferplus-majority-PublicTest']);
  assert.equal(card.evaluation['ferplus-majority-PublicTest'].n, 3);
  assert.match(card.training.splitDescription, /chosen on FER\+'s majority vote of PublicTest \(3\)/);
  assert.ok(!log.some((l) => /PrivateTest:/.test(l)), log.join('\n'));
  // Without --ferplus it says what to pass.
  await assert.rejects(runTrainJob({
    tf: (await loadTf()).tf, backend: 'test', data: FER, config: 'best', out: path.join(tmp, 'run-ferplus2'), split: 'official', epochs: 1, batchSize: 4,
    finalTest: false, selectOn: 'ferplus', log: () => {},
  }), /--select-on ferplus .* needs --data with the FER-2013 folder, --split official and --ferplus/);
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stageSettings } from './stageSettings.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-settings-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

test('--set: section.key=value, the value converted by the field\'s type (as the env reader does)', () => {
  assert.deepEqual(stageSettings({ set: ['detector.minScore=0.4', 'detector.align=false', 'detector.detector=haar', 'aggregator.smoothingMs=300', 'classifier.reuseMaxMs=0'] }),
    { detectorSettings: { minScore: 0.4, align: false, detector: 'haar' }, classifierSettings: { reuseMaxMs: 0 }, aggregatorSettings: { smoothingMs: 300 } });
  assert.deepEqual(stageSettings({}), { detectorSettings: {}, classifierSettings: {}, aggregatorSettings: {} });
  // A later --set wins.
  assert.equal(stageSettings({ set: ['aggregator.smoothingMs=300', 'aggregator.smoothingMs=400'] }).aggregatorSettings.smoothingMs, 400);
});

test('--config FILE: JSON sections, --set over it', () => {
  const cfg = file('ok.json', JSON.stringify({ detector: { minFaceSizePx: 48, maxFaces: 4 }, aggregator: { minDwellMs: 600 } }));
  assert.deepEqual(stageSettings({ config: cfg, set: ['detector.maxFaces=2'] }),
    { detectorSettings: { minFaceSizePx: 48, maxFaces: 2 }, classifierSettings: {}, aggregatorSettings: { minDwellMs: 600 } });
  assert.deepEqual(stageSettings({ config: file('one.json', '{ "aggregator": { "cameraIdleMs": 0 }, "classifier": { "reuseMaxChange": 0.05 } }') }),
    { detectorSettings: {}, classifierSettings: { reuseMaxChange: 0.05 }, aggregatorSettings: { cameraIdleMs: 0 } });
});

test('unknown sections and keys fail naming the file (or option) and the key, listing the valid ones', () => {
  const badSection = file('section.json', '{ "detectr": {} }');
  assert.throws(() => stageSettings({ config: badSection }), { message: `--config ${badSection}: unknown section "detectr"; valid: detector, classifier, aggregator` });
  const badKey = file('key.json', '{ "aggregator": { "smoothing": 300 } }');
  assert.throws(() => stageSettings({ config: badKey }), new RegExp(`^Error: --config ${badKey}: unknown key aggregator\\.smoothing; valid aggregator keys: smoothingMs, smoothingSpace, smoothingWarmup, minDwellMs, `));
  // The aggregator service's transactional id is not a setting of an analyze run.
  assert.throws(() => stageSettings({ set: ['aggregator.transactionalId=x'] }), /^Error: --set aggregator\.transactionalId=x: unknown key aggregator\.transactionalId; valid aggregator keys: /);
  // The classifier section is the stage's batching and reuse: the model has its own option, the breaker and polling are the service's.
  assert.throws(() => stageSettings({ set: ['classifier.model=x'] }),
    { message: '--set classifier.model=x: unknown key classifier.model; valid classifier keys: maxWaitMs, maxBatchFrames, reuseMaxMs, reuseMinMs, reuseMaxChange, reuseMinIou, reuseMaxCameras, mirrorPairMs, worker, head' });
  assert.throws(() => stageSettings({ set: ['classifer.maxWaitMs=5'] }), { message: '--set classifer.maxWaitMs=5: unknown section "classifer"; valid: detector, classifier, aggregator' });
  assert.throws(() => stageSettings({ set: ['minScore=0.4'] }), { message: '--set expects section.key=value (e.g. detector.minScore=0.4), got \'minScore=0.4\'' });
  assert.throws(() => stageSettings({ config: file('bad.json', '{ detector: 1 }') }), /^Error: --config .*bad\.json: not JSON/);
  assert.throws(() => stageSettings({ config: path.join(dir, 'missing.json') }), /^Error: --config .*missing\.json: cannot be read \(ENOENT\)$/);
});

test('bad values fail with one line naming the option and the valid range', () => {
  assert.throws(() => stageSettings({ set: ['detector.minScore=high'] }), { message: '--set detector.minScore=high: not a number (a number from 0 to 1)' });
  assert.throws(() => stageSettings({ set: ['detector.align=yes'] }), { message: '--set detector.align=yes: must be true, false, 1 or 0' });
  assert.throws(() => stageSettings({ set: ['detector.minScore=2'] }),
    { message: 'bad detector settings: --set detector.minScore=2: Too big: expected number to be <=1 (a number from 0 to 1)' });
  const cfg = file('range.json', '{ "aggregator": { "confirmHits": 2.5 } }');
  assert.throws(() => stageSettings({ config: cfg }),
    { message: `bad aggregator settings: --config ${cfg} (aggregator.confirmHits): Invalid input: expected int, received number (a whole number > 0)` });
  // A bad combination names the fields as the command line does.
  assert.throws(() => stageSettings({ set: ['detector.minScore=0.2'] }),
    /^Error: bad detector settings: detector\.candidateScore: detector\.candidateScore \(0\.3\) must be <= detector\.minScore \(0\.2\)/);
  assert.throws(() => stageSettings({ set: ['classifier.reuseMaxMs=-1'] }), /^Error: bad classifier settings: --set classifier\.reuseMaxMs=-1: Too small/);
  for (const o of [{ set: ['detector.minScore=2'] }, { set: ['aggregator.smoothingMs=-1'] }]) {
    assert.throws(() => stageSettings(o), (e: Error) => !e.message.includes('\n'));
  }
});

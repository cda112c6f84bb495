import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, of, toArray } from 'rxjs';
import { Registry } from 'prom-client';
import { silentLogger, type Logger } from '@emostream/runtime';
import type { FacesMessage } from '@emostream/contracts';
import { ClassifierBreaker, DEFAULT_BREAKER_FAILED_BATCHES } from './breaker.js';
import { classifyFaces } from './classifyFaces.js';
import type { EmotionModel } from './emotionModel.js';

const frame = (seq: number, faces: number, fill = seq): FacesMessage => ({
  frame: { schemaVersion: 1, cameraId: 'cam', seq, mediaTimeMs: seq * 100, capturedAtMs: 1e12 + seq, width: 64, height: 64 },
  faces: Array.from({ length: faces }, (_, k) => ({ box: { x: k, y: 0, width: 10, height: 10 }, score: 0.9, crop: new Uint8Array(2304).fill(fill) })),
});

function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => { lines.push({ level, msg, fields }); };
  const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

const gauge = async (registry: Registry, name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;

test('the breaker opens at the Nth failed batch in a row, says why on /healthz and in its gauges, and a success closes it', async () => {
  const registry = new Registry();
  const log = recordingLogger();
  let now = 1_000;
  const b = new ClassifierBreaker({ failedBatches: 3, logger: log, registry, now: () => now });
  assert.deepEqual(b.health(), { ok: true, reasons: [] });
  assert.equal(await gauge(registry, 'emostream_classifier_breaker_open'), 0);
  b.failure(new Error('CUDA error: an illegal memory access was encountered\n  at …'));
  b.failure(new Error('CUDA error: an illegal memory access was encountered'));
  assert.equal(b.open, false, 'two failed batches: not yet');
  assert.equal(await gauge(registry, 'emostream_classifier_failed_batches'), 2);
  b.success();
  assert.equal(b.consecutiveFailures, 0, 'a success in between starts the count again');
  for (let i = 0; i < 3; i++) b.failure(new Error('CUDA error: an illegal memory access was encountered'));
  assert.equal(b.open, true);
  assert.equal(await gauge(registry, 'emostream_classifier_breaker_open'), 1);
  assert.equal(await gauge(registry, 'emostream_classifier_failed_batches'), 3);
  assert.deepEqual(b.health(), {
    ok: false,
    reasons: ['classifier circuit breaker open: the model failed every call of 3 batches in a row (threshold 3); last error: CUDA error: an illegal memory access was encountered'],
  });
  const opened = log.lines.filter((l) => l.level === 'error');
  assert.equal(opened.length, 1, 'one error line when it opens');
  assert.deepEqual(opened[0].fields, { failedBatches: 3, threshold: 3, lastError: 'CUDA error: an illegal memory access was encountered' });
  b.failure(new Error('still broken'));
  assert.equal(log.lines.filter((l) => l.level === 'error').length, 1, 'not logged again while open');
  assert.match(b.health().reasons[0], /4 batches in a row.*last error: still broken$/);
  now += 30_000;
  b.success();
  assert.equal(b.open, false);
  assert.deepEqual(b.health(), { ok: true, reasons: [] });
  assert.equal(await gauge(registry, 'emostream_classifier_breaker_open'), 0);
  assert.deepEqual(log.lines.at(-1), { level: 'info', msg: 'circuit breaker closed: the model classified a batch again', fields: { openForMs: 30_000, failedBatches: 4 } });
});

test('two breakers on one registry (two classifiers in one process) share its gauges', () => {
  const registry = new Registry();
  new ClassifierBreaker({ failedBatches: 5, logger: silentLogger, registry });
  assert.doesNotThrow(() => new ClassifierBreaker({ failedBatches: 5, logger: silentLogger, registry }));
  assert.equal(registry.getMetricsAsArray().filter((m) => m.name === 'emostream_classifier_breaker_open').length, 1);
});

test('failedBatches 0 never opens; the default is 5', () => {
  const b = new ClassifierBreaker({ failedBatches: 0, logger: silentLogger });
  for (let i = 0; i < 1000; i++) b.failure(new Error('x'));
  assert.equal(b.open, false);
  assert.equal(b.consecutiveFailures, 1000);
  assert.equal(DEFAULT_BREAKER_FAILED_BATCHES, 5);
});

test('through the classifier stage: a model that fails every call opens it after 5 batches; frames without faces and a poison frame beside good ones do not count; a model that works again closes it', async () => {
  let broken = true;
  const model: EmotionModel = {
    version: 'v', dispose() {},
    async predict(crops) {
      if (broken || crops.some((c) => c[0] === 99)) throw new Error(broken ? 'backend lost' : 'bad crop');
      return new Float32Array(crops.length * 7).fill(1 / 7);
    },
  };
  const b = new ClassifierBreaker({ failedBatches: DEFAULT_BREAKER_FAILED_BATCHES, logger: silentLogger });
  const run = (frames: FacesMessage[], maxBatchFrames = 1) => lastValueFrom(of(...frames).pipe(classifyFaces({
    model: () => model, config: { maxWaitMs: 0, maxBatchFrames, retries: 1, retryBackoffMs: 1 }, logger: silentLogger, outcome: b,
    failed: (m: FacesMessage) => ({ deadLetter: m.frame.seq }),
  }), toArray()));

  // Frames without faces never call the model: a broken model behind them is not seen, and not counted.
  await run([frame(0, 0), frame(1, 0), frame(2, 0), frame(3, 0), frame(4, 0), frame(5, 0)]);
  assert.equal(b.consecutiveFailures, 0);
  // One frame per batch: four failed batches, then a fifth opens it.
  const out = await run([frame(6, 1), frame(7, 2), frame(8, 0), frame(9, 1), frame(10, 1)]);
  assert.deepEqual(out, [{ deadLetter: 6 }, { deadLetter: 7 }, { ...out[2] }, { deadLetter: 9 }, { deadLetter: 10 }]);
  assert.equal(b.consecutiveFailures, 4);
  assert.equal(b.open, false);
  await run([frame(11, 1)]);
  assert.equal(b.open, true, 'the fifth failed batch in a row');

  // Working again, but one poison frame among good ones: the batch partly succeeded, which closes it.
  broken = false;
  const mixed = await run([frame(12, 1), frame(13, 1, 99), frame(14, 1)], 8);
  assert.deepEqual(mixed.map((m) => ('deadLetter' in m ? 'dead letter' : 'classified')), ['classified', 'dead letter', 'classified']);
  assert.equal(b.open, false);
  assert.equal(b.consecutiveFailures, 0);
  // A poison frame alone is a failed batch (a bad input cannot be told from a bad model), but one in a row.
  await run([frame(15, 1, 99)]);
  assert.equal(b.consecutiveFailures, 1);
  await run([frame(16, 1)]);
  assert.equal(b.consecutiveFailures, 0);
});

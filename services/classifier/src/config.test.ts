import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassifierSettingsSchema, DEFAULT_CLASSIFIER_SETTINGS, REUSE_IDLE_MS, classifierSettingsFromEnv, classifyConfigOf } from './config.js';

test('classifier settings: defaults (the pipeline\'s batching), CLASSIFIER_* names, errors naming the variable', () => {
  assert.deepEqual(DEFAULT_CLASSIFIER_SETTINGS, {
    maxWaitMs: 0, maxBatchFrames: 32, modelPollMs: 10_000, breakerFailedBatches: 5, reuseMaxMs: 300, reuseMinMs: 100, reuseMaxChange: 0.03, reuseMinIou: 0.9, reuseMaxCameras: 512, mirrorPairMs: 300, worker: false, head: 'fer2013',
  });
  for (const [k, field] of Object.entries(ClassifierSettingsSchema.shape)) assert.ok(field.description, `${k} has no description`);
  assert.deepEqual(classifierSettingsFromEnv({ CLASSIFIER_MODEL: '/models/current', CLASSIFIER_MAX_WAIT_MS: '500', CLASSIFIER_MAX_BATCH_FRAMES: '8', CLASSIFIER_MODEL_POLL_MS: '0', CLASSIFIER_BREAKER_FAILED_BATCHES: '0' }),
    { model: '/models/current', maxWaitMs: 500, maxBatchFrames: 8, modelPollMs: 0, breakerFailedBatches: 0, reuseMaxMs: 300, reuseMinMs: 100, reuseMaxChange: 0.03, reuseMinIou: 0.9, reuseMaxCameras: 512, mirrorPairMs: 300, worker: false, head: 'fer2013' });
  assert.deepEqual(classifyConfigOf(classifierSettingsFromEnv({ CLASSIFIER_REUSE_MAX_MS: '0', CLASSIFIER_REUSE_MAX_CHANGE: '0.05' })).reuse,
    { maxMs: 0, minMs: 100, maxChange: 0.05, minIou: 0.9, maxCameras: 512, idleMs: REUSE_IDLE_MS, pairMs: 300 });
  // A model directory named "1" stays the text "1".
  assert.strictEqual(classifierSettingsFromEnv({ CLASSIFIER_MODEL: '1' }).model, '1');
  assert.throws(() => classifierSettingsFromEnv({ CLASSIFIER_MAX_BATCH_FRAMES: '0' }),
    { message: 'invalid classifier settings: CLASSIFIER_MAX_BATCH_FRAMES=0: Too small: expected number to be >=1 (a whole number from 1 to 1024)' });
  assert.throws(() => classifierSettingsFromEnv({ CLASSIFIER_BATCH: '8' }),
    { message: 'invalid classifier settings: CLASSIFIER_BATCH is not a setting; valid CLASSIFIER_* names: CLASSIFIER_MODEL, CLASSIFIER_MAX_WAIT_MS, CLASSIFIER_MAX_BATCH_FRAMES, CLASSIFIER_MODEL_POLL_MS, CLASSIFIER_BREAKER_FAILED_BATCHES, CLASSIFIER_REUSE_MAX_MS, CLASSIFIER_REUSE_MIN_MS, CLASSIFIER_REUSE_MAX_CHANGE, CLASSIFIER_REUSE_MIN_IOU, CLASSIFIER_REUSE_MAX_CAMERAS, CLASSIFIER_MIRROR_PAIR_MS, CLASSIFIER_HEAD, CLASSIFIER_WORKER' });
});

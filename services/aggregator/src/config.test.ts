import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregatorConfigSchema, DEFAULT_AGGREGATOR_CONFIG, aggregatorConfigFromEnv, parseAggregatorConfig } from './config.js';
import { Aggregator } from './aggregator.js';

test('defaults fill every field, and every field has a description', () => {
  assert.deepEqual(parseAggregatorConfig({}), DEFAULT_AGGREGATOR_CONFIG);
  assert.equal(DEFAULT_AGGREGATOR_CONFIG.smoothingMs, 500);
  for (const [key, field] of Object.entries(AggregatorConfigSchema.shape)) {
    assert.ok((field as { description?: string }).description, `${key} has no description`);
  }
});

test('unknown keys, bad values and bad combinations fail with a message naming the field', () => {
  assert.throws(() => parseAggregatorConfig({ smoothing: 300 }), /invalid aggregator config: .*smoothing/);
  assert.throws(() => parseAggregatorConfig({ smoothingMs: -5 }), /smoothingMs/);
  assert.throws(() => parseAggregatorConfig({ confirmHits: 2.5 }), /confirmHits/);
  assert.throws(() => parseAggregatorConfig({ switchMargin: 2 }), /switchMargin/);
  assert.throws(() => parseAggregatorConfig({ maxMissMs: 3000, personTtlMs: 1000 }), /personTtlMs \(1000\) must be >= maxMissMs \(3000\)/);
  assert.throws(() => parseAggregatorConfig({ confirmHits: 6 }), /confirmHits \(6\) must be <= confirmWindowFrames \(5\)/);
  assert.throws(() => new Aggregator({ config: { iouThreshold: -1 } as never }), /iouThreshold/);
});

test('the environment is read with a prefix, numbers parsed, unknown names rejected', () => {
  const cfg = aggregatorConfigFromEnv({ AGGREGATOR_SMOOTHING_MS: '300', AGGREGATOR_CONFIRM_HITS: '2', OTHER: 'x' });
  assert.equal(cfg.smoothingMs, 300);
  assert.equal(cfg.confirmHits, 2);
  assert.equal(cfg.minDwellMs, DEFAULT_AGGREGATOR_CONFIG.minDwellMs);
  assert.throws(() => aggregatorConfigFromEnv({ AGGREGATOR_SMOOTHNESS: '1' }), /SMOOTHNESS/);
  assert.throws(() => aggregatorConfigFromEnv({ AGGREGATOR_MIN_DWELL_MS: 'long' }), /minDwellMs/);
});

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
  assert.throws(() => aggregatorConfigFromEnv({ AGGREGATOR_SMOOTHNESS: '1' }), /AGGREGATOR_SMOOTHNESS is not a setting; valid AGGREGATOR_\* names: AGGREGATOR_SMOOTHING_MS, /);
  // Errors name the variable (what the operator sets) and the valid values.
  assert.throws(() => aggregatorConfigFromEnv({ AGGREGATOR_MIN_DWELL_MS: 'long' }), { message: 'invalid aggregator settings: AGGREGATOR_MIN_DWELL_MS=long: not a number (a number ≥ 0)' });
  assert.throws(() => aggregatorConfigFromEnv({ AGGREGATOR_MAX_MISS_MS: '3000', AGGREGATOR_PERSON_TTL_MS: '1000' }),
    /AGGREGATOR_PERSON_TTL_MS \(1000\) must be >= AGGREGATOR_MAX_MISS_MS \(3000\)/);
});

test('serve aggregator: AGGREGATOR_TRANSACTIONAL_ID is one of the aggregator service settings, read with the others', () => {
  // The documented AGGREGATOR_TRANSACTIONAL_ID once made `serve aggregator` exit at start
  // (`invalid aggregator config: (root): Unrecognized key: "TRANSACTIONAL_ID"`).
  const s = aggregatorConfigFromEnv({ AGGREGATOR_TRANSACTIONAL_ID: 'agg-0', AGGREGATOR_SMOOTHING_MS: '300' });
  assert.equal(s.transactionalId, 'agg-0');
  assert.equal(s.smoothingMs, 300);
  assert.equal(aggregatorConfigFromEnv({}).transactionalId, undefined, 'unset: the service uses <group id>-tx');
});

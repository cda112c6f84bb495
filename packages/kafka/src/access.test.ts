import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KAFKA_USERS, USER_ACCESS, aclTable, aclsFor, allTopicNames, userOfService, userTopicSpecs } from './access.js';

test('the ACL table: each topic written by one user at most, every pipeline topic someone\'s; the README states it', () => {
  const writers = new Map<string, string[]>();
  for (const u of KAFKA_USERS) for (const t of USER_ACCESS[u].write) writers.set(t, [...(writers.get(t) ?? []), u]);
  for (const [t, us] of writers) assert.equal(us.length, 1, `${t} has one writer (${us.join(', ')})`);
  assert.deepEqual(USER_ACCESS.subscriber.write, [], 'the subscriber writes nothing');
  const readme = fs.readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  assert.ok(readme.includes(aclTable()), `packages/kafka/README.md holds the ACL table:\n${aclTable()}`);
});

test('aclsFor: literal topics with the prefix, prefixed groups and transactional ids', () => {
  assert.deepEqual(aclsFor('ingest', { topicPrefix: 't.', groupPrefix: undefined }), [{ resourceType: 'topic', patternType: 'literal', name: 't.frames', operation: 'Write' }]);
  const agg = aclsFor('aggregator', { topicPrefix: '', groupPrefix: 'emostream-' });
  assert.deepEqual(agg.filter((a) => a.resourceType !== 'topic'), [
    { resourceType: 'group', patternType: 'prefixed', name: 'emostream-aggregator', operation: 'Read' },
    { resourceType: 'group', patternType: 'prefixed', name: 'emostream-aggregator', operation: 'Delete' },
    { resourceType: 'transactionalId', patternType: 'prefixed', name: 'emostream-aggregator', operation: 'Write' },
  ]);
  // The subscriber's groups follow `emostream events`' naming: the topic prefix, not the group prefix.
  assert.deepEqual(aclsFor('subscriber', { topicPrefix: 'x.', groupPrefix: 'g-' }).map((a) => a.name), ['x.emotion-events', 'x.emostream-events-']);
});

test('a service creates only the topics it touches', () => {
  const cfg = { topicPrefix: 'p.', partitions: 3, replicationFactor: 1 };
  assert.deepEqual(userTopicSpecs(cfg, userOfService('ingest')).map((s) => s.topic), ['p.frames']);
  assert.deepEqual(userTopicSpecs(cfg, userOfService('api')).map((s) => s.topic), ['p.emotion-events']);
  assert.deepEqual(userTopicSpecs(cfg, 'aggregator').map((s) => s.topic).sort(), ['p.aggregator-state', 'p.emotion-events', 'p.emotions', 'p.emotions.dlq']);
  assert.equal(allTopicNames().length, 9);
  assert.throws(() => userOfService('retrain'), /no Kafka user for service retrain/);
});

/**
 * Who may do what on a secured cluster: one Kafka user per service, each with the least it needs
 * (the ACL table of the README). `scripts/kafka.sh start --secure` creates these ACLs, the
 * Strimzi KafkaUsers in deploy/k8s state the same ones (test/deploy.test.ts compares them), and a
 * service creates (when missing) only the topics it reads or writes.
 */
import type { KafkaConfig } from './config.js';
import { pipelineTopicSpecs, pipelineTopics, type TopicSpec } from './topics.js';

/** The Kafka users of a deployment: the four services and the read-only subscriber of events. */
export const KAFKA_USERS = ['ingest', 'detector', 'classifier', 'aggregator', 'subscriber'] as const;
export type KafkaUser = (typeof KAFKA_USERS)[number];

/** A pipeline topic by its unprefixed name. */
export type TopicName = 'frames' | 'faces' | 'emotions' | 'emotion-events' | 'frames.dlq' | 'faces.dlq' | 'emotions.dlq' | 'emotion-events.dlq' | 'aggregator-state';

/** What one user may do. */
export interface UserAccess {
  /** Topics it consumes (Read, which includes Describe). */
  read: TopicName[];
  /** Topics it produces to (Write, which includes Describe). */
  write: TopicName[];
  /** Its consumer groups: every group whose id starts with this (after the group prefix). */
  groupPrefix?: string;
  /** Its transactional ids start with the group prefix above (the aggregator's `<group>-tx`). */
  transactional?: boolean;
  /** May delete its own groups (the aggregator's throw-away state-restore groups). */
  deleteGroups?: boolean;
}

/**
 * The ACL table. Dead letters: a stage writes those of its input topic (the detector `frames.dlq`,
 * the classifier `faces.dlq`, the aggregator `emotions.dlq`). No user may create, delete or alter
 * topics, or touch another's: topics come from the admin (Strimzi's KafkaTopics, or kafka.sh).
 */
export const USER_ACCESS: Record<KafkaUser, UserAccess> = {
  ingest: { read: [], write: ['frames'] },
  detector: { read: ['frames'], write: ['faces', 'frames.dlq'], groupPrefix: 'detector' },
  classifier: { read: ['faces'], write: ['emotions', 'faces.dlq'], groupPrefix: 'classifier' },
  aggregator: { read: ['emotions', 'aggregator-state'], write: ['emotion-events', 'emotions.dlq', 'aggregator-state'], groupPrefix: 'aggregator', transactional: true, deleteGroups: true },
  // `emostream events`, `serve api` and users' own applications: groups `emostream-events-…`.
  subscriber: { read: ['emotion-events'], write: [], groupPrefix: 'events-' },
};

/** The Kafka user a service process runs as (`serve api` reads events like any subscriber). */
export function userOfService(service: string): KafkaUser {
  if (service === 'api' || service === 'events') return 'subscriber';
  if ((KAFKA_USERS as readonly string[]).includes(service)) return service as KafkaUser;
  throw new Error(`no Kafka user for service ${service}`);
}

/** One ACL (allow) in Kafka's own terms. */
export interface AclEntry {
  resourceType: 'topic' | 'group' | 'transactionalId';
  patternType: 'literal' | 'prefixed';
  name: string;
  operation: 'Read' | 'Write' | 'Describe' | 'Delete';
}

/** The prefixed name of a topic. */
export function topicNameOf(name: TopicName, topicPrefix: string): string {
  return topicPrefix + name;
}

/**
 * The ACLs of a user for a deployment's topic and group naming. Consumer groups and
 * transactional ids are prefixed ACLs: `<groupPrefix><stage>` covers the stage's group, the
 * aggregator's restore groups and its `-tx` id; the subscriber's groups are
 * `<topicPrefix>emostream-events-…` (as `emostream events` names them).
 */
export function aclsFor(user: KafkaUser, naming: Pick<KafkaConfig, 'topicPrefix' | 'groupPrefix'>): AclEntry[] {
  const a = USER_ACCESS[user];
  const out: AclEntry[] = [];
  const topic = (name: TopicName, operation: AclEntry['operation']) => out.push({ resourceType: 'topic', patternType: 'literal', name: topicNameOf(name, naming.topicPrefix), operation });
  for (const t of a.read) topic(t, 'Read');
  for (const t of a.write) topic(t, 'Write');
  if (a.groupPrefix !== undefined) {
    const group = user === 'subscriber'
      ? `${naming.topicPrefix}emostream-${a.groupPrefix}`
      : `${naming.groupPrefix ?? `${naming.topicPrefix}emostream-`}${a.groupPrefix}`;
    out.push({ resourceType: 'group', patternType: 'prefixed', name: group, operation: 'Read' });
    if (a.deleteGroups) out.push({ resourceType: 'group', patternType: 'prefixed', name: group, operation: 'Delete' });
    if (a.transactional) out.push({ resourceType: 'transactionalId', patternType: 'prefixed', name: group, operation: 'Write' });
  }
  return out;
}

/** The topics a user touches, with their settings (what a service creates when missing). */
export function userTopicSpecs(config: Parameters<typeof pipelineTopicSpecs>[0], user: KafkaUser): TopicSpec[] {
  const a = USER_ACCESS[user];
  const mine = new Set([...a.read, ...a.write].map((t) => topicNameOf(t, config.topicPrefix)));
  return pipelineTopicSpecs(config).filter((s) => mine.has(s.topic));
}

/** Every pipeline topic by unprefixed name (for tables and checks). */
export function allTopicNames(): TopicName[] {
  const t = pipelineTopics('');
  return [t.frames, t.faces, t.emotions, t.events, t.dlq.frames, t.dlq.faces, t.dlq.emotions, t.dlq.events, t.aggregatorState] as TopicName[];
}

/** The ACL table as Markdown (in packages/kafka/README.md; a unit test keeps it equal). */
export function aclTable(): string {
  const rows = KAFKA_USERS.map((u) => {
    const a = USER_ACCESS[u];
    const list = (xs: string[]) => (xs.length ? xs.map((x) => `\`${x}\``).join(', ') : '–');
    const extra = [
      a.groupPrefix !== undefined ? `groups \`${u === 'subscriber' ? `emostream-${a.groupPrefix}` : `<group prefix>${a.groupPrefix}`}…\` (Read${a.deleteGroups ? ', Delete' : ''})` : '',
      a.transactional ? `transactional ids \`<group prefix>${a.groupPrefix}…\` (Write)` : '',
    ].filter(Boolean).join('; ');
    return `| \`emostream-${u}\` | ${list(a.read)} | ${list(a.write)} | ${extra || '–'} |`;
  });
  return ['| user | reads | writes | groups, transactions |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

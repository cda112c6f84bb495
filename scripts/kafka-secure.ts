/**
 * The admin's part of `scripts/kafka.sh start --secure`, once the broker answers: the pipeline's
 * topics (for EMOSTREAM_TOPIC_PREFIX, with the biometric topics' short retention) and every
 * service user's ACLs (packages/kafka/src/access.ts). Idempotent: run again for another prefix.
 *
 *   node --import tsx scripts/kafka-secure.ts <secure dir> [topic prefix]
 *
 * It logs in as the admin with `<secure dir>/users/admin.env` (KAFKA_* lines): no credential
 * on its command line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, silentLogger } from '@emostream/runtime';
import {
  KAFKA_USERS, createKafka, createUserAcls, ensureTopics, kafkaConfigFromEnv, kafkaUserName, pipelineTopicSpecs,
} from '@emostream/kafka';

const [dir, topicPrefix = ''] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node --import tsx scripts/kafka-secure.ts <secure dir> [topic prefix]\n');
  process.exit(2);
}

/** KEY=VALUE lines of an env file (no shell expansion: the values are plain). */
function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  return out;
}

const admin = readEnvFile(path.join(dir, 'users', 'admin.env'));
// The admin's connection from its file; naming, partitions and retention from this shell's
// EMOSTREAM_* settings (the prefix from the command line).
const shared = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('EMOSTREAM_') && k !== 'EMOSTREAM_TOPIC_PREFIX'));
const config = kafkaConfigFromEnv({ ...shared, ...admin, EMOSTREAM_TOPIC_PREFIX: topicPrefix }, { connectionTimeoutMs: 10_000 });
const logger = process.env.EMOSTREAM_LOG_LEVEL ? createLogger({ base: { component: 'kafka-secure' } }) : silentLogger;
const kafka = createKafka(config, 'admin', logger);

const created = await ensureTopics(kafka, pipelineTopicSpecs(config), logger);
const acls = await createUserAcls(kafka, config);
process.stderr.write(`kafka-secure: topics with prefix '${topicPrefix}' ready (${created.length} created); ${acls} ACLs for ${KAFKA_USERS.map(kafkaUserName).join(', ')}\n`);

// The secured broker of `scripts/kafka.sh start --secure` (SASL_SSL, SCRAM-SHA-512, a CA made
// for the run, the StandardAuthorizer with one user per service): the four services and
// `emostream events` run over it as real processes, each as its own user; a client without
// credentials, with a wrong password, without TLS or without the CA is refused; and every user
// may write, read, join and administer exactly what the ACL table (packages/kafka/src/access.ts)
// gives it, nothing else. One broker start for the file, on its own port, stopped at the end.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { silentLogger } from '@emostream/runtime';
import {
  KAFKA_USERS, USER_ACCESS, allTopicNames, createKafka, createUserAcls, kafkaConfigFromEnv, topicNameOf, type KafkaUser,
} from '@emostream/kafka';
import { randomTopics } from './helpers/kafka.js';
import { ROOT, startService, type ServiceProcess } from './helpers/faults.js';
import { filesMissing, requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const KAFKA_SH = path.join(ROOT, 'scripts/kafka.sh');
const CLIP = path.resolve(ROOT, '../shared/data/media/short_hamilton_clip.mp4');
// Always its own local broker (even with KAFKA_BROKERS set): the test needs the script's users and ACLs.
const noBroker = has('java', '-version') ? (has('openssl', 'version') ? undefined : 'openssl not found (apt-get install openssl)') : 'java not found (apt-get install openjdk-17-jre-headless)';
const noMedia = filesMissing(CLIP);
const PREFIX = randomTopics();

let port: number | undefined;
let secureDir = '';
const users: Partial<Record<KafkaUser | 'admin', Record<string, string>>> = {};

function has(cmd: string, arg: string): boolean {
  try { execFileSync(cmd, [arg], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** A user's KAFKA_* settings as kafka.sh wrote them (users/<user>.env). */
function readUser(user: string): Record<string, string> {
  const file = path.join(secureDir, 'users', `${user}.env`);
  assert.equal(fs.statSync(file).mode & 0o077, 0, `${file} is readable by its owner only`);
  return Object.fromEntries(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => { const i = l.indexOf('='); return [l.slice(0, i), l.slice(i + 1)]; }));
}

before(async () => {
  if (noBroker) return;
  // Its own port pair (kafka.sh needs port and port+1), fresh data and certificates each run.
  for (let p = 39592; p < 40592; p += 100) {
    try {
      const out = execFileSync('bash', [KAFKA_SH, 'start', '--secure', '--fresh', '--port', String(p), '--topic-prefix', PREFIX], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
      secureDir = /KAFKA_SECURE_DIR=(\S+)/.exec(out)![1];
      port = p;
      break;
    } catch (e) {
      if (!/already in use/.test(String((e as { stderr?: unknown }).stderr ?? ''))) throw e;
    }
  }
  for (const u of [...KAFKA_USERS, 'admin' as const]) users[u] = readUser(u);
}, { timeout: 300_000 });

after(() => {
  if (port !== undefined) execFileSync('bash', [KAFKA_SH, 'stop', '--port', String(port)], { stdio: 'ignore', timeout: 60_000 });
});

const broker = (t: TestContext) => requireResource(t, 'Kafka broker', noBroker);

/**
 * A kafkajs client from KAFKA_* settings (the services' own reader); no retries unless told (a
 * refusal is final; a fresh broker's group coordinator needs a few).
 */
function clientOf(env: Record<string, string>, retries: number | undefined = 0) {
  return createKafka(kafkaConfigFromEnv(env, { connectionTimeoutMs: 5_000 }), 'secure-test', silentLogger, { retries });
}

/** Runs `f`, returns the error's text (type and message), or 'ok'. */
async function outcome(f: () => Promise<unknown>): Promise<string> {
  try { await f(); return 'ok'; } catch (e) {
    const err = e as Error & { type?: string; errors?: Array<{ type?: string }> };
    return [err.name, err.type, err.message, ...(err.errors ?? []).map((x) => x.type)].filter(Boolean).join(' ');
  }
}

test('the four services and `emostream events` run over SASL_SSL, each as its own user', { timeout: 420_000 }, async (t) => {
  if (!broker(t) || !requireResource(t, 'sample media', noMedia)) return;
  const common = { EMOSTREAM_TOPIC_PREFIX: PREFIX, KAFKA_SESSION_TIMEOUT_MS: '10000' };
  const services: ServiceProcess[] = [];
  const events: string[] = [];
  let eventsProc: ReturnType<typeof spawn> | undefined;
  try {
    for (const s of ['detector', 'classifier', 'aggregator'] as const) services.push(await startService(s, { env: { ...users[s]!, ...common }, tag: `secure-${s}` }));
    eventsProc = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'events', '--json', '--from-beginning'], {
      cwd: ROOT, env: { ...process.env, ...users.subscriber!, ...common }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let rest = '';
    eventsProc.stdout!.on('data', (d: Buffer) => { const parts = (rest + d.toString()).split('\n'); rest = parts.pop()!; events.push(...parts.filter(Boolean)); });
    eventsProc.stderr!.resume();
    await Promise.all(services.map((s) => s.ready(240_000)));
    const ingest = await startService('ingest', { env: { ...users.ingest!, ...common, INGEST_FPS: '2' }, args: ['--once', '--source', `cam0=${CLIP}`], tag: 'secure-ingest' });
    services.push(ingest);
    const exit = await ingest.exited;
    assert.equal(exit.code, 0, `serve ingest --once over SASL_SSL exits 0:\n${ingest.lines.slice(-5).join('\n')}`);
    const parsed = () => events.map((l) => JSON.parse(l) as { type: string; cameraId: string; personId: string });
    // The end marker closes every open person: the run is complete when every appeared one has left.
    const complete = () => {
      const e = parsed().filter((x) => x.cameraId === 'cam0');
      const appeared = new Set(e.filter((x) => x.type === 'person.appeared').map((x) => x.personId));
      const left = new Set(e.filter((x) => x.type === 'person.left').map((x) => x.personId));
      return appeared.size > 0 && [...appeared].every((p) => left.has(p));
    };
    await waitFor('every person of cam0 to appear and leave in `emostream events`', complete, { timeoutMs: 180_000 });
    t.diagnostic(`emostream events (user emostream-subscriber) printed ${events.length} events of cam0 over SASL_SSL`);
    for (const s of services) {
      const password = users[s.name as KafkaUser]!.KAFKA_SASL_PASSWORD;
      assert.ok(!s.lines.some((l) => l.includes(password)), `${s.name}: its password is in no log line`);
      assert.ok(!s.lines.some((l) => /AUTHORIZATION_FAILED|Not authorized/.test(l)), `${s.name}: no authorization failure in its log`);
    }
  } finally {
    eventsProc?.kill('SIGTERM');
    await Promise.all(services.map((s) => s.stop()));
  }
});

test('a client without credentials, with a wrong password, without TLS or without the CA is refused', { timeout: 120_000 }, async (t) => {
  if (!broker(t)) return;
  const u = users.ingest!;
  const tryList = (env: Record<string, string>) => outcome(async () => {
    const admin = clientOf(env).admin({ retry: { retries: 0 } });
    await admin.connect();
    try { return await admin.listTopics(); } finally { await admin.disconnect(); }
  });
  const tls = { KAFKA_BROKERS: u.KAFKA_BROKERS, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: u.KAFKA_SSL_CA_FILE };
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['TLS but no SASL credentials', tls, /Closed connection|ECONNRESET/],
    ['a wrong password', { ...u, KAFKA_SASL_PASSWORD: `${u.KAFKA_SASL_PASSWORD}x` }, /SASL SCRAM SHA512 authentication failed/],
    ['another user\'s name with this password', { ...u, KAFKA_SASL_USERNAME: 'emostream-aggregator' }, /SASL SCRAM SHA512 authentication failed/],
    ['no TLS (plaintext)', { KAFKA_BROKERS: u.KAFKA_BROKERS }, /Closed connection|ECONNRESET|timeout/i],
    ['TLS without the run\'s CA', { ...u, KAFKA_SSL_CA_FILE: '' }, /unable to verify|self.signed|certificate/i],
  ];
  for (const [what, env, want] of cases) {
    const got = await tryList(env);
    t.diagnostic(`${what}: ${got}`);
    assert.match(got, want, `${what} is refused`);
  }
  assert.match(await tryList(u), /^ok$/, 'the same client with the user\'s settings connects');
});

test('each user writes, reads and joins exactly what the ACL table gives it (TOPIC_AUTHORIZATION_FAILED otherwise)', { timeout: 300_000 }, async (t) => {
  if (!broker(t)) return;
  const rows: string[] = [];
  for (const user of KAFKA_USERS) {
    const kafka = clientOf(users[user]!);
    // Not idempotent: a user that may write nothing could not even get a producer id.
    const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    const writes: string[] = [];
    try {
      for (const topic of allTopicNames()) {
        const got = await outcome(() => producer.send({ topic: topicNameOf(topic, PREFIX), acks: -1, messages: [{ key: 'acl-test', value: 'acl-test' }] }));
        const allowed = USER_ACCESS[user].write.includes(topic);
        if (allowed) assert.equal(got, 'ok', `${user} writes ${topic}`);
        else assert.match(got, /TOPIC_AUTHORIZATION_FAILED|Not authorized to access topics/, `${user} may not write ${topic}: ${got}`);
        if (got === 'ok') writes.push(topic);
      }
    } finally {
      await producer.disconnect();
    }
    // Reading: subscribing fetches the topic's metadata, which needs Describe (implied by Read or Write).
    const reads: string[] = [];
    for (const topic of allTopicNames()) {
      const consumer = kafka.consumer({ groupId: `${PREFIX}emostream-${USER_ACCESS[user].groupPrefix ?? 'none'}-acl` });
      const got = await outcome(async () => { await consumer.connect(); try { await consumer.subscribe({ topics: [topicNameOf(topic, PREFIX)] }); } finally { await consumer.disconnect(); } });
      const visible = [...USER_ACCESS[user].read, ...USER_ACCESS[user].write].includes(topic);
      if (visible) assert.equal(got, 'ok', `${user} sees ${topic}`);
      else assert.match(got, /TOPIC_AUTHORIZATION_FAILED/, `${user} may not see ${topic}: ${got}`);
    }
    for (const topic of USER_ACCESS[user].read) reads.push(topic);
    // No user may create topics or change ACLs: those are the admin's.
    const admin = kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      assert.match(await outcome(() => admin.createTopics({ topics: [{ topic: `${PREFIX}evil` }] })), /TOPIC_AUTHORIZATION_FAILED/, `${user} creates no topic`);
      assert.match(await outcome(() => admin.deleteTopics({ topics: [topicNameOf('frames', PREFIX)] })), /TOPIC_AUTHORIZATION_FAILED/, `${user} deletes no topic`);
      // Granting itself (or anyone) more is the admin's alone: CreateAcls needs Alter on the cluster.
      assert.match(await outcome(() => createUserAcls(kafka, { topicPrefix: `${PREFIX}x.`, groupPrefix: undefined }, [user])), /CLUSTER_AUTHORIZATION_FAILED|not authorized/i, `${user} creates no ACL`);
    } finally {
      await admin.disconnect();
    }
    rows.push(`${`emostream-${user}`.padEnd(22)} writes ${writes.join(', ') || '-'}; reads ${reads.join(', ') || '-'}`);
  }
  for (const r of rows) t.diagnostic(r);
});

test('consumer groups: a user joins only its own (GROUP_AUTHORIZATION_FAILED otherwise)', { timeout: 120_000 }, async (t) => {
  if (!broker(t)) return;
  const join = (user: KafkaUser, groupId: string, topic: string) => outcome(async () => {
    const consumer = clientOf(users[user]!, undefined).consumer({ groupId });
    const crashed = new Promise<never>((_, reject) => consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error)));
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topicNameOf(topic as never, PREFIX)], fromBeginning: true });
      await consumer.run({ eachMessage: async () => {} });
      await Promise.race([joined, crashed]);
    } finally {
      await consumer.disconnect();
    }
  });
  // On a fresh broker the group coordinator takes a moment to load: a permitted join is retried.
  const allowed = async (user: KafkaUser, group: string, topic: string) => {
    let last = '';
    await waitFor(`${user} to join ${group}`, async () => (last = await join(user, group, topic)) === 'ok', { timeoutMs: 90_000 })
      .catch((e) => { throw new Error(`${(e as Error).message}; last: ${last}`); });
  };
  await allowed('detector', `${PREFIX}emostream-detector`, 'frames');
  await allowed('subscriber', `${PREFIX}emostream-events-my-app`, 'emotion-events');
  // kafkajs reports FindCoordinator's GROUP_AUTHORIZATION_FAILED as "Failed to find group
  // coordinator": the broker's authorizer log names the refusal itself.
  const refused = async (user: KafkaUser, group: string, topic: string) => {
    assert.match(await join(user, group, topic), /GROUP_AUTHORIZATION_FAILED|Failed to find group coordinator/, `${user} may not join ${group}`);
    const line = `Principal = User:emostream-${user} is Denied operation = DESCRIBE from host = 127.0.0.1 on resource = Group:LITERAL:${group}`;
    await waitFor(`the broker to log: ${line}`, () => fs.readFileSync(path.join(secureDir, '..', 'logs', 'server.log'), 'utf8').includes(line), { timeoutMs: 10_000 });
  };
  await refused('detector', `${PREFIX}emostream-classifier`, 'frames');
  await refused('subscriber', `${PREFIX}emostream-aggregator`, 'emotion-events');
  await refused('subscriber', 'my-app', 'emotion-events');
  t.diagnostic('detector → own group ok, classifier\'s refused; subscriber → emostream-events-my-app ok, the aggregator\'s and my-app refused (authorizer log: Denied DESCRIBE on the group)');
});

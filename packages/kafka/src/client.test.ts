import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import kafkajs from 'kafkajs';
import { backoffSchedule } from '@emostream/runtime';
import { BROKER_WAIT, brokerMayAppear, kafkaLineLevel, probeKafka, waitForBroker } from './client.js';
import { kafkaConfigFromEnv } from './config.js';
import { ensureTopics } from './topics.js';
import { recordingLogger } from './stage/fakes.js';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError, KafkaJSRequestTimeoutError } = kafkajs;
// kafkajs's typings declare these constructors without the message they take.
const saslError = (m: string): Error => Reflect.construct(KafkaJSSASLAuthenticationError, [m]) as Error;
const refused = () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 10.0.0.9:9092'), { retryCount: 0, retryTime: 300 });
const never = new Promise<never>(() => {});

/** Sleeps that return at once, recording the delays asked for. */
function fakeSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => { delays.push(ms); } };
}

test('waitForBroker: an unreachable broker is retried with a growing, capped backoff, with no limit on attempts, until it answers', async () => {
  const log = recordingLogger();
  const { delays, sleep } = fakeSleep();
  let calls = 0;
  // 200 failed attempts: at the cap that would be 50 minutes; the old client gave up after about 50 s.
  const r = await waitForBroker(async () => { if (++calls <= 200) throw refused(); return 'topics'; }, { logger: log, stopped: never, sleep, random: () => 1 });
  assert.equal(r, 'topics');
  assert.equal(calls, 201);
  assert.deepEqual(delays.slice(0, 7), [500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  assert.deepEqual(delays, backoffSchedule(200, BROKER_WAIT));
  assert.ok(delays.every((d) => d <= BROKER_WAIT.backoffMaxMs));
  const warns = log.lines.filter((l) => l.level === 'warn');
  assert.equal(warns.length, 200, 'one line per failed attempt');
  assert.deepEqual(warns[0].fields && { ...warns[0].fields, waitedMs: 0 }, { attempt: 1, retryInMs: 500, waitedMs: 0, error: 'Connection error: connect ECONNREFUSED 10.0.0.9:9092' });
  assert.equal(warns[199].fields?.attempt, 200);
  assert.deepEqual(log.lines.at(-1), { level: 'info', msg: 'Kafka broker reachable', fields: { attempts: 201, waitedMs: log.lines.at(-1)?.fields?.waitedMs } });
});

test('waitForBroker: jitter keeps each delay within [half, all] of its step', async () => {
  const { delays, sleep } = fakeSleep();
  let calls = 0;
  await waitForBroker(async () => { if (++calls <= 10) throw refused(); }, { logger: recordingLogger(), stopped: never, sleep, random: () => 0 });
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 7500, 7500, 7500, 7500, 7500]);
});

test('waitForBroker: the first attempt that succeeds is returned without a line', async () => {
  const log = recordingLogger();
  assert.equal(await waitForBroker(async () => 7, { logger: log, stopped: never }), 7);
  assert.deepEqual(log.lines, []);
});

test('waitForBroker: what waiting cannot cure (credentials, ACLs, a bug) is thrown at once', async () => {
  for (const e of [
    saslError('SASL SCRAM SHA512 authentication failed for user detector'),
    new Error('topic(s) x do not exist and this Kafka user may not create them: create them as the cluster\'s admin'),
    new TypeError('cannot read properties of undefined'),
  ]) {
    let calls = 0;
    await assert.rejects(waitForBroker(async () => { calls++; throw e; }, { logger: recordingLogger(), stopped: never, sleep: async () => {} }), (x) => x === e);
    assert.equal(calls, 1, e.message);
  }
});

test('brokerMayAppear: connection, timeout and not-ready errors heal by waiting; auth, ACL and certificate errors do not', () => {
  assert.equal(brokerMayAppear(refused()), true);
  assert.equal(brokerMayAppear(new KafkaJSConnectionError('Connection error: getaddrinfo ENOTFOUND kafka-bootstrap')), true);
  assert.equal(brokerMayAppear(new KafkaJSRequestTimeoutError('Request Metadata(key: 3, version: 6) timed out')), true);
  assert.equal(brokerMayAppear(new KafkaJSProtocolError('There is no leader for this topic-partition')), true);
  assert.equal(brokerMayAppear(new KafkaJSNumberOfRetriesExceeded(saslError('SASL authentication failed'), { retryCount: 0, retryTime: 1 })), false);
  assert.equal(brokerMayAppear(Object.assign(new KafkaJSProtocolError('Not authorized to access topics: [Topic authorization failed]'), { type: 'TOPIC_AUTHORIZATION_FAILED' })), false);
  assert.equal(brokerMayAppear(new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain')), false);
  assert.equal(brokerMayAppear(new Error('ECONNREFUSED')), false, 'not kafkajs\'s: a bug, not a broker');
  assert.equal(brokerMayAppear(undefined), false);
});

test('waitForBroker: a stop signal ends the wait during a delay or during a hanging attempt', async () => {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => { stop = r; });
  let calls = 0;
  const during = waitForBroker(async () => { calls++; throw refused(); }, { logger: recordingLogger(), stopped, sleep: () => never });
  setTimeout(stop, 5);
  assert.equal(await during, undefined);
  assert.equal(calls, 1, 'no attempt after the stop');
  assert.equal(await waitForBroker(() => never, { logger: recordingLogger(), stopped: Promise.resolve() }), undefined);
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('a real client on a closed port: one warn line per attempt (kafkajs\'s own lines at debug), no password, stopped on demand', async () => {
  const port = await closedPort();
  const password = 'Sup3r-secret-pw';
  const config = kafkaConfigFromEnv({}, { brokers: [`127.0.0.1:${port}`], saslMechanism: 'scram-sha-512', saslUsername: 'detector', saslPassword: password, saslAllowPlaintext: true });
  const log = recordingLogger();
  let stop!: () => void;
  const stopped = new Promise<void>((r) => { stop = r; });
  const { delays, sleep } = fakeSleep();
  const probe = probeKafka(config, 'test', log);
  const t0 = Date.now();
  const wait = waitForBroker(() => ensureTopics(probe, [{ topic: 'x', partitions: 1, replicationFactor: 1 }], log), {
    logger: log, stopped, sleep: async (ms) => { await sleep(ms); if (delays.length >= 3) stop(); },
  });
  assert.equal(await wait, undefined);
  assert.ok(Date.now() - t0 < 10_000, 'each attempt fails fast (no retries of the client\'s own)');
  const above = log.lines.filter((l) => l.level !== 'debug');
  assert.equal(above.length, 3, JSON.stringify(above));
  for (const [i, l] of above.entries()) {
    assert.equal(l.msg, 'Kafka broker not reachable yet; retrying');
    assert.equal(l.fields?.attempt, i + 1);
    assert.match(String(l.fields?.error), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  }
  assert.ok(log.lines.some((l) => l.level === 'debug'), 'kafkajs\'s lines are kept at debug');
  assert.ok(!JSON.stringify(log.lines).includes(password));
});

test('kafkaLineLevel: a failed response kafkajs retries by itself is a warning; others keep their level', () => {
  const { logLevel } = kafkajs;
  const concurrent = 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';
  assert.equal(kafkaLineLevel(logLevel.ERROR, 'Response AddPartitionsToTxn(key: 24, version: 1)', concurrent), 'warn');
  assert.equal(kafkaLineLevel(logLevel.ERROR, 'Response InitProducerId(key: 22, version: 1)', "The coordinator is loading and hence can't process requests for this group"), 'warn');
  assert.equal(kafkaLineLevel(logLevel.ERROR, 'Response GroupCoordinator(key: 10, version: 2)', 'The group coordinator is not available'), 'warn');
  // Not retried: stays an error (authorisation, a record too large, a fenced producer).
  assert.equal(kafkaLineLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', 'Not authorized to access topics: [Topic authorization failed]'), 'error');
  assert.equal(kafkaLineLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', 'The request included a message larger than the max message size the server will accept'), 'error');
  // The producer's line before it retries a send, for the same errors.
  assert.equal(kafkaLineLevel(logLevel.ERROR, `Failed to send messages: ${concurrent}`, undefined), 'warn');
  assert.equal(kafkaLineLevel(logLevel.ERROR, 'Failed to send messages: Not authorized to access topics: [Topic authorization failed]', undefined), 'error');
  // Only those lines are mapped; other error lines and other levels are kept.
  assert.equal(kafkaLineLevel(logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded', concurrent), 'error');
  assert.equal(kafkaLineLevel(logLevel.WARN, 'Response Heartbeat(key: 12, version: 3)', 'The group is rebalancing, so a rejoin is needed'), 'warn');
  assert.equal(kafkaLineLevel(logLevel.INFO, 'Consumer has joined the group', undefined), 'info');
});

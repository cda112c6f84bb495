// A service started while its broker is not there yet (a cluster starting in any order): it waits
// for as long as it runs, answering /healthz and saying why on /readyz, with one log line per
// attempt; once the broker appears it creates its topics and becomes ready. Its own broker (a port
// of its own, started late by this test with scripts/kafka.sh, stopped at the end), so it is
// skipped when KAFKA_BROKERS names an external cluster.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { brokerUnavailable, randomTopics } from './helpers/kafka.js';
import { ROOT, exitWhenDone, serviceEnv, sleep, startService, type ServiceProcess } from './helpers/faults.js';
import { requireResource } from './helpers/resources.js';

const run = promisify(execFile);
const KAFKA_SH = path.join(ROOT, 'scripts/kafka.sh');
// Below Linux's ephemeral range (32768-60999): the service dials this port with nothing listening
// for a minute, and a dial whose own local port is the target connects to itself and holds the port.
// On 39792 the broker once failed to bind ("Address already in use") at the end of that minute.
const PORT = process.env.KAFKA_WAIT_TEST_PORT ?? '31792';
/** Past the old limit: the clients' own retries gave up after about 50 s (exit 1 at 49 s). */
const AWAY_MS = 60_000;

let svc: ServiceProcess | undefined;
let brokerStarted = false;
after(async () => {
  await svc?.stop().catch(() => {});
  if (brokerStarted) await run('bash', [KAFKA_SH, 'stop', '--port', PORT], { timeout: 60_000 }).catch(() => {});
  exitWhenDone();
});

test('serve aggregator with no broker: alive and not ready past a minute, one line per attempt; ready once the broker starts', {
  skip: process.env.KAFKA_BROKERS ? 'KAFKA_BROKERS is an external cluster: this test starts its own broker late' : undefined, timeout: 400_000,
}, async (t) => {
  if (!requireResource(t, 'Kafka broker', brokerUnavailable())) return;
  const prefix = randomTopics();
  const brokers = [`127.0.0.1:${PORT}`];
  const tStart = Date.now();
  svc = await startService('aggregator', { env: serviceEnv(brokers, prefix, 1), tag: 'brokerwait-aggregator' });
  const s = svc;
  const get = async (p: string) => { const r = await fetch(`http://127.0.0.1:${s.metricsPort}${p}`); return { status: r.status, body: await r.text() }; };
  await sleep(AWAY_MS);
  assert.ok(s.alive(), `still waiting after ${AWAY_MS / 1000} s without a broker (log ${s.logFile}): ${s.lines.slice(-3).join('\n')}`);
  assert.equal((await get('/healthz')).status, 200);
  const readyz = await get('/readyz');
  assert.equal(readyz.status, 503);
  assert.match(readyz.body, new RegExp(`waiting for the Kafka broker \\(attempt \\d+: .*127\\.0\\.0\\.1:${PORT}`));
  const attempts = s.lines.filter((l) => l.includes('Kafka broker not reachable yet; retrying')).map((l) => JSON.parse(l) as { attempt: number; retryInMs: number });
  assert.ok(attempts.length >= 5, `${attempts.length} attempts in ${AWAY_MS / 1000} s`);
  assert.deepEqual(attempts.map((a) => a.attempt), attempts.map((_, i) => i + 1), 'one line per attempt');
  assert.ok(attempts.every((a) => a.retryInMs <= 15_000), 'the delay is capped');
  assert.ok(attempts.at(-1)!.retryInMs > attempts[0].retryInMs * 4, `the delay grows: ${attempts.map((a) => a.retryInMs).join(', ')}`);
  assert.equal(s.lines.filter((l) => /"component":"kafkajs"/.test(l)).length, 0, 'kafkajs\'s own connection errors are not logged at info or above');

  const tBroker = Date.now();
  brokerStarted = true;
  await run('bash', [KAFKA_SH, 'start', '--port', PORT, '--fresh'], { timeout: 180_000 });
  const tUp = Date.now();
  await s.ready(60_000);
  const tReady = Date.now();
  assert.ok(s.lines.some((l) => l.includes('Kafka broker reachable')));
  t.diagnostic(`no broker for ${((tBroker - tStart) / 1000).toFixed(0)} s (${attempts.length} attempts); broker start ${((tUp - tBroker) / 1000).toFixed(1)} s; ready ${((tReady - tUp) / 1000).toFixed(1)} s after its port opened`);
  const tStop = Date.now();
  await s.stop(30_000);
  const exit = await s.exited;
  assert.equal(exit.code, 0, `exit status 0 on SIGTERM (log ${s.logFile})`);
  t.diagnostic(`SIGTERM once ready: exited in ${((Date.now() - tStop) / 1000).toFixed(1)} s`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { backoffSchedule } from '@emostream/runtime';
import { StageError } from '../errors.js';
import { CONSUMER_RESTART, ConsumerSupervisor, stageBroken } from './supervisor.js';
import { recordingLogger } from './fakes.js';

const { KafkaJSConnectionError, KafkaJSGroupCoordinatorNotFound, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } = kafkajs;
// kafkajs's typings declare these constructors without the message they take.
const make = (C: unknown, m: string): Error => Reflect.construct(C as new (m: string) => Error, [m]);
const coordinatorNotFound = () => make(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator');
const refused = () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { retryCount: 8, retryTime: 10_000 });

/** A supervisor on a hand-driven clock and scheduler. */
function supervised() {
  const log = recordingLogger();
  const pending: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const failures: StageError[] = [];
  let restarts = 0;
  let now = 1_000_000;
  let restartResult: () => Promise<void> = async () => {};
  const s = new ConsumerSupervisor({
    stage: 'det', log, random: () => 1, now: () => now,
    restart: () => { restarts++; return restartResult(); },
    fail: (e) => failures.push(e),
    schedule: (fn, ms) => { const p = { fn, ms, cancelled: false }; pending.push(p); return () => { p.cancelled = true; }; },
  });
  return {
    s, log, pending, failures,
    get restarts() { return restarts; },
    advance: (ms: number) => { now += ms; },
    failRestarts: (e: Error) => { restartResult = async () => { throw e; }; },
    /** Runs the next scheduled restart; returns its delay. */
    fire: async () => {
      const p = pending.shift();
      assert.ok(p && !p.cancelled, 'a restart is scheduled');
      p.fn();
      await new Promise((r) => setImmediate(r));
      return p.ms;
    },
  };
}

test('a crash kafkajs restarts is left to kafkajs; the outage is recorded until the next join', () => {
  const h = supervised();
  assert.equal(h.s.crashed(refused(), true), 'kafkajs restarts');
  h.advance(5_000);
  assert.equal(h.s.crashed(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), true), 'kafkajs restarts');
  assert.deepEqual(h.s.current, { since: 1_000_000, crashes: 2, error: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' });
  assert.equal(h.pending.length, 0);
  assert.equal(h.failures.length, 0);
  h.advance(1_000);
  h.s.joined();
  assert.equal(h.s.current, undefined);
  assert.deepEqual(h.log.lines.at(-1), { level: 'info', msg: 'back in the consumer group', fields: { outageMs: 6_000, crashes: 2 } });
});

test('a crash kafkajs gives up on while the broker is away (coordinator not found): restarted here, with a growing capped backoff, for as long as it takes', async () => {
  const h = supervised();
  const delays: number[] = [];
  // 40 crashes in a row: past ten minutes at the cap; kafkajs alone stopped at the first.
  for (let i = 0; i < 40; i++) {
    assert.equal(h.s.crashed(coordinatorNotFound(), false), 'restart');
    delays.push(await h.fire());
  }
  assert.equal(h.restarts, 40);
  assert.deepEqual(delays, backoffSchedule(40, CONSUMER_RESTART));
  assert.deepEqual(delays.slice(0, 7), [500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  assert.equal(h.failures.length, 0);
  assert.equal(h.s.current?.crashes, 40);
  const warns = h.log.lines.filter((l) => l.level === 'warn');
  assert.equal(warns.length, 40);
  assert.deepEqual(warns[0], { level: 'warn', msg: 'consumer stopped by the Kafka client while the broker is away; restarting it', fields: { attempt: 1, retryInMs: 500, outageMs: 0, error: 'Failed to find group coordinator' } });
  // Back in the group: the next outage starts from the first step again.
  h.s.joined();
  h.s.crashed(coordinatorNotFound(), false);
  assert.equal(await h.fire(), 500);
});

test('a restart that throws (not kafkajs\'s crash report) counts as another crash and is retried', async () => {
  const h = supervised();
  h.failRestarts(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'));
  h.s.crashed(coordinatorNotFound(), false);
  await h.fire();
  assert.equal(h.pending.length, 1, 'the failed restart scheduled the next');
  assert.equal(h.s.current?.crashes, 2);
  assert.ok(h.log.lines.some((l) => l.msg === 'restarting the consumer failed'));
});

test('what no wait cures is fatal: the stage\'s operator broken (even when kafkajs would restart), credentials, a bug', () => {
  const broken = new StageError('det: producing the outputs of frames[0]@5 failed: the stage operator completed while the consumer runs', false, {}, { cause: new KafkaJSConnectionError('x') });
  const cases: Array<[Error, boolean]> = [
    [Reflect.construct(kafkajs.KafkaJSNonRetriableError, [broken, { cause: broken }]) as Error, true],
    [broken, false],
    [make(KafkaJSSASLAuthenticationError, 'SASL SCRAM SHA512 authentication failed'), false],
    [Object.assign(new KafkaJSProtocolError('Not authorized to access group: Group authorization failed'), { type: 'GROUP_AUTHORIZATION_FAILED' }), false],
    [new TypeError('cannot read properties of undefined'), false],
    [new Error('gave up'), false],
  ];
  for (const [e, restart] of cases) {
    const h = supervised();
    assert.equal(h.s.crashed(e, restart), 'fatal', e.message);
    assert.equal(h.pending.length, 0);
    assert.equal(h.failures.length, 1);
    assert.equal(h.failures[0].retriable, false);
    assert.equal(h.failures[0].message, `det: consumer stopped: ${e.message}`);
    assert.equal(h.failures[0].cause, e);
  }
});

test('stop cancels a pending restart and ends the supervision', async () => {
  const h = supervised();
  h.s.crashed(coordinatorNotFound(), false);
  h.s.stop();
  assert.equal(h.pending[0].cancelled, true);
  assert.equal(h.s.crashed(coordinatorNotFound(), false), 'fatal', 'a crash after stop restarts nothing');
  assert.equal(h.restarts, 0);
});

test('stageBroken looks through causes for a non-retriable StageError', () => {
  assert.equal(stageBroken(new StageError('x', true)), false);
  assert.equal(stageBroken(new Error('outer', { cause: new StageError('inner', false) })), true);
  assert.equal(stageBroken(refused()), false);
  assert.equal(stageBroken(undefined), false);
});

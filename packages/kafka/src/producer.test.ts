import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Kafka, type Producer, type Transaction } from 'kafkajs';
import { backoffSchedule } from '@emostream/runtime';
import { SEND_RETRY, createProducer, sendCapped } from './producer.js';
import type { OutMessage } from './codec/message.js';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;
const refused = () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { retryCount: 8, retryTime: 10_000 });
const msg = (v: string): OutMessage => ({ key: 'k', value: Buffer.from(v), headers: {} });

/** A kafkajs-like producer whose sendBatch fails with the errors queued in `failures`, then succeeds. */
function fakeKafka() {
  const listeners = new Map<string, Array<() => void>>();
  const p = {
    events: { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' },
    failures: [] as Error[],
    sent: [] as string[][],
    calls: 0,
    on: (event: string, l: () => void) => { listeners.set(event, [...(listeners.get(event) ?? []), l]); return () => {}; },
    emit: (event: string) => { for (const l of listeners.get(event) ?? []) l(); },
    sendBatch: async (b: { topicMessages: Array<{ messages: Array<{ value: Buffer }> }> }) => {
      p.calls++;
      const e = p.failures.shift();
      if (e) throw e;
      p.sent.push(b.topicMessages.flatMap((t) => t.messages.map((m) => m.value.toString())));
    },
    transaction: async () => { throw new Error('not used'); },
  };
  const kafka = { producer: () => p } as unknown as Kafka;
  return { kafka, p };
}

/** Sleeps that return at once, recording the delays asked for. */
function fakeSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => { delays.push(ms); } };
}

test('a plain producer\'s send outlasts a broker outage of any length: retried with a growing, capped backoff until acknowledged', async () => {
  const { kafka, p } = fakeKafka();
  const producer = createProducer(kafka);
  // 300 failed requests (kafkajs gives each one its own ~50 s of reconnects): hours of outage.
  p.failures = Array.from({ length: 300 }, refused);
  const { delays, sleep } = fakeSleep();
  const waits: number[] = [];
  let resumed = 0;
  const n = await sendCapped(producer, [{ topic: 't', messages: [msg('a'), msg('b')] }], 1 << 20, {
    sleep, onWait: (attempt) => waits.push(attempt), onResumed: (attempts) => { resumed = attempts; },
  });
  assert.equal(n, 2);
  assert.deepEqual(p.sent, [['a', 'b']], 'sent once, whole, in order');
  assert.equal(p.calls, 301);
  assert.equal(delays.length, 300);
  assert.ok(delays.every((d) => d >= SEND_RETRY.backoffInitialMs / 2 && d <= SEND_RETRY.backoffMaxMs), 'capped');
  assert.ok(delays.slice(-10).every((d) => d >= SEND_RETRY.backoffMaxMs / 2), 'at the cap after a while');
  assert.deepEqual(waits, Array.from({ length: 300 }, (_, i) => i + 1));
  assert.equal(resumed, 301);
  assert.equal(backoffSchedule(1, SEND_RETRY)[0], 300);
});

test('a send that fails for another reason (the broker refuses the request for good) is thrown at once', async () => {
  const { kafka, p } = fakeKafka();
  const producer = createProducer(kafka);
  const tooLarge = Object.assign(new KafkaJSProtocolError('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE', retriable: false });
  p.failures = [tooLarge];
  await assert.rejects(sendCapped(producer, [{ topic: 't', messages: [msg('a')] }], 1 << 20, { sleep: async () => {} }), (e) => e === tooLarge);
  assert.equal(p.calls, 1);
  p.failures = [new TypeError('x is not a function')];
  await assert.rejects(sendCapped(producer, [{ topic: 't', messages: [msg('a')] }], 1 << 20, { sleep: async () => {} }), TypeError);
});

test('a send waiting for the broker ends with its error once its producer is disconnected', async () => {
  const { kafka, p } = fakeKafka();
  const producer = createProducer(kafka);
  p.failures = Array.from({ length: 1000 }, refused);
  let attempts = 0;
  const sending = sendCapped(producer, [{ topic: 't', messages: [msg('a')] }], 1 << 20, {
    sleep: async () => { if (++attempts === 3) p.emit(p.events.DISCONNECT); },
  });
  await assert.rejects(sending, /ECONNREFUSED/);
  assert.equal(p.calls, 3);
  // Connected again: it waits again.
  p.emit(p.events.CONNECT);
  p.failures = [refused()];
  assert.equal(await sendCapped(producer, [{ topic: 't', messages: [msg('b')] }], 1 << 20, { sleep: async () => {} }), 1);
});

test('a producer disconnected by its owner is not waited for, even one not made here', async () => {
  const { p } = fakeKafka();
  p.failures = [new kafkajs.KafkaJSError('The producer is disconnected')];
  await assert.rejects(sendCapped(p as unknown as Producer, [{ topic: 't', messages: [msg('a')] }], 1 << 20, { sleep: async () => {} }), /disconnected/);
  assert.equal(p.calls, 1);
});

test('a transaction\'s request is not retried: the transaction fails', async () => {
  let calls = 0;
  const t = { sendBatch: async () => { calls++; throw refused(); }, commit: async () => {}, abort: async () => {} } as unknown as Transaction;
  await assert.rejects(sendCapped(t, [{ topic: 't', messages: [msg('a')] }], 1 << 20, { sleep: async () => {} }), /ECONNREFUSED/);
  assert.equal(calls, 1);
});

/** The tests' own helpers: waitFor (test/helpers/wait.ts) and requireResource (test/helpers/resources.ts). */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { StopWaiting, explainWaits, waitFor } from './helpers/wait.js';
import { trailOf } from './helpers/faults.js';
import { INSTALL_TEST_TOOLS, requireResource, underCI } from './helpers/resources.js';

// helpers/faults.ts sets a default explanation (its services' trails) when imported: these tests start without one.
explainWaits(undefined);

test('waitFor returns the first truthy value of the check', async () => {
  let n = 0;
  const v = await waitFor('n to reach 3', () => (++n >= 3 ? { n } : undefined), { everyMs: 1 });
  assert.deepEqual(v, { n: 3 });
  assert.equal(await waitFor('an async check', async () => 'ready', { timeoutMs: 0 }), 'ready');
});

test('waitFor retries a throwing check; on timeout it names what, the last value and the last error', async () => {
  let calls = 0;
  await assert.rejects(waitFor('the answer', () => {
    calls++;
    if (calls % 2) throw new Error(`not yet (${calls})`);
    return 0;
  }, { timeoutMs: 50, everyMs: 5 }), (e: Error) => {
    assert.match(e.message, /^timed out after 50 ms \(\d+ checks\) waiting for the answer; last value: 0; last error: not yet \(\d+\)$/);
    return true;
  });
  assert.ok(calls >= 2, `checked ${calls} times`);
});

test('a timed-out wait adds what `explain` says; a service trail keeps its last warnings and errors only', async () => {
  const lines = [
    '{"level":"info","msg":"joined group"}',
    '{"level":"warn","msg":"chunk failed"}',
    'node: a line that is not JSON',
    '{"level":"error","msg":"Crash: KafkaJSNonRetriableError"}',
    `{"level":"error","msg":"${'x'.repeat(400)}"}`,
    '{"level":"error","msg":"Connection error","component":"kafkajs"}',
  ];
  const trail = trailOf('aggregator', lines, 'exited: code 1, signal null', 3);
  const [head, ...all] = trail.split('\n');
  assert.equal(head, 'aggregator (exited: code 1, signal null), last 3 of 4 warnings/errors:');
  assert.deepEqual(all.slice(3), ['  and kafkajs\'s last 1 of 1:', '  {"level":"error","msg":"Connection error","component":"kafkajs"}']);
  const rest = all.slice(0, 3);
  assert.deepEqual(rest.map((l) => l.trim().slice(0, 40)), ['node: a line that is not JSON', '{"level":"error","msg":"Crash: KafkaJSNo', `{"level":"error","msg":"${'x'.repeat(16)}`]);
  assert.ok(rest[2].endsWith('…') && rest[2].length < 310);
  await assert.rejects(waitFor('the aggregator', () => false, { timeoutMs: 10, everyMs: 5, explain: () => trail }), (e: Error) => {
    assert.ok(e.message.startsWith('timed out after 10 ms'));
    assert.ok(e.message.endsWith(trail));
    return true;
  });
  await assert.rejects(waitFor('x', () => false, { timeoutMs: 1, explain: () => { throw new Error('no log'); } }), /\(explain failed: no log\)$/);
  // A default for every wait (the fault suite's services), which a wait's own explain replaces.
  explainWaits(() => 'the services said');
  try {
    await assert.rejects(waitFor('y', () => false, { timeoutMs: 1 }), /waiting for y; last value: false\nthe services said$/);
    await assert.rejects(waitFor('z', () => false, { timeoutMs: 1, explain: () => 'its own' }), /\nits own$/);
  } finally {
    explainWaits(undefined);
  }
  await assert.rejects(waitFor('w', () => false, { timeoutMs: 1 }), /waiting for w; last value: false$/);
});

test('a check that throws StopWaiting ends the wait at once', async () => {
  let calls = 0;
  const t0 = Date.now();
  await assert.rejects(waitFor('a dead process to be ready', () => { calls++; throw new StopWaiting('it exited'); }, { timeoutMs: 60_000 }), (e: Error) => {
    assert.ok(e instanceof StopWaiting);
    assert.equal(e.message, 'it exited');
    return true;
  });
  assert.equal(calls, 1);
  assert.ok(Date.now() - t0 < 60_000);
});

test('requireResource: present goes on; missing skips with the reason, or fails under CI naming the resource and the install command', () => {
  const skips: string[] = [];
  const t = { skip: (m?: string) => { skips.push(m ?? ''); } } as unknown as TestContext;
  const ci = process.env.CI;
  try {
    delete process.env.CI;
    assert.equal(underCI(), false);
    assert.equal(requireResource(t, 'GStreamer', undefined), true);
    assert.equal(requireResource(t, 'GStreamer', true), true);
    assert.equal(requireResource(t, 'GStreamer', 'python3-gi not found'), false);
    assert.deepEqual(skips, ['GStreamer: python3-gi not found']);
    process.env.CI = 'true';
    assert.equal(underCI(), true);
    assert.equal(requireResource(t, 'GStreamer', undefined), true);
    assert.throws(() => requireResource(t, 'GStreamer', 'python3-gi not found'), (e: Error) => {
      assert.match(e.message, /missing test resource under CI.*GStreamer: python3-gi not found/);
      assert.ok(e.message.includes(INSTALL_TEST_TOOLS));
      return true;
    });
    // An optional resource is skipped even under CI (and still listed).
    assert.equal(requireResource(t, 'hadolint', 'not found', { optional: true }), false);
    assert.deepEqual(skips, ['GStreamer: python3-gi not found', 'hadolint: not found']);
  } finally {
    if (ci === undefined) delete process.env.CI; else process.env.CI = ci;
  }
});

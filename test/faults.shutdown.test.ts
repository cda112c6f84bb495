// Fault suite, shutdown within the grace period: the four services as real processes, streaming,
// are sent SIGTERM together, once with the broker up and once with it stopped (a clean stop, 5 s
// before the signal). Each must be gone within 10 s of the signal on its own: the helper sends
// SIGKILL at 10 s, as Kubernetes would at the end of a grace period that short, and a process it
// had to kill fails the case. With the broker up nothing is lost: what was classified before the
// signal reaches the aggregator's state when the services come back.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineTopics } from '@emostream/kafka';
import { brokerUnavailable } from './helpers/kafka.js';
import { exitWhenDone, faultBroker, outsideFaultRun, report, sleep, startService, type FaultBroker, type ServiceProcess } from './helpers/faults.js';
import { CLIPS, setUpPipeline, type PipelineSetup } from './helpers/stream.js';
import { filesMissing, requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const skip = outsideFaultRun ?? (process.env.KAFKA_BROKERS ? 'KAFKA_BROKERS is an external cluster: not stopped' : undefined);
const noBroker = brokerUnavailable();
const resources = (t: TestContext) => requireResource(t, 'sample media', filesMissing(CLIPS.a)) && requireResource(t, 'Kafka broker', noBroker);
const FPS = 5;
/** The deadline: SIGKILL this long after SIGTERM. */
const DEADLINE_MS = 10_000;
const NAMES = ['ingest', 'detector', 'classifier', 'aggregator'] as const;

let broker: FaultBroker;
let pipe: PipelineSetup;
const procs: ServiceProcess[] = [];

before(async () => {
  if (skip || filesMissing(CLIPS.a) || noBroker) return;
  broker = await faultBroker();
  pipe = await setUpPipeline(broker.brokers, { partitions: 3, fps: FPS });
}, { timeout: 300_000 });

after(async () => {
  await Promise.all(procs.map((s) => s.stop().catch(() => {})));
  await pipe?.collector.stop().catch(() => {});
  if (broker?.restartable) await broker.start().catch(() => {});
  exitWhenDone();
});

/** Starts the four services (ingest on the clip, read in real time) and waits for frames through the classifier. */
async function streaming(tag: string): Promise<ServiceProcess[]> {
  const topics = pipelineTopics(pipe.prefix);
  const stages = await Promise.all((['detector', 'classifier', 'aggregator'] as const).map((n) => startService(n, { env: pipe.env, tag: `${tag}-${n}` })));
  await Promise.all(stages.map((s) => s.ready()));
  const ingest = await startService('ingest', { env: pipe.env, args: ['--source', `${tag}=${CLIPS.a}`], tag: `${tag}-ingest` });
  const all = [ingest, ...stages];
  procs.push(...all);
  await waitFor(`frames of ${tag} through the classifier`, () => pipe.collector.of(topics.emotions).filter((s) => s.cameraId === tag && s.kind !== 'end').length >= 10, { timeoutMs: 120_000 });
  return all;
}

/** SIGTERM to all at once; each one's time to exit and whether it had to be killed. */
async function terminate(services: ServiceProcess[]): Promise<Array<{ name: string; ms: number; code: number | null; signal: NodeJS.Signals | null }>> {
  const t0 = Date.now();
  return Promise.all(services.map(async (s) => {
    await s.stop(DEADLINE_MS);
    const ms = Date.now() - t0;
    const { code, signal } = await s.exited;
    return { name: s.name, ms, code, signal };
  }));
}

test('SIGTERM ends every service within 10 s, the broker up and the broker stopped; nothing classified before the signal is lost', { skip, timeout: 600_000 }, async (t) => {
  if (!resources(t)) return;
  const topics = pipelineTopics(pipe.prefix);
  // 1. The broker up.
  const up = await terminate(await streaming('sdup'));
  const classifiedUp = pipe.collector.of(topics.emotions).filter((s) => s.cameraId === 'sdup' && s.kind !== 'end').length;
  // 2. The broker stopped 5 s before the signal.
  const running = await streaming('sddown');
  await broker.stop();
  await sleep(5_000);
  const down = await terminate(running);
  await broker.start();
  for (const r of [...up, ...down]) {
    assert.notEqual(r.signal, 'SIGKILL', `${r.name} was still running ${DEADLINE_MS / 1000} s after SIGTERM and had to be killed (${r.ms} ms)`);
  }
  for (const r of up) assert.equal(r.code, 0, `${r.name} exit status with the broker up`);
  // What the classifier sent before its stop reaches the aggregator's input and is consumed after a restart.
  const aggregator = await startService('aggregator', { env: pipe.env, tag: 'sd-aggregator-again' });
  procs.push(aggregator);
  await aggregator.ready(120_000);
  const lastSeq = (cam: string) => {
    let last: number | undefined;
    for (const x of pipe.collector.of(topics.aggregatorState)) {
      const c = (x.json as { cameras?: Record<string, { lastSeq?: number }> } | undefined)?.cameras?.[cam];
      if (c?.lastSeq !== undefined) last = c.lastSeq;
    }
    return last;
  };
  const maxClassified = Math.max(...pipe.collector.of(topics.emotions).filter((s) => s.cameraId === 'sdup' && s.kind !== 'end' && s.seq !== undefined).map((s) => s.seq!));
  await waitFor('the aggregator state at the last frame classified before the stop (broker up)', () => lastSeq('sdup') === maxClassified, { timeoutMs: 60_000 });
  const fmt = (rs: typeof up) => rs.map((r) => `${r.name} ${(r.ms / 1000).toFixed(1)} s (exit ${r.code ?? r.signal})`).join(', ');
  report({
    case: 'SIGTERM to the four services together, streaming: once with the broker up, once 5 s after the broker stopped',
    outcome: `each gone on its own within ${DEADLINE_MS / 1000} s of the signal (SIGKILL at ${DEADLINE_MS / 1000} s, none needed); with the broker up every frame classified before the signal reached the aggregator's state`,
    figures: `broker up: ${fmt(up)}; ${classifiedUp} frames classified, the aggregator's state at the last (seq ${maxClassified}) after its restart. Broker stopped: ${fmt(down)} (EMOSTREAM_STOP_GRACE_MS 7000: past it a service exits without waiting for its disconnects)`,
  });
});

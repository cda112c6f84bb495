// Fault suite, a long broker outage: the four services as real processes on the suite's broker,
// which is stopped mid-stream for 90 s (FAULTS_BROKER_AWAY_MS), longer than kafkajs's own
// reconnects last (a send gave up ~80 s into an outage, a consumer could be stopped for good),
// and started again. Meanwhile every service stays alive and healthy (/healthz 200 within 3 s,
// the liveness probe's timeoutSeconds in deploy/k8s, at each look every second), the stages say
// why they are not ready (/readyz 503), and afterwards every frame is accounted for (reached the
// aggregator once, or a dead letter), no event is doubled, and no service was restarted. The
// slowest /healthz answer and the longest event-loop delay of each service are reported with
// the CPU it used in that second. Ingest's own work did not block its loop: its longest delay,
// 243 ms while the broker's JVM was starting (load 12.9 on 2 cores), came with 44 ms of its own
// CPU in that second, a process waiting for a CPU; one 2 s probe of the live ingest failed once
// at that point of the case, when it allowed 2 s instead of the deployment's 3.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { pipelineTopics } from '@emostream/kafka';
import { brokerUnavailable } from './helpers/kafka.js';
import { rtspServerUnavailable, startRtspServer } from './helpers/rtsp.js';
import {
  aggregatorLastSeq, exitWhenDone, faultBroker, outsideFaultRun, report, sleep, startService, sumOf, type FaultBroker, type ServiceProcess,
} from './helpers/faults.js';
import { PROBE_TIMEOUT_MS, watchHealth, type HealthSample, type HealthWatch } from './helpers/health.js';
import { CLIPS, setUpPipeline, settleAndAccount, type PipelineSetup } from './helpers/stream.js';
import { framesAt } from './helpers/media.js';
import { filesMissing, requireResource, underCI } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const skip = outsideFaultRun ?? (process.env.KAFKA_BROKERS ? 'KAFKA_BROKERS is an external cluster: not stopped' : undefined);
const noBroker = brokerUnavailable();
const mediaMissing = filesMissing(CLIPS.a, CLIPS.b);
const resources = (t: TestContext) => requireResource(t, 'sample media', mediaMissing) && requireResource(t, 'Kafka broker', noBroker);
const FPS = 5;
/** How long the broker stays stopped: past the ~50-80 s after which kafkajs's own retries gave up. */
const AWAY_MS = Number(process.env.FAULTS_BROKER_AWAY_MS ?? 90_000);
/** The outage starts once this many frames are classified, while the files are still being sent. */
const STRIKE_AFTER_FRAMES = 15;
const STAGES = ['detector', 'classifier', 'aggregator'] as const;

let broker: FaultBroker;
let pipe: PipelineSetup;
const svc: Partial<Record<(typeof STAGES)[number], ServiceProcess>> = {};
const others: ServiceProcess[] = [];

before(async () => {
  if (skip || mediaMissing || noBroker) return;
  broker = await faultBroker();
  pipe = await setUpPipeline(broker.brokers, { partitions: 3, fps: FPS });
  const { env } = pipe;
  for (const name of STAGES) svc[name] = await startService(name, { env, tag: `outage-${name}` });
  await Promise.all(STAGES.map((n) => svc[n]!.ready()));
}, { timeout: 300_000 });

after(async () => {
  await Promise.all([...Object.values(svc), ...others].map((s) => s?.stop().catch(() => {})));
  await pipe?.collector.stop().catch(() => {});
  if (broker?.restartable) await broker.start().catch(() => {});
  exitWhenDone();
});

const uniqueOf = (topic: string, cams: string[]) => new Set(pipe.collector.of(topic).filter((s) => s.seq !== undefined && cams.includes(s.cameraId!)).map((s) => `${s.cameraId}#${s.run}#${s.seq}`)).size;
const aggregated = (cams: string[]) => { const last = aggregatorLastSeq(pipe.collector, pipe.prefix); return cams.reduce((n, c) => n + (last[c] ?? -1) + 1, 0); };
const linesOf = (s: ServiceProcess, re: RegExp) => s.lines.filter((l) => re.test(l)).length;

/** Each second, a service's longest event-loop delay since the last look (prom-client's, reset per scrape; the first look's covers the time before, so it is only the baseline) and its CPU seconds. */
interface LoopSample { at: number; lagMaxS: number; cpuS: number; load1: number }
function watchLoops(services: Record<string, ServiceProcess>) {
  const samples = new Map<string, LoopSample[]>(Object.keys(services).map((n) => [n, []]));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await Promise.all(Object.entries(services).filter(([, s]) => s.alive()).map(async ([n, s]) => {
        const m = await s.metrics().catch(() => undefined);
        if (m) samples.get(n)!.push({ at: Date.now(), lagMaxS: sumOf(m, 'emostream_nodejs_eventloop_lag_max_seconds'), cpuS: sumOf(m, 'emostream_process_cpu_seconds_total'), load1: os.loadavg()[0] });
      }));
      await sleep(1_000);
    }
  })();
  return { samples, stop: async () => { stopped = true; await loop; } };
}

/**
 * Per service: its slowest /healthz answer and its longest event-loop delay, when (from `t0`),
 * with the CPU it used meanwhile and the machine's load: a loop blocked by its own work uses
 * about as much CPU as the delay lasts; one waiting for a CPU does not.
 */
function loopFigures(watch: HealthWatch, loops: ReturnType<typeof watchLoops>, t0: number): string {
  return [...loops.samples.keys()].map((n) => {
    const slowest = watch.of(n).samples.reduce<HealthSample | undefined>((a, x) => (x.healthzMs > (a?.healthzMs ?? -1) ? x : a), undefined);
    const ls = loops.samples.get(n)!;
    const i = ls.reduce((b, x, k) => (k > 0 && (b === 0 || x.lagMaxS > ls[b].lagMaxS) ? k : b), 0);
    const w = i > 0 ? ls[i] : undefined;
    const secsIn = (at: number) => Math.max(0, (at - t0) / 1000).toFixed(0);
    const loop = w
      ? `${(w.lagMaxS * 1000).toFixed(0)} ms (${secsIn(w.at)} s in; ${((w.cpuS - ls[i - 1].cpuS) * 1000).toFixed(0)} ms CPU in the ${((w.at - ls[i - 1].at) / 1000).toFixed(1)} s before; load ${w.load1.toFixed(1)})`
      : 'not measured';
    return `${n}: slowest /healthz ${slowest?.healthzMs ?? '?'} ms (${secsIn(slowest?.at ?? t0)} s in), longest event-loop delay ${loop}`;
  }).join('; ');
}

test(`the broker away ${AWAY_MS / 1000} s mid-stream: every service waits alive (healthz 200, readyz 503), resumes; nothing lost, no event doubled`, { skip, timeout: 900_000 }, async (t) => {
  if (!resources(t)) return;
  const { prefix, kafka, config, env, collector } = pipe;
  const noRtsp = rtspServerUnavailable();
  if (noRtsp && underCI()) requireResource(t, 'GStreamer RTSP server', noRtsp);
  if (noRtsp) t.diagnostic(`no live camera: ${noRtsp}`);
  const files = ['oa', 'ob'];
  const liveCam = 'oc';
  const cams = noRtsp ? files : [...files, liveCam];
  const topics = pipelineTopics(prefix);
  const ingest = await startService('ingest', { env, args: ['--once', '--source', `${files[0]}=${CLIPS.a}`, '--source', `${files[1]}=${CLIPS.b}`], tag: 'outage-ingest' });
  others.push(ingest);
  const camera = noRtsp ? undefined : await startRtspServer({ file: CLIPS.a });
  const liveIngest = camera ? await startService('ingest', { env, args: ['--source', `${liveCam}=${camera.url}`], tag: 'outage-ingest-live' }) : undefined;
  if (liveIngest) others.push(liveIngest);
  try {
    await waitFor(`${STRIKE_AFTER_FRAMES} frames classified`, () => uniqueOf(topics.emotions, cams) >= STRIKE_AFTER_FRAMES, { timeoutMs: 180_000 });
    const watched: Record<string, ServiceProcess> = { ...svc as Record<string, ServiceProcess>, ingest, ...(liveIngest ? { 'live ingest': liveIngest } : {}) };
    const watch = watchHealth(watched);
    const loops = watchLoops(watched);
    const before = { classified: uniqueOf(topics.emotions, cams), aggregated: aggregated(cams), sent: uniqueOf(topics.frames, files) };
    const tStop = Date.now();
    await broker.stop();
    const tDown = Date.now();
    await sleep(AWAY_MS);
    const tStart = Date.now();
    await broker.start();
    const tUp = Date.now();
    await waitFor('a new frame classified after the outage', () => uniqueOf(topics.emotions, cams) > before.classified, { timeoutMs: 240_000 });
    const tC = Date.now();
    await waitFor('a new frame aggregated after the outage', () => aggregated(cams) > before.aggregated, { timeoutMs: 240_000 });
    const tA = Date.now();
    await waitFor('every stage ready again', () => STAGES.every((n) => watch.of(n).firstReady(tUp)), { timeoutMs: 120_000 });
    await watch.stop();
    await loops.stop();
    const loopsSeen = loopFigures(watch, loops, tStop);
    t.diagnostic(`slowest /healthz and longest event-loop delays: ${loopsSeen}`);

    const accounted = await settleAndAccount({
      collector, prefix, kafka, config, fps: FPS, files: { [files[0]]: CLIPS.a, [files[1]]: CLIPS.b }, ingest,
      live: camera && liveIngest ? { cam: liveCam, ingest: liveIngest, camera } : undefined,
      stages: STAGES.map((n) => svc[n]!),
    });

    // During the outage (from 5 s after the stop to the broker's return): alive and healthy, not ready, saying why.
    const during: string[] = [];
    for (const n of Object.keys(watched)) {
      assert.deepEqual(watch.of(n).unhealthy().map((x) => `${x.healthz}${x.healthzError ? ` (${x.healthzError})` : ''} after ${x.healthzMs} ms, ${x.at - tStop} ms in`), [], `${n}: /healthz 200 within ${PROBE_TIMEOUT_MS} ms throughout (${loopsSeen})`);
    }
    for (const n of [...STAGES, ...(liveIngest ? ['live ingest'] : [])]) {
      const h = watch.of(n);
      const notReady = h.firstNotReady(tStop);
      assert.ok(notReady && notReady.at < tUp, `${n}: /readyz 503 while the broker was away`);
      const inOutage = h.samples.filter((x) => x.at > tStop + 5_000 && x.at < tStart);
      const readyShare = inOutage.filter((x) => x.readyz === 200).length / Math.max(1, inOutage.length);
      const again = h.firstReady(tUp);
      during.push(`${n} not ready ${((notReady.at - tStop) / 1000).toFixed(1)} s after the stop began (${Math.round(readyShare * 100)}% of the outage's samples ready), ready again ${again ? `${((again.at - tUp) / 1000).toFixed(1)} s after the port opened` : 'at its end'}`);
      t.diagnostic(`${n} readyz during the outage: ${[...new Set(inOutage.flatMap((x) => x.reasons))].slice(0, 4).join(' | ')}`);
    }

    const crashes = STAGES.map((n) => `${n} ${linesOf(svc[n]!, /"msg":"consumer crashed"/)}/${linesOf(svc[n]!, /restarting it"/)}`).join(', ');
    const waits = STAGES.map((n) => linesOf(svc[n]!, /sent after waiting for the Kafka broker/)).reduce((x, y) => x + y, 0);
    report({
      case: `broker away ${AWAY_MS / 1000} s mid-stream (clean stop, restarted on the same data)`,
      outcome: 'every service waited (none exited or restarted), /healthz 200 throughout, /readyz 503 with its reason; then resumed: nothing lost, no duplicate event',
      figures: `${accounted} (content or eventId); broker down ${((tUp - tStop) / 1000).toFixed(0)} s (stop ${((tDown - tStop) / 1000).toFixed(1)} s, start ${((tUp - tStart) / 1000).toFixed(1)} s), struck after ${before.classified} frames classified with ${framesAt(CLIPS.a, FPS) + framesAt(CLIPS.b, FPS) - before.sent} file frames not yet sent; `
        + `${during.join('; ')}; after the port opened: first new frame classified in ${((tC - tUp) / 1000).toFixed(1)} s, aggregated in ${((tA - tUp) / 1000).toFixed(1)} s; `
        + `consumer crashes / restarts by the stage itself (kafkajs gave up): ${crashes}; ${waits} stage send(s) acknowledged after waiting for the broker; `
        + `from the stop on, ${loopsSeen}`,
    });
  } finally {
    await liveIngest?.stop();
    await camera?.stop();
  }
});

/**
 * Distributed vs embedded: the same clip at the default --fps 10, once through embedded
 * `analyze()` and once through the four services linked by a real Kafka broker (the services
 * in this process, as test/distributed.test.ts runs them; the broker a separate Java process on
 * the same 2 cores). Throughput = frames / wall time from the first frame read to the
 * aggregator's end of stream.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createMetrics, silentLogger } from '@emostream/runtime';
import { benchAnalyzeSettings, benchClassify, benchDetectorConfig } from '../lib/embedded.js';
import { createIngestStats } from '@emostream/ingest';
import { parseAggregatorConfig } from '@emostream/aggregator';
import { DEFAULT_SHED, HEADER, createKafka, decodeEmotions, ensureTopics, header, kafkaConfigFromEnv, pipelineTopicSpecs, pipelineTopics } from '@emostream/kafka';
import type { EmotionEvent } from '@emostream/contracts';
import { analyze, startAggregator, startClassifier, startDetector, startIngest, subscribeEvents } from '@emostream/pipeline';
import { analyzeOptions, type BenchContext, type Row } from '../lib/context.js';
import { startBroker } from '../lib/broker.js';
import { startLoopingCamera } from '../lib/rtsp.js';
import { percentile, ratio, sig } from '../lib/stats.js';
import { waitFor } from '../../test/helpers/wait.js';

const FPS = 10;

/** Runs the section. */
export async function distributedSection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const clip = await ctx.clip720();
  const durationS = ctx.quick ? 3 : undefined;
  ctx.log(`distributed: embedded reference, analyze --fps ${FPS}`);
  const out = fs.mkdtempSync(path.join(ctx.tmp, 'dist-embedded-'));
  const emb = await analyze(clip.file, { ...analyzeOptions(ctx, out, FPS, durationS), ...benchAnalyzeSettings() });
  const embFps = emb.frames / (emb.wallMs / 1000);

  const broker = startBroker(ctx.log);
  ctx.figures.kafkaVersion = broker.version;
  const running: Array<{ stop(): Promise<void> }> = [];
  try {
    const config = kafkaConfigFromEnv({}, { brokers: broker.brokers, topicPrefix: `bench${randomBytes(3).toString('hex')}.`, partitions: 3, sessionTimeoutMs: 10_000 });
    const kafka = createKafka(config, 'bench', silentLogger);
    const deps = { kafka, config, logger: silentLogger, metrics: createMetrics() };
    await ensureTopics(kafka, pipelineTopicSpecs(config));
    const detector = await ctx.detector();
    const model = await ctx.emotionModel();
    // As the `serve` commands run them: the detector with the embedder (the embedded reference, analyze, has it too) and its load shedding (live cameras only), the classifier with its default batching.
    const det = await startDetector({ ...deps, detector, embedder: await ctx.embedder(), detectorConfig: benchDetectorConfig(), shed: DEFAULT_SHED });
    running.push(det);
    const cls = await startClassifier({ ...deps, model: () => model, classify: benchClassify(), backend: ctx.rt.provider });
    running.push(cls);
    const agg = await startAggregator({ ...deps, aggregatorConfig: parseAggregatorConfig({}) });
    running.push(agg);
    await waitFor('the three stages in their groups', () => det.ready().ok && cls.ready().ok && agg.ready().ok, { timeoutMs: 60_000, everyMs: 20 });
    const events: EmotionEvent[] = [];
    const eventLatency: number[] = [];
    running.push(await subscribeEvents({
      config, logger: silentLogger, fromBeginning: true,
      onEvent: (e) => { events.push(e); if (e.cameraId === 'live') eventLatency.push(Date.now() - Date.parse(e.at)); },
    }));
    ctx.log(`distributed: ingest → Kafka → detector → classifier → aggregator, --fps ${FPS}`);
    const t0 = performance.now();
    const settings = { fpsLimit: FPS };
    const ingest = startIngest([{ cameraId: 'bench', url: clip.file, settings }], deps);
    let stopAt: NodeJS.Timeout | undefined;
    if (durationS) stopAt = setTimeout(() => ingest.stop(), durationS * 1000);
    const summary = await ingest.done;
    if (stopAt) clearTimeout(stopAt);
    const produced = summary.cameras.bench.produced;
    await waitFor('every frame at the aggregator', () => agg.aggregator.stats.frames >= produced && (durationS !== undefined || agg.stats.controls >= 1), { timeoutMs: 300_000, everyMs: 20 });
    const wallMs = performance.now() - t0;
    const distFps = produced / (wallMs / 1000);
    const aggregated = agg.aggregator.stats.frames;
    const clipEvents = events.length;
    const shedBefore = det.stats.shed;
    const live = await liveLatency(ctx, { kafka, deps, config, clipFile: clip.file, eventLatency, running });
    // Live frames the detector skipped: a newer frame of the camera waited behind them, or it was behind (shed.ts).
    const detectorSkipped = det.stats.shed - shedBefore;
    const figures = {
      distributedOverEmbedded: ratio(distFps, embFps),
      distributedFps: distFps,
      embeddedFps: embFps,
      distributed: {
        clip: clip.name, fps: FPS, framesProduced: produced, framesAggregated: aggregated, wallMs,
        processedFps: distFps, realTimeFactor: (produced * 1000) / FPS / wallMs, events: clipEvents, embeddedEvents: emb.events,
        broker: `Kafka ${broker.version} (scripts/kafka.sh, same machine)`, partitions: 3,
        embedded: { frames: emb.frames, wallMs: emb.wallMs, processedFps: embFps, realTimeFactor: emb.mediaMs / emb.wallMs },
      },
      distributedLatencyP95Ms: live.p95,
      distributedLatency: { ...live, detectorSkipped },
    };
    const rows: Row[] = [{
      section: 'distributed', figure: `distributedOverEmbedded (@ --fps ${FPS}, 720p clip)`, value: `${sig(figures.distributedOverEmbedded, 3)}x`,
      detail: `Kafka ${sig(distFps, 3)} fps (${produced} frames in ${(wallMs / 1000).toFixed(1)} s, ${clipEvents} events) vs embedded ${sig(embFps, 3)} fps (${emb.events} events); services in one process, broker on the same 2 cores`,
    }, {
      section: 'distributed', figure: 'latency p95 over Kafka (frame → emotions/event, live 10 fps RTSP)', value: `${sig(live.p95, 3)} ms`,
      detail: `p50 ${sig(live.p50, 3)} ms, p99 ${sig(live.p99, 3)} ms over ${live.frameSamples} frames + ${live.eventSamples} events; ${live.dropped} frames dropped by ingest, ${detectorSkipped} skipped by the detector; `
        + `frames from ${STARTUP_MS / 1000} s on: p95 ${sig(live.steadyP95Ms, 3)} ms, p99 ${sig(live.steadyP99Ms, 3)} ms (${live.steadyFrames}); the first ${STARTUP_MS / 1000} s up to ${sig(live.startupMaxMs, 3)} ms`,
    }];
    return { figures, rows };
  } finally {
    await Promise.all(running.map((r) => r.stop().catch(() => {})));
    broker.release();
  }
}

/** The start-up of the live latency run: the first frames after the warm-up, ms of capture time. */
const STARTUP_MS = 3_000;

/**
 * Frame → result latency over Kafka: a looping RTSP camera read at 10 fps by ingest, through the
 * running services; every emotions message (read by a consumer of its own) and every event of
 * that camera, against the frame's capturedAtMs (stamped by ingest in this process: one clock).
 */
async function liveLatency(
  ctx: BenchContext,
  o: {
    kafka: ReturnType<typeof createKafka>; deps: Parameters<typeof startIngest>[1]; config: ReturnType<typeof kafkaConfigFromEnv>;
    clipFile: string; eventLatency: number[]; running: Array<{ stop(): Promise<void> }>;
  },
) {
  const seconds = ctx.quick ? 10 : 40;
  // The first second carries the RTSP/decoder start-up, not steady-state latency.
  const warmupFrames = 10;
  /** Every frame after the warm-up: capture time and latency (the start-up is split from the steady state below). */
  const timed: Array<{ capturedAtMs: number; ms: number }> = [];
  let seen = 0;
  const consumer = o.kafka.consumer({ groupId: `${o.config.topicPrefix}bench-latency` });
  await consumer.connect();
  o.running.push({ stop: () => consumer.disconnect() });
  await consumer.subscribe({ topics: [pipelineTopics(o.config.topicPrefix).emotions], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (header(message, HEADER.kind) !== 'emotions') return;
      const d = decodeEmotions(message);
      if (!d.ok || d.value.frame.cameraId !== 'live') return;
      if (seen++ < warmupFrames) return;
      timed.push({ capturedAtMs: d.value.frame.capturedAtMs, ms: Date.now() - d.value.frame.capturedAtMs });
    },
  });
  const cam = await startLoopingCamera(o.clipFile);
  ctx.log(`distributed: live RTSP camera → Kafka pipeline, --fps ${FPS}, ${seconds} s`);
  o.eventLatency.length = 0;
  // giveUpAfterMs: once the camera is stopped below, the source ends within seconds, and with it ingest.
  const stats = { live: createIngestStats() };
  const ingest = startIngest([{ cameraId: 'live', url: cam.url, settings: { fpsLimit: FPS, giveUpAfterMs: 3_000 } }], { ...o.deps, stats });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await cam.stop();
  await ingest.done.catch(() => undefined);
  // Let the last frames through the stages.
  await new Promise((r) => setTimeout(r, 3_000));
  const events = o.eventLatency.slice();
  const frameLatency = timed.map((t) => t.ms);
  const all = [...frameLatency, ...events];
  // The first frames come while the networks' first calls and the first tiles are searched: the
  // steady state is measured from STARTUP_MS after the first frame after the warm-up, and the
  // start-up is reported on its own.
  const start = timed[0]?.capturedAtMs ?? 0;
  const steady = timed.filter((t) => t.capturedAtMs - start >= STARTUP_MS).map((t) => t.ms);
  const startup = timed.filter((t) => t.capturedAtMs - start < STARTUP_MS).map((t) => t.ms);
  return {
    mode: 'distributed: ingest, detector, classifier, aggregator in this process over the local broker',
    seconds, frameSamples: frameLatency.length, eventSamples: events.length,
    dropped: stats.live.framesDropped, decoded: stats.live.framesDecoded,
    p50: percentile(all, 50) ?? null, p95: percentile(all, 95) ?? null, p99: percentile(all, 99) ?? null,
    framesP50Ms: percentile(frameLatency, 50) ?? null, framesP95Ms: percentile(frameLatency, 95) ?? null,
    steadyFrames: steady.length, steadyP95Ms: percentile(steady, 95) ?? null, steadyP99Ms: percentile(steady, 99) ?? null,
    startupMaxMs: startup.length ? Math.max(...startup) : null,
  };
}

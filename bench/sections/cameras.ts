/**
 * Several live cameras at 10 fps each, N = 2 and 4, served by one process (`analyze` with
 * several `--source`s: one detector and one classifier shared, ./pipeline/src/cameras.ts) and
 * over Kafka (ingest → detector → classifier → aggregator, the services in this process as the
 * distributed section runs them, the broker a separate Java process; the detector sheds as
 * `serve detector` does by default), side by side on the same cameras. The cameras are real RTSP
 * servers (GStreamer) looping the sample media: even ones the 720p clip (one face), odd ones the
 * 640x360 Hamilton clip (a performer, an audience, scene cuts). Per camera: frames processed per
 * second, frames dropped (skipped by the detector, or a full queue) and the delays frame →
 * emotions (every processed frame) and frame → event (`person.appeared` and `emotion.changed`: a
 * `person.left` is dated when the person was last seen, not by the frame that ended them). The first 5 s of
 * each camera (RTSP and decoder start-up, model warm-up) are left out of the rates and delays.
 * Runs in the order 2 embedded, 2 Kafka, 4 Kafka, 4 embedded (drift in the machine's load
 * falls on both modes alike). The Kafka runs share the benchmark's detector, embedder and model,
 * warmed on one frame first: their first calls load the models (seconds), and the Kafka
 * detector's shedder takes its time per frame as it comes (a first run of this section without
 * the warm-up lost 95% of two cameras' frames over Kafka, against 80% in one process);
 * `analyze` loads its own (its fair detector needs no estimate, see
 * pipeline/src/fairDetector.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createMetrics, silentLogger } from '@emostream/runtime';
import { benchAnalyzeSettings, benchClassify, benchDetectorConfig } from '../lib/embedded.js';
import { createIngestStats, type IngestStats } from '@emostream/ingest';
import { parseAggregatorConfig } from '@emostream/aggregator';
import { DEFAULT_SHED, HEADER, createKafka, decodeEmotions, ensureTopics, header, kafkaConfigFromEnv, pipelineTopicSpecs, pipelineTopics } from '@emostream/kafka';
import type { EmotionEvent, EmotionsMessage } from '@emostream/contracts';
import { analyzeCameras, startAggregator, startClassifier, startDetector, startIngest, subscribeEvents } from '@emostream/pipeline';
import { HAMILTON, analyzeOptions, type BenchContext, type Row } from '../lib/context.js';
import { startBroker } from '../lib/broker.js';
import { makeClip, rawFrames } from '../lib/ffmpeg.js';
import { startLoopingCamera } from '../lib/rtsp.js';
import { percentile, ratio, sig } from '../lib/stats.js';
import { waitFor } from '../../test/helpers/wait.js';

const FPS = 10;
const WARMUP_MS = 5_000;
const COUNTS = [2, 4];

/** What one camera of a run did. */
interface CameraFigures {
  cameraId: string;
  clip: string;
  decoded: number;
  processed: number;
  /** Frames processed per second after the warm-up. */
  processedFps: number | null;
  dropped: number;
  /**
   * Of those, skipped by the detector while behind: in one process a live camera's frame that a
   * newer one replaced while it waited for its turn, over Kafka the detector's shedding
   * (overload, stale). The rest: a full queue (ingest's, over Kafka), a frame that could not be decoded.
   */
  skipped: number;
  /** Dropped / decoded. */
  droppedShare: number | null;
  frameP50Ms: number | null;
  frameP95Ms: number | null;
  eventP50Ms: number | null;
  eventP95Ms: number | null;
  events: number;
}

/** Collects one camera's processed frames and events as they come. */
class Tally {
  private readonly frames: number[] = [];
  private readonly frameDelay: number[] = [];
  private readonly eventDelay: number[] = [];
  private firstCapture: number | undefined;
  events = 0;
  processed = 0;
  constructor(readonly cameraId: string, readonly clip: string) {}
  frame(m: EmotionsMessage): void {
    const now = Date.now();
    this.processed++;
    this.firstCapture ??= m.frame.capturedAtMs;
    if (m.frame.capturedAtMs - this.firstCapture < WARMUP_MS) return;
    this.frames.push(now);
    this.frameDelay.push(now - m.frame.capturedAtMs);
  }
  event(e: EmotionEvent): void {
    this.events++;
    const at = Date.parse(e.at);
    if (e.type === 'person.left' || this.firstCapture === undefined || at - this.firstCapture < WARMUP_MS) return;
    this.eventDelay.push(Date.now() - at);
  }
  figures(decoded: number, dropped: number, skipped: number): CameraFigures {
    const span = this.frames.length > 1 ? (this.frames.at(-1)! - this.frames[0]) / 1000 : 0;
    return {
      cameraId: this.cameraId, clip: this.clip, decoded, processed: this.processed,
      processedFps: sig(span > 0 ? (this.frames.length - 1) / span : null, 3), dropped, skipped, droppedShare: sig(ratio(dropped, decoded), 3),
      frameP50Ms: sig(percentile(this.frameDelay, 50), 3), frameP95Ms: sig(percentile(this.frameDelay, 95), 3),
      eventP50Ms: sig(percentile(this.eventDelay, 50), 3), eventP95Ms: sig(percentile(this.eventDelay, 95), 3), events: this.events,
    };
  }
}

interface Camera { cameraId: string; clip: string; url: string; stop(): Promise<void> }

/** One frame of the clip through the benchmark's detector, embedder and model: their first calls load them. */
async function warmUp(ctx: BenchContext, file: string): Promise<void> {
  for await (const rgb of rawFrames(file, { width: 1280, height: 720, fps: FPS })) {
    const faces = await (await ctx.detector()).detect(rgb, 1280, 720);
    if (faces.length) await (await ctx.embedder()).embed(rgb, 1280, 720, faces.map((f) => f.box));
    await (await ctx.emotionModel()).predict([new Uint8Array(48 * 48)]);
    return;
  }
}

/** N looping RTSP cameras, alternately the 720p clip and the Hamilton clip. */
async function startCameras(ctx: BenchContext, n: number, clips: Array<{ name: string; file: string }>): Promise<Camera[]> {
  const cams: Camera[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const clip = clips[i % clips.length];
      const cam = await startLoopingCamera(clip.file);
      cams.push({ cameraId: `cam${i}`, clip: clip.name, url: cam.url, stop: cam.stop });
    }
    return cams;
  } catch (e) {
    await Promise.all(cams.map((c) => c.stop()));
    throw e;
  }
}

/** The cameras through `analyze` (one process). */
async function embedded(ctx: BenchContext, cams: Camera[], seconds: number): Promise<CameraFigures[]> {
  const tally = new Map(cams.map((c) => [c.cameraId, new Tally(c.cameraId, c.clip)]));
  const out = fs.mkdtempSync(path.join(ctx.tmp, 'cameras-'));
  const { camera: _one, ...opts } = analyzeOptions(ctx, out, FPS, seconds);
  const r = await analyzeCameras(cams.map((c) => ({ cameraId: c.cameraId, url: c.url })), { ...opts, giveUpAfter: 10, ...benchAnalyzeSettings() }, {
    onEmotions: (m) => tally.get(m.frame.cameraId)?.frame(m),
    onEvent: (e) => tally.get(e.cameraId)?.event(e),
  });
  if (r.failed.length) throw new Error(`embedded run: cameras failed: ${r.cameras.filter((c) => c.failed).map((c) => c.failed).join('; ')}`);
  // Every decoded frame was processed or dropped (skipped for a newer one, or lost on the way).
  return r.cameras.map((c) => tally.get(c.cameraId)!.figures(c.frames + c.drops, c.drops, c.skipped));
}

/** The cameras through the four services over Kafka. */
async function overKafka(ctx: BenchContext, cams: Camera[], seconds: number, brokers: string[]): Promise<CameraFigures[]> {
  const tally = new Map(cams.map((c) => [c.cameraId, new Tally(c.cameraId, c.clip)]));
  const running: Array<{ stop(): Promise<void> }> = [];
  try {
    const config = kafkaConfigFromEnv({}, { brokers, topicPrefix: `bench${randomBytes(3).toString('hex')}.`, partitions: 3, sessionTimeoutMs: 10_000 });
    const kafka = createKafka(config, 'bench', silentLogger);
    const metrics = createMetrics();
    const deps = { kafka, config, logger: silentLogger, metrics };
    await ensureTopics(kafka, pipelineTopicSpecs(config));
    // As `serve detector` runs it by default: the embedder, and live frames shed when behind.
    const det = await startDetector({ ...deps, detector: await ctx.detector(), embedder: await ctx.embedder(), detectorConfig: benchDetectorConfig(), shed: DEFAULT_SHED });
    running.push(det);
    const model = await ctx.emotionModel();
    const cls = await startClassifier({ ...deps, model: () => model, classify: benchClassify(), backend: ctx.rt.provider });
    running.push(cls);
    const agg = await startAggregator({ ...deps, aggregatorConfig: parseAggregatorConfig({}) });
    running.push(agg);
    await waitFor('the three stages in their groups', () => det.ready().ok && cls.ready().ok && agg.ready().ok, { timeoutMs: 60_000, everyMs: 20 });
    running.push(await subscribeEvents({ config, logger: silentLogger, fromBeginning: true, onEvent: (e) => tally.get(e.cameraId)?.event(e) }));
    const consumer = kafka.consumer({ groupId: `${config.topicPrefix}bench-cameras` });
    await consumer.connect();
    running.push({ stop: () => consumer.disconnect() });
    await consumer.subscribe({ topics: [pipelineTopics(config.topicPrefix).emotions], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (header(message, HEADER.kind) !== 'emotions') return;
        const d = decodeEmotions(message);
        if (d.ok) tally.get(d.value.frame.cameraId)?.frame(d.value);
      },
    });
    const stats: Record<string, IngestStats> = Object.fromEntries(cams.map((c) => [c.cameraId, createIngestStats()]));
    const ingest = startIngest(cams.map((c) => ({ cameraId: c.cameraId, url: c.url, settings: { fpsLimit: FPS } })), { ...deps, stats });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    ingest.stop();
    const summary = await ingest.done;
    // Let the frames on their way through the stages.
    await new Promise((r) => setTimeout(r, 3_000));
    const dropped = new Map<string, number>();
    const shed = new Map<string, number>();
    for (const v of (await metrics.framesDropped.get()).values) {
      const cam = String(v.labels.camera);
      dropped.set(cam, (dropped.get(cam) ?? 0) + v.value);
      if (v.labels.reason === 'overload' || v.labels.reason === 'stale') shed.set(cam, (shed.get(cam) ?? 0) + v.value);
    }
    return cams.map((c) => {
      const s = summary.cameras[c.cameraId];
      if (s?.failed) throw new Error(`Kafka run: camera ${c.cameraId} failed: ${s.failed}`);
      // Dropped by ingest's queue (counted in the same metric) or shed by the detector.
      return tally.get(c.cameraId)!.figures(stats[c.cameraId].framesDecoded, dropped.get(c.cameraId) ?? 0, shed.get(c.cameraId) ?? 0);
    });
  } finally {
    await Promise.all(running.reverse().map((r) => r.stop().catch(() => {})));
  }
}

const fmt = (x: number | null, unit = '') => (x === null ? '-' : `${x}${unit}`);
const total = (cs: CameraFigures[]) => cs.reduce((a, c) => a + (c.processedFps ?? 0), 0);

/** Runs the section. */
export async function camerasSection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const seconds = ctx.quick ? 12 : 40;
  const clip720 = await ctx.clip720();
  // The Hamilton clip as an RTSP server can stream it (H.264 without B-frames), 25 fps.
  const hamilton = path.join(ctx.tmp, 'hamilton-360p25.mp4');
  if (!fs.existsSync(hamilton)) await makeClip(HAMILTON, hamilton, { width: 640, height: 360, fps: 25 });
  const clips = [{ name: '720p woman2 (1 face)', file: clip720.file }, { name: '640x360 Hamilton (stage, audience, cuts)', file: hamilton }];
  await warmUp(ctx, clip720.file);
  const broker = startBroker(ctx.log);
  ctx.figures.kafkaVersion ??= broker.version;
  const runs: Array<{ cameras: number; mode: 'embedded' | 'kafka'; seconds: number; totalProcessedFps: number; perCamera: CameraFigures[] }> = [];
  try {
    const order: Array<[number, 'embedded' | 'kafka']> = [[COUNTS[0], 'embedded'], [COUNTS[0], 'kafka'], [COUNTS[1], 'kafka'], [COUNTS[1], 'embedded']];
    for (const [n, mode] of order) {
      const cams = await startCameras(ctx, n, clips);
      try {
        ctx.log(`cameras: ${n} live RTSP cameras at ${FPS} fps, ${mode === 'embedded' ? 'one process (analyze --source ×' + n + ')' : 'over Kafka'}, ${seconds} s`);
        const perCamera = mode === 'embedded' ? await embedded(ctx, cams, seconds) : await overKafka(ctx, cams, seconds, broker.brokers);
        runs.push({ cameras: n, mode, seconds, totalProcessedFps: sig(total(perCamera), 3)!, perCamera });
      } finally {
        await Promise.all(cams.map((c) => c.stop()));
      }
    }
  } finally {
    broker.release();
  }
  runs.sort((a, b) => a.cameras - b.cameras || a.mode.localeCompare(b.mode));
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { cameras: { fps: FPS, seconds, warmupMs: WARMUP_MS, order: '2 embedded, 2 kafka, 4 kafka, 4 embedded', runs } };
  for (const n of COUNTS) {
    const emb = runs.find((r) => r.cameras === n && r.mode === 'embedded')!;
    const kfk = runs.find((r) => r.cameras === n && r.mode === 'kafka')!;
    figures[`cameras${n}EmbeddedOverKafka`] = sig(ratio(emb.totalProcessedFps, kfk.totalProcessedFps), 3);
    rows.push({
      section: 'cameras', figure: `${n} cameras × ${FPS} fps: processed fps, one process / Kafka`, value: `${sig(ratio(emb.totalProcessedFps, kfk.totalProcessedFps), 3)}x`,
      detail: `${emb.totalProcessedFps} vs ${kfk.totalProcessedFps} fps in all (${n * FPS} offered)`,
    });
    for (const r of [emb, kfk]) {
      for (const c of r.perCamera) {
        rows.push({
          section: 'cameras', figure: `${n} cameras ${r.mode === 'embedded' ? 'one process' : 'Kafka'} ${c.cameraId}`, value: `${fmt(c.processedFps)} fps`,
          detail: `${c.clip}; dropped ${c.dropped} of ${c.decoded} (${fmt(c.droppedShare === null ? null : sig(c.droppedShare * 100, 3), '%')}, ${c.skipped} skipped by the detector); ` +
            `frame → emotions p50 ${fmt(c.frameP50Ms, ' ms')}, p95 ${fmt(c.frameP95Ms, ' ms')}; frame → event p95 ${fmt(c.eventP95Ms, ' ms')} (${c.events} events)`,
        });
      }
    }
  }
  return { figures, rows };
}

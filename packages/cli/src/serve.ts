/**
 * `emostream serve ingest|detector|classifier|aggregator`: the distributed mode. Each service
 * wraps the embedded pipeline's own stage operator in the Kafka adapter (@emostream/kafka).
 * The `start*` functions are the services without their process shell, for in-process tests.
 */
import os from 'node:os';
import type { Command } from 'commander';
import sharp from 'sharp';
import { z } from 'zod';
import { EMPTY, catchError, concat, defer, from, lastValueFrom, merge, defaultIfEmpty, mergeMap, takeUntil, type Observable } from 'rxjs';
import type { EmotionsMessage, FacesMessage, Frame } from '@emostream/contracts';
import {
  createLogger, createMetrics, loadTf, redactText, startMetricsServer, urlSecrets, type BackendChoice, type Logger, type PipelineMetrics,
} from '@emostream/runtime';
import {
  boundedQueue, classifyInput, createIngestStats, createValve, dropCounter, frameSource, parseSourceConfig, type IngestStats, type SourceConfig,
} from '@emostream/ingest';
import { createDetector, detectFaces, detectorConfigFromEnv, frameToRgb, type DetectorConfig, type FaceDetector } from '@emostream/detector';
import { classifyFaces, loadEmotionModel, watchModel, type ClassifyConfig, type EmotionModel } from '@emostream/classifier';
import {
  aggregate, aggregatorConfigFromEnv, type Aggregator, type AggregatorConfig, type AggregatorOutput, type AggregatorSnapshot,
} from '@emostream/aggregator';
import {
  HEADER, createKafka, createProducer, decodeEmotions, decodeFaces, decodeFrame, encodeControl, encodeEmotions, encodeEvent,
  encodeFaces, encodeFrame, ensureTopics, groupIdFor, kafkaConfigFromEnv, pipelineTopicSpecs, pipelineTopics, readCompacted,
  runStage, sendCapped, isLiveFrame, shedOptionsFromEnv, type ShedOptions, type Decoded, type InMessage, type Kafka, type KafkaConfig, type RunningStage, type JpegFrame, type OutMessage,
} from '@emostream/kafka';

/** The four services. */
export const SERVICES = ['ingest', 'detector', 'classifier', 'aggregator'] as const;
/** A service name. */
export type ServiceName = (typeof SERVICES)[number];

/** What every service receives. */
export interface ServiceDeps {
  kafka: Kafka;
  config: KafkaConfig;
  logger: Logger;
  metrics?: PipelineMetrics;
  /** Consumer group id (default: `groupIdFor(config, stage)`). */
  groupId?: string;
}

// ---------------------------------------------------------------------------------------------
// ingest

/** JPEG quality of frames on the wire: 85 keeps faces sharp for the detector at ~40-120 KB per 720p frame. */
export const DEFAULT_JPEG_QUALITY = 85;

/** An RGB frame as the JPEG frame that travels on the frames topic (the embedded comparison uses it too). */
export async function toJpegFrame(frame: Frame, quality = DEFAULT_JPEG_QUALITY): Promise<JpegFrame> {
  if (frame.pixels.format === 'jpeg') return frame as JpegFrame;
  const data = await sharp(frame.pixels.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
  return { ...frame, pixels: { format: 'jpeg', data } };
}

/** One ingest source: a camera id and its file or rtsp URL. */
export interface IngestSource {
  cameraId: string;
  url: string;
  /** Extra source settings (fpsLimit, maxWidth...). */
  settings?: Partial<SourceConfig>;
}

/** What a finished (or stopped) ingest run did, per camera. */
export interface IngestSummary {
  /** `failed`: why the camera stopped (redacted), when it failed rather than ended. */
  cameras: Record<string, { produced: number; dropped: number; decoded: number; reconnects: number; failed?: string }>;
}

/**
 * Ingest: one frameSource per camera → JPEG → frames topic (key = camera id). Backpressure:
 * each camera has a bounded queue (`queueMaxFrames`) in front of encode+produce, one send in
 * flight. A file source pauses ffmpeg when the queue is full (nothing lost); a live camera drops
 * its oldest waiting frame and counts it (`frames_dropped_total{reason="queue_full"}`), so a
 * slow broker never makes ingest grow without bound. When a source ends, an `end` control
 * message follows its last frame; the returned promise resolves once every frame and end marker
 * is acknowledged by the broker. A camera that fails (an undecodable file, a camera given up) is
 * logged, recorded in the summary (`failed`) and ended with its marker: the others go on.
 */
export function startIngest(sources: IngestSource[], deps: ServiceDeps & { jpegQuality?: number; stats?: Record<string, IngestStats> }): { done: Promise<IngestSummary>; stop(): void } {
  const topics = pipelineTopics(deps.config.topicPrefix);
  const producer = createProducer(deps.kafka);
  const summary: IngestSummary = { cameras: {} };
  let stopFn: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { stopFn = resolve; });
  const send = (m: OutMessage) => sendCapped(producer, [{ topic: topics.frames, messages: [m] }], deps.config.maxBytesPerSend);
  const one = (s: IngestSource): Observable<unknown> => defer(() => {
    const config = parseSourceConfig({ ...s.settings, cameraId: s.cameraId, url: s.url });
    const stats = deps.stats?.[s.cameraId] ?? createIngestStats();
    const cam: IngestSummary['cameras'][string] = (summary.cameras[s.cameraId] = { produced: 0, dropped: 0, decoded: 0, reconnects: 0 });
    const valve = classifyInput(config.url).kind === 'file' ? createValve() : undefined;
    const countDrop = dropCounter(s.cameraId, { metrics: deps.metrics, stats });
    const failed = (e: unknown) => {
      // The error texts of ingest are redacted already; redact again in case a cause was not.
      cam.failed = redactText((e as Error).message ?? String(e), urlSecrets(s.url));
      deps.logger.error('source failed; the other cameras go on', { camera: s.cameraId, error: cam.failed });
      return EMPTY;
    };
    const frames$ = frameSource(config, { logger: deps.logger, metrics: deps.metrics, stats, valve }).pipe(catchError(failed));
    const produce = async (f: Frame) => {
      await send(encodeFrame(await toJpegFrame(f, deps.jpegQuality), { live: !valve }));
      cam.produced++;
    };
    return concat(
      frames$.pipe(boundedQueue(config.queueMaxFrames, (f) => { countDrop(f); cam.dropped++; }, (f: Frame) => from(produce(f)), { valve })),
      defer(() => from(send(encodeControl({ type: 'end', cameraId: s.cameraId })))),
    ).pipe(defaultIfEmpty(undefined), mergeMap(() => { cam.decoded = stats.framesDecoded; cam.reconnects = stats.reconnects; return EMPTY; }));
  }).pipe(catchError((e) => {
    // Bad settings of one camera (checked again here for in-process callers; `serve` checks them at start).
    summary.cameras[s.cameraId] ??= { produced: 0, dropped: 0, decoded: 0, reconnects: 0 };
    summary.cameras[s.cameraId].failed = redactText((e as Error).message ?? String(e), urlSecrets(s.url));
    deps.logger.error('source failed; the other cameras go on', { camera: s.cameraId, error: summary.cameras[s.cameraId].failed });
    return EMPTY;
  }));
  const run = async () => {
    await producer.connect();
    try {
      // stop() unsubscribes every source (their ffmpeg processes end) rather than leaving them running.
      const all$ = merge(...sources.map(one)).pipe(takeUntil(from(stopped)));
      await lastValueFrom(all$.pipe(defaultIfEmpty(undefined)));
      return summary;
    } finally {
      await producer.disconnect();
    }
  };
  return { done: run(), stop: () => stopFn() };
}

// ---------------------------------------------------------------------------------------------
// detector

/** A frames-topic message as a frame with raw RGB pixels: the JPEG is decoded here, so a bad image is a dead letter. */
export async function decodeFrameForDetector(m: InMessage): Promise<Decoded<Frame>> {
  const d = decodeFrame(m);
  if (!d.ok) return d;
  try {
    const rgb = await frameToRgb(d.value);
    return { ok: true, value: { ...d.value, width: rgb.width, height: rgb.height, pixels: { format: 'rgb', data: Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength) } } };
  } catch (e) {
    return { ok: false, reason: 'undecodable_image', detail: `frame ${d.value.cameraId}#${d.value.seq}: ${(e as Error).message}` };
  }
}

/** The detector service: frames → detectFaces (per frame, as embedded) → faces. Stateless; scales out in its group. */
export function startDetector(deps: ServiceDeps & { detector: FaceDetector; detectorConfig: DetectorConfig; shed?: ShedOptions }): Promise<RunningStage> {
  const t = pipelineTopics(deps.config.topicPrefix);
  return runStage<Frame, FacesMessage>({
    stage: 'detector', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics,
    inputTopic: t.frames, outputTopic: t.faces, dlqTopic: t.dlq.frames, groupId: deps.groupId ?? groupIdFor(deps.config, 'detector'),
    decode: decodeFrameForDetector,
    operator: detectFaces({ detector: deps.detector, logger: deps.logger, metrics: deps.metrics, config: deps.detectorConfig }),
    correlation: { mode: 'each' },
    encode: encodeFaces,
    chunkSize: 8,
    // Live cameras only: when the detector falls behind, fair shares between cameras and no
    // stale frames (files are analysed whole).
    shed: deps.shed ? { ...deps.shed, applies: isLiveFrame } : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// classifier

const frameKey = (f: { cameraId: string; seq: number; capturedAtMs: number }) => `${f.cameraId}#${f.seq}@${f.capturedAtMs}`;

/**
 * The classifier service: faces → classifyFaces → emotions. Partitions are consumed concurrently
 * and fed into one `bufferTime` batcher, so a model call batches faces across cameras and
 * partitions. Stateless; scales out in its group.
 */
export function startClassifier(deps: ServiceDeps & { model: () => EmotionModel; classify: ClassifyConfig; backend?: string; partitionsConcurrently?: number }): Promise<RunningStage> {
  const t = pipelineTopics(deps.config.topicPrefix);
  return runStage<FacesMessage, EmotionsMessage>({
    stage: 'classifier', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics,
    inputTopic: t.faces, outputTopic: t.emotions, dlqTopic: t.dlq.faces, groupId: deps.groupId ?? groupIdFor(deps.config, 'classifier'),
    decode: decodeFaces,
    operator: classifyFaces({ model: deps.model, config: deps.classify, logger: deps.logger, metrics: deps.metrics, backend: deps.backend }),
    correlation: { mode: 'keyed', inputKey: (m) => frameKey(m.frame), outputKey: (m) => frameKey(m.frame) },
    encode: encodeEmotions,
    partitionsConcurrently: deps.partitionsConcurrently ?? 4,
    chunkSize: 64,
  });
}

// ---------------------------------------------------------------------------------------------
// aggregator

/** One camera's part of an aggregator snapshot: the value of the compacted state topic (key = camera id). */
function cameraState(s: AggregatorSnapshot, cameraId: string): OutMessage | undefined {
  const cam = s.cameras[cameraId];
  if (!cam) return undefined;
  const part: AggregatorSnapshot = { ...s, cameras: { [cameraId]: cam } };
  return { key: cameraId, value: Buffer.from(JSON.stringify(part)), headers: { [HEADER.kind]: 'state', [HEADER.camera]: cameraId, [HEADER.contentType]: 'application/json' } };
}

/** All cameras' snapshots from the state topic, merged into one (undefined when there is none). */
export async function loadAggregatorState(deps: ServiceDeps): Promise<AggregatorSnapshot | undefined> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const values = await readCompacted(deps.kafka, t.aggregatorState, { groupPrefix: deps.groupId ?? groupIdFor(deps.config, 'aggregator'), logger: deps.logger });
  let merged: AggregatorSnapshot | undefined;
  for (const [cameraId, value] of values) {
    let s: AggregatorSnapshot;
    try {
      s = JSON.parse(value.toString('utf8')) as AggregatorSnapshot;
      if (s.snapshotVersion !== 1 || !s.cameras?.[cameraId]) throw new Error(`not a version 1 snapshot of ${cameraId}`);
    } catch (e) {
      // A state we cannot read is not silently dropped: the operator must decide (reset the topic).
      throw new Error(`aggregator state for camera ${cameraId} in ${t.aggregatorState} is unreadable (${(e as Error).message}); delete that key or the topic to start fresh`);
    }
    merged ??= { snapshotVersion: 1, cameras: {} };
    merged.cameras[cameraId] = s.cameras[cameraId];
    if (s.modelVersion) merged.modelVersion = s.modelVersion;
    if (s.maxCapturedAtMs !== undefined) merged.maxCapturedAtMs = Math.max(merged.maxCapturedAtMs ?? -Infinity, s.maxCapturedAtMs);
  }
  return merged;
}

/**
 * The aggregator service: emotions → aggregate → emotion-events, exactly once. Each chunk's events,
 * the state snapshot of the cameras it touched (compacted topic `aggregator-state`, key = camera
 * id) and the consumer offsets are one Kafka transaction. A restart (or a rebalance) restores the
 * state from that topic and resumes at the committed offsets, which match it exactly: no event is
 * lost or doubled; redelivered frames are dropped by the Aggregator (camera + seq).
 */
export async function startAggregator(deps: ServiceDeps & { aggregatorConfig: AggregatorConfig; transactionalId?: string }): Promise<RunningStage & { aggregator(): Aggregator }> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const groupId = deps.groupId ?? groupIdFor(deps.config, 'aggregator');
  const snapshot = await loadAggregatorState({ ...deps, groupId });
  let agg: Aggregator | undefined;
  const stage = await runStage<EmotionsMessage, AggregatorOutput>({
    stage: 'aggregator', kafka: deps.kafka, config: deps.config, logger: deps.logger, metrics: deps.metrics,
    inputTopic: t.emotions, outputTopic: t.events, dlqTopic: t.dlq.emotions, groupId,
    decode: decodeEmotions,
    operator: aggregate({ config: deps.aggregatorConfig, logger: deps.logger, metrics: deps.metrics, snapshot, onAggregator: (a) => { agg = a; } }),
    correlation: { mode: 'sync' },
    encode: (o) => {
      if (o.kind !== 'event') throw new Error('the aggregator stage never completes while it consumes');
      return encodeEvent(o.event);
    },
    onControl: (c) => agg!.end(c.cameraId).map((event) => ({ kind: 'event' as const, event })),
    transactional: {
      // Stable across restarts: the new instance fences the old one and aborts its open transaction.
      transactionalId: deps.transactionalId ?? `${groupId}-tx`,
      checkpoint: () => agg!.snapshot(),
      rollback: (s) => agg!.restore(s as AggregatorSnapshot),
      extra: (inputs, controls) => {
        const cams = new Set([...inputs.map((m) => m.frame.cameraId), ...controls.map((c) => c.cameraId)]);
        const s = agg!.snapshot();
        const messages = [...cams].flatMap((id) => cameraState(s, id) ?? []);
        return [{ topic: t.aggregatorState, messages }];
      },
    },
    onRejoin: async () => {
      const s = await loadAggregatorState({ ...deps, groupId });
      if (s) agg!.restore(s);
    },
    chunkSize: 64,
  });
  return Object.assign(stage, { aggregator: () => agg! });
}

// ---------------------------------------------------------------------------------------------
// the process shell

/** Settings of a service process besides Kafka's: one strict schema, from env (EMOSTREAM_*, CLASSIFIER_*). */
export const ServeConfigSchema = z.strictObject({
  metricsPort: z.number().int().min(0).max(65535).default(9464).describe('Port of /metrics, /healthz, /readyz (env EMOSTREAM_METRICS_PORT)'),
  metricsHost: z.string().default('0.0.0.0').describe('Address the metrics server listens on (env EMOSTREAM_METRICS_HOST)'),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto').describe('TensorFlow.js backend (env EMOSTREAM_BACKEND)'),
  model: z.string().optional().describe('Classifier model directory, or `human` (env CLASSIFIER_MODEL); default: the shipped model'),
  maxWaitMs: z.number().int().min(0).max(10_000).default(20).describe('Classifier: longest a frame waits for its batch, ms (env CLASSIFIER_MAX_WAIT_MS)'),
  maxBatchFrames: z.number().int().min(1).max(1024).default(32).describe('Classifier: most frames per model call (env CLASSIFIER_MAX_BATCH_FRAMES)'),
  modelPollMs: z.number().int().min(0).max(3_600_000).default(10_000).describe('Classifier: how often the model directory is checked for a new version, ms; 0 = never (env CLASSIFIER_MODEL_POLL_MS)'),
  jpegQuality: z.number().int().min(30).max(100).default(DEFAULT_JPEG_QUALITY).describe('Ingest: JPEG quality of frames on the wire (env INGEST_JPEG_QUALITY)'),
  fpsLimit: z.number().min(0.1).max(120).default(10).describe('Ingest: frames per second at most per camera (env INGEST_FPS)'),
  maxWidth: z.number().int().min(16).max(7680).default(1280).describe('Ingest: wider frames are scaled down, pixels (env INGEST_MAX_WIDTH)'),
  maxHeight: z.number().int().min(16).max(4320).default(720).describe('Ingest: taller frames are scaled down, pixels (env INGEST_MAX_HEIGHT)'),
  stallTimeoutMs: z.number().int().min(500).max(600_000).default(10_000)
    .describe('Ingest: a camera that delivers no frame for this long is restarted, ms (env INGEST_STALL_TIMEOUT_MS)'),
  readTimeoutMs: z.number().int().min(100).max(600_000).default(5_000).describe('Ingest: RTSP socket timeout handed to ffmpeg, ms (env INGEST_READ_TIMEOUT_MS)'),
  backoffInitialMs: z.number().int().min(10).max(60_000).default(500).describe('Ingest: first reconnect delay, ms (env INGEST_BACKOFF_INITIAL_MS)'),
  // 3 s, not the library's 30 s: a camera that comes back is read again within ~3 s (plus its
  // first keyframe), and a try against a closed port costs one ffmpeg start (~70 ms).
  backoffMaxMs: z.number().int().min(10).max(600_000).default(3_000).describe('Ingest: longest reconnect delay, ms (env INGEST_BACKOFF_MAX_MS)'),
  // 0 for a service: a camera that is away is retried for ever (the CameraStalled alert tells
  // the operator); giving up would only stop this camera, never the others.
  giveUpAfterMs: z.number().int().min(0).max(7 * 24 * 3_600_000).default(0)
    .describe('Ingest: give a silent camera up after this long, ms; 0 = retry for ever (env INGEST_GIVE_UP_AFTER_MS)'),
  queueMaxFrames: z.number().int().min(1).max(10_000).default(8).describe('Ingest: frames waiting per camera before the oldest is dropped (env INGEST_QUEUE_MAX_FRAMES)'),
  rtspTransport: z.enum(['tcp', 'udp']).default('tcp').describe('Ingest: RTSP transport (env INGEST_RTSP_TRANSPORT)'),
  realtime: z.boolean().default(false).describe('Ingest: read files at their own frame rate, like a camera (env INGEST_REALTIME=true); for demos and tests'),
  transactionalId: z.string().optional().describe('Aggregator: Kafka transactional id, unique per instance and stable across its restarts (env AGGREGATOR_TRANSACTIONAL_ID)'),
});
/** Parsed service settings. */
export type ServeConfig = z.infer<typeof ServeConfigSchema>;

const SERVE_ENV: Record<string, keyof ServeConfig> = {
  EMOSTREAM_METRICS_PORT: 'metricsPort', EMOSTREAM_METRICS_HOST: 'metricsHost', EMOSTREAM_BACKEND: 'backend',
  CLASSIFIER_MODEL: 'model', CLASSIFIER_MAX_WAIT_MS: 'maxWaitMs', CLASSIFIER_MAX_BATCH_FRAMES: 'maxBatchFrames', CLASSIFIER_MODEL_POLL_MS: 'modelPollMs',
  INGEST_JPEG_QUALITY: 'jpegQuality', INGEST_FPS: 'fpsLimit', AGGREGATOR_TRANSACTIONAL_ID: 'transactionalId',
  INGEST_MAX_WIDTH: 'maxWidth', INGEST_MAX_HEIGHT: 'maxHeight', INGEST_STALL_TIMEOUT_MS: 'stallTimeoutMs',
  INGEST_READ_TIMEOUT_MS: 'readTimeoutMs', INGEST_BACKOFF_INITIAL_MS: 'backoffInitialMs', INGEST_BACKOFF_MAX_MS: 'backoffMaxMs',
  INGEST_GIVE_UP_AFTER_MS: 'giveUpAfterMs', INGEST_QUEUE_MAX_FRAMES: 'queueMaxFrames', INGEST_RTSP_TRANSPORT: 'rtspTransport',
  INGEST_REALTIME: 'realtime',
};
const STRING_SETTINGS = new Set<keyof ServeConfig>(['model', 'metricsHost', 'backend', 'transactionalId', 'rtspTransport']);

/** The service settings from the environment (the one place that reads them). */
export function serveConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ServeConfig> = {}): ServeConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(SERVE_ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    raw[field] = STRING_SETTINGS.has(field) ? v : field === 'realtime' ? (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v) : Number(v);
  }
  const r = ServeConfigSchema.safeParse({ ...raw, ...overrides });
  if (r.success) return r.data;
  const byField = Object.fromEntries(Object.entries(SERVE_ENV).map(([k, f]) => [f, k]));
  throw new Error(`invalid service settings: ${r.error.issues.map((i) => `${byField[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`).join('; ')}`);
}

/** `cameraId=url` → source (`from` names where it came from in the error). */
export function parseSourceArg(v: string, from = '--source'): IngestSource {
  const at = v.indexOf('=');
  const cameraId = at > 0 ? v.slice(0, at) : '';
  const url = at > 0 ? v.slice(at + 1) : '';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(cameraId) || !url) throw new Error(`${from} expects <cameraId>=<file|rtsp-url> with a camera id of A-Z a-z 0-9 . _ -, got '${redactText(v)}'`);
  return { cameraId, url };
}

/**
 * The cameras of `EMOSTREAM_SOURCES` (the Kubernetes Secret's key): `<cameraId>=<url>` entries
 * separated by newlines, spaces or commas (a comma inside a URL must be written %2C).
 */
export function parseSourcesEnv(v: string | undefined): IngestSource[] {
  if (!v) return [];
  return v.split(/[\s,]+/).filter(Boolean).map((e) => parseSourceArg(e, 'EMOSTREAM_SOURCES'));
}

/**
 * `--source` options and `EMOSTREAM_SOURCES` together: a camera named in both with the same URL
 * counts once (a manifest may pass the Secret both ways); with two different URLs it is an error.
 * Every source is checked here, so a bad camera id, URL scheme or setting fails at start with
 * the camera named and the credentials out of the message.
 */
export function ingestSources(args: string[], env: string | undefined, settings: Partial<SourceConfig> = {}): IngestSource[] {
  const byId = new Map<string, IngestSource>();
  for (const s of [...args.map((a) => parseSourceArg(a)), ...parseSourcesEnv(env)]) {
    const seen = byId.get(s.cameraId);
    if (seen && seen.url !== s.url) throw new Error(`camera ${s.cameraId} is given twice with different URLs (--source / EMOSTREAM_SOURCES): keep one`);
    if (seen) continue;
    try {
      parseSourceConfig({ ...settings, cameraId: s.cameraId, url: s.url });
      classifyInput(s.url);
    } catch (e) {
      throw new Error(`camera ${s.cameraId}: ${redactText((e as Error).message, urlSecrets(s.url))}`);
    }
    byId.set(s.cameraId, s);
  }
  return [...byId.values()];
}

/** Runs one service until SIGTERM/SIGINT (or, for `ingest --once`, until its files end). */
export async function serve(service: ServiceName, o: { source: string[]; once: boolean; metricsPort?: number }): Promise<void> {
  if (service !== 'ingest' && (o.source.length || o.once)) throw new Error(`--source and --once are options of serve ingest, not of serve ${service}`);
  const settings = serveConfigFromEnv(process.env, o.metricsPort !== undefined ? { metricsPort: o.metricsPort } : {});
  const sourceSettings: Partial<SourceConfig> = {
    fpsLimit: settings.fpsLimit, maxWidth: settings.maxWidth, maxHeight: settings.maxHeight, stallTimeoutMs: settings.stallTimeoutMs,
    readTimeoutMs: settings.readTimeoutMs, backoffInitialMs: settings.backoffInitialMs, backoffMaxMs: settings.backoffMaxMs,
    giveUpAfterMs: settings.giveUpAfterMs, queueMaxFrames: settings.queueMaxFrames, rtspTransport: settings.rtspTransport,
  };
  const sources = service === 'ingest' ? ingestSources(o.source, process.env.EMOSTREAM_SOURCES, sourceSettings) : [];
  if (service === 'ingest' && sources.length === 0) throw new Error('serve ingest needs at least one camera: --source <cameraId>=<file|rtsp-url> (repeatable) or EMOSTREAM_SOURCES');
  const config = kafkaConfigFromEnv();
  const logger = createLogger({ secrets: sources.flatMap((s) => urlSecrets(s.url)), base: { service } });
  const metrics = createMetrics({ defaults: true });
  const kafka = createKafka(config, `${service}-${os.hostname()}`, logger);
  await ensureTopics(kafka, pipelineTopicSpecs(config), logger);
  const deps: ServiceDeps = { kafka, config, logger, metrics };
  let ready: () => { ok: boolean; reasons: string[] } = () => ({ ok: false, reasons: ['starting'] });
  const server = await startMetricsServer({ port: settings.metricsPort, host: settings.metricsHost, registry: metrics.registry, ready: () => ready() });
  logger.info('metrics server listening', { port: server.port });
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const cleanups: Array<() => Promise<void> | void> = [() => server.close()];
  try {
    if (service === 'ingest') {
      const stats: Record<string, IngestStats> = Object.fromEntries(sources.map((s) => [s.cameraId, createIngestStats()]));
      // realtime applies to files only (a camera is real time already).
      const realtime = (url: string) => (settings.realtime && classifyInput(url).kind === 'file' ? { realtime: true } : {});
      const run = startIngest(sources.map((s) => ({ ...s, settings: { ...sourceSettings, ...realtime(s.url) } })), { ...deps, jpegQuality: settings.jpegQuality, stats });
      ready = () => {
        const idle = Object.entries(stats).filter(([, s]) => s.framesDecoded === 0).map(([id]) => `no frame from ${id} yet`);
        return { ok: idle.length === 0, reasons: idle };
      };
      const r = await Promise.race([run.done.then((s) => ({ kind: 'ended' as const, s })), stopSignal.then((sig) => ({ kind: 'signal' as const, sig }))]);
      if (r.kind === 'signal') { run.stop(); await run.done; return; }
      logger.info('all sources ended; every frame acknowledged by the broker', { summary: r.s });
      const failed = Object.entries(r.s.cameras).filter(([, c]) => c.failed).map(([id]) => id);
      if (o.once && failed.length) throw new Error(`${failed.length} of ${sources.length} camera(s) failed: ${failed.map((id) => `${id} (${r.s.cameras[id].failed})`).join('; ')}`);
      if (o.once) return;
      ready = () => ({ ok: true, reasons: [] });
      await stopSignal;
      return;
    }
    let stage: RunningStage;
    if (service === 'detector') {
      const rt = await loadTf(settings.backend as BackendChoice);
      const detectorConfig = detectorConfigFromEnv();
      const detector = await createDetector(detectorConfig, { tf: rt });
      cleanups.push(() => detector.dispose());
      stage = await startDetector({ ...deps, detector, detectorConfig, shed: shedOptionsFromEnv() });
    } else if (service === 'classifier') {
      const rt = await loadTf(settings.backend as BackendChoice);
      const initial = await loadEmotionModel(rt.tf, { model: settings.model });
      const handle = settings.model === 'human' ? { current: () => initial, close() {} }
        : watchModel({ tf: rt.tf, dir: initial.dir!, initial, logger, metrics, backend: rt, pollMs: settings.modelPollMs });
      cleanups.push(() => handle.close());
      stage = await startClassifier({ ...deps, model: handle.current, classify: { maxWaitMs: settings.maxWaitMs, maxBatchFrames: settings.maxBatchFrames }, backend: rt.provider });
    } else {
      stage = await startAggregator({ ...deps, aggregatorConfig: aggregatorConfigFromEnv(), transactionalId: settings.transactionalId });
    }
    cleanups.unshift(() => stage.stop());
    ready = stage.ready;
    const r = await Promise.race([stopSignal, stage.done.then(() => 'done')]);
    logger.info('stopping', { reason: r, stats: stage.stats });
  } finally {
    for (const c of cleanups) await c();
  }
}

/** Registers `serve` on the program. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run one service of the distributed pipeline over Kafka (KAFKA_BROKERS, see packages/kafka/README.md)')
    .argument('<service>', SERVICES.join(' | '))
    .option('--source <cameraId=url>', 'ingest: a camera id and its file or rtsp:// URL (repeatable; also read from EMOSTREAM_SOURCES)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--once', 'ingest: exit when the file sources end, after their last frame is acknowledged by the broker', false)
    .option('--metrics-port <port>', 'port of /metrics, /healthz and /readyz (default env EMOSTREAM_METRICS_PORT or 9464)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--metrics-port must be an integer from 0 to 65535, got '${v}'`);
      return n;
    })
    .action(async (service: string, opts: { source: string[]; once: boolean; metricsPort?: number }) => {
      if (!(SERVICES as readonly string[]).includes(service)) throw new Error(`unknown service '${service}': use one of ${SERVICES.join(', ')}`);
      await serve(service as ServiceName, opts);
    });
}

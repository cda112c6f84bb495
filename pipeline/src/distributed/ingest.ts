/**
 * The ingest service: one frame source per camera → JPEG → the frames topic (key = camera id).
 */
import { EMPTY, catchError, concat, defer, from, lastValueFrom, merge, defaultIfEmpty, mergeMap, takeUntil, type Observable } from 'rxjs';
import type { Frame } from '@emostream/contracts';
import { redactText, urlSecrets } from '@emostream/runtime';
import { boundedQueue, createIngestStats, dropCounter, frameSource, parseSourceConfig, type IngestStats, type SourceConfig } from '@emostream/ingest';
import { createProducer, encodeControl, encodeFrame, pipelineTopics, sendCapped, toJpegFrame, type OutMessage } from '@emostream/kafka';
import { valveFor } from '../wiring.js';
import type { ServiceDeps } from './deps.js';

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
    const valve = valveFor(config.url);
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

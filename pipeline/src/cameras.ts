/**
 * The embedded pipeline for several cameras in one process: one detector, one classifier and one
 * aggregator shared by every camera, the detector taken in turns ({@link FairDetector}: a live
 * camera's newest frame, a file's next one from its bounded queue, which pauses its decoder).
 * Each camera has its own end (its persons leave when its frames are through, while the others
 * go on) and its own failure (a camera that fails ends; the others are not touched).
 */
import { EMPTY, Observable, Subject, catchError, concat, defer, from, merge, mergeMap, of } from 'rxjs';
import type { EmotionsMessage, FacesMessage, Frame } from '@emostream/contracts';
import { redactText } from '@emostream/runtime';
import { boundedQueue, dropCounter, type IngestStats, type Valve } from '@emostream/ingest';
import type { AggregatorOutput, AggregatorStage } from '@emostream/aggregator';
import { startedMessages, type StartedFrame } from '@emostream/detector';
import { embeddedStages, type StageDeps } from './embedded.js';
import { FairDetector } from './fairDetector.js';

/**
 * Frames of different cameras in the detector stage at once. BlazeFace batches the images of
 * calls made while it is busy, about 11-12 ms an image in a batch of 4-8 against 23-27 ms alone
 * (2 AMD EPYC cores); more frames at once would add memory for little more speed.
 */
export const FRAMES_AT_ONCE = 4;

/** One camera of the run. */
export interface CameraInput {
  cameraId: string;
  /** Its decoded frames (an error ends this camera only). */
  frames: Observable<Frame>;
  /** A file's valve (lossless: its decoder pauses while its queue is full); none for a live camera. */
  valve?: Valve;
  /** Filled in place (drops counted here too). */
  stats: IngestStats;
  /** A file's frames waiting for the detector at most (the ingest setting `queueMaxFrames`); a live camera keeps only its newest. */
  queueMaxFrames: number;
  /** Words for its error messages (the credentials out of them), e.g. the URL's secrets. */
  secrets?: readonly string[];
}

/** The pipeline's output: the aggregator's (events, then the timelines at the very end), and each camera's end. */
export type CamerasOutput = AggregatorOutput | {
  kind: 'ended';
  cameraId: string;
  /** Why the camera stopped, when it failed (redacted). */
  error?: string;
  /** Its live frames skipped for a newer one while the detector was behind (also counted in its stats' drops). */
  skipped: number;
};

/** The several cameras' pipeline and the aggregator stage it owns (timelines). */
export interface CamerasPipeline {
  /**
   * Frames of every camera in; events out. A camera's `ended` follows its last event (its
   * persons' `person.left` included); the timelines of all cameras come last.
   */
  run(cameras: readonly CameraInput[]): Observable<CamerasOutput>;
  readonly aggregator: AggregatorStage;
}

interface Lane {
  input: CameraInput;
  /** Frames offered and not yet through the aggregator (nor dropped on the way). */
  inFlight: number;
  detectedAll: boolean;
  ended: boolean;
  skipped: number;
  error?: string;
}

/** Builds the pipeline. */
export function createCamerasPipeline(d: StageDeps): CamerasPipeline {
  // The live cameras of the run (no valve): their frames' tile sweeps are spread (tilesSweepFramesLive).
  const liveCameras = new Set<string>();
  const { start, classify, aggregator } = embeddedStages({ ...d, isLive: d.isLive ?? ((f) => liveCameras.has(f.cameraId)) });
  const log = d.logger;

  const run = (cameras: readonly CameraInput[]) => new Observable<CamerasOutput>((sub) => {
    const ids = new Set<string>();
    for (const c of cameras) {
      if (ids.has(c.cameraId)) throw new Error(`camera ${c.cameraId} is given twice: camera ids must differ`);
      ids.add(c.cameraId);
    }
    const lanes = new Map<string, Lane>(cameras.map((input) => [input.cameraId, { input, inFlight: 0, detectedAll: false, ended: false, skipped: 0 }]));
    for (const c of cameras) if (!c.valve) liveCameras.add(c.cameraId);
    // Up to FRAMES_AT_ONCE cameras' frames in the detector stage side by side: BlazeFace takes them in one batch.
    // A camera's turn ends with its frame's detection; the frame's crops and embeddings then run
    // beside the next frame's detection, and its message comes out in order (detected$ below).
    const fair = new FairDetector<Frame, StartedFrame<never>>(start, { concurrency: Math.min(FRAMES_AT_ONCE, lanes.size) });

    // A camera ends once all its frames were detected (or dropped) and are through the aggregator.
    const maybeEnd = (lane: Lane) => {
      if (lane.ended || !lane.detectedAll || lane.inFlight > 0) return;
      lane.ended = true;
      for (const o of aggregator.end(lane.input.cameraId)) sub.next(o);
      sub.next({ kind: 'ended', cameraId: lane.input.cameraId, skipped: lane.skipped, ...(lane.error ? { error: lane.error } : {}) });
    };
    const settled = (lane: Lane) => { lane.inFlight--; maybeEnd(lane); };

    const laneFaces = (lane: Lane): Observable<FacesMessage> => {
      const { input } = lane;
      const live = !input.valve;
      const frames$ = input.frames.pipe(catchError((e: unknown) => {
        lane.error = redactText((e as Error)?.message ?? String(e), input.secrets);
        log.error(lanes.size > 1 ? 'camera failed; the other cameras go on' : 'source failed', { camera: input.cameraId, error: lane.error });
        return EMPTY;
      }));
      const offered = (f: Frame): Observable<StartedFrame<never>> => {
        lane.inFlight++;
        return from(fair.offer(f, live)).pipe(mergeMap((o) => {
          if (o.skipped) {
            // A newer frame of this live camera took its place while it waited for its turn.
            d.metrics?.framesDropped.inc({ camera: input.cameraId, reason: 'overload' });
            input.stats.framesDropped++;
            lane.skipped++;
            settled(lane);
            return EMPTY;
          }
          return o.result ? of(o.result) : (settled(lane), EMPTY);
        }));
      };
      // A live camera offers every frame at once (a newer one replaces the one waiting); a file
      // one at a time from its bounded queue, which pauses its decoder while full.
      const started$ = live
        ? frames$.pipe(mergeMap(offered))
        : frames$.pipe(boundedQueue(input.queueMaxFrames, dropCounter(input.cameraId, { metrics: d.metrics, stats: input.stats }), offered, { valve: input.valve }));
      // Each frame's message once its faces are cut, in order. Detection dropped a frame that
      // could not be decoded (logged and counted by the detector): it settles here.
      const detected$ = started$.pipe(startedMessages<never>(() => settled(lane)));
      return concat(detected$, defer(() => { lane.detectedAll = true; maybeEnd(lane); return EMPTY; }));
    };

    // The aggregator is driven frame by frame, so that a camera's end comes right after its last frame's events.
    const aggIn = new Subject<EmotionsMessage>();
    const downstream = aggregator.operator(aggIn).subscribe(sub);
    const upstream = merge(...[...lanes.values()].map(laneFaces)).pipe(classify).subscribe({
      next: (m) => {
        aggIn.next(m);
        const lane = lanes.get(m.frame.cameraId);
        if (lane) settled(lane);
      },
      error: (e) => sub.error(e),
      complete: () => {
        for (const lane of lanes.values()) { lane.detectedAll = true; lane.inFlight = 0; maybeEnd(lane); }
        aggIn.complete();
      },
    });
    return () => {
      upstream.unsubscribe();
      downstream.unsubscribe();
    };
  });
  return { run, aggregator };
}

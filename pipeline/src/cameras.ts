/**
 * The embedded pipeline for several cameras in one process: one detector, one classifier and one
 * aggregator shared by every camera, the detector taken in turns ({@link FairDetector}). Each
 * camera keeps its own bounded queue in front of the detector (a live camera drops its oldest
 * waiting frame, a file pauses its decoder), its own end (its persons leave when its frames are
 * through, while the others go on) and its own failure (a camera that fails ends; the others
 * are not touched).
 */
import { EMPTY, Observable, Subject, catchError, concat, defer, from, lastValueFrom, merge, mergeMap, of, tap } from 'rxjs';
import type { EmotionsMessage, FacesMessage, Frame } from '@emostream/contracts';
import { redactText } from '@emostream/runtime';
import { boundedQueue, dropCounter, type IngestStats, type Valve } from '@emostream/ingest';
import type { ShedOptions } from '@emostream/kafka';
import type { AggregatorOutput, AggregatorStage } from '@emostream/aggregator';
import { embeddedStages, type StageDeps } from './embedded.js';
import { FairDetector, embeddedShed } from './fairDetector.js';

/** One camera of the run. */
export interface CameraInput {
  cameraId: string;
  /** Its decoded frames (an error ends this camera only). */
  frames: Observable<Frame>;
  /** A file's valve (lossless: its decoder pauses while the camera's queue is full); none for a live camera. */
  valve?: Valve;
  /** Filled in place (drops counted here too). */
  stats: IngestStats;
  /** Frames waiting for the detector at most (the ingest setting `queueMaxFrames`). */
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
  /** Its live frames skipped by the fair shedding (also counted in its stats' drops). */
  shed: number;
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
  /** Frames in its queue, not yet offered to the detector. */
  queued: number;
  /** Frames offered and not yet through the aggregator (nor dropped on the way). */
  inFlight: number;
  detectedAll: boolean;
  ended: boolean;
  shed: number;
  error?: string;
}

/**
 * Builds the pipeline. `shed`: the live cameras' shedding (default {@link embeddedShed} for the
 * number of live cameras of the run; `false`: none, the queues alone bound the delay).
 */
export function createCamerasPipeline(d: StageDeps & { shed?: ShedOptions | false }): CamerasPipeline {
  const { detect, classify, aggregator } = embeddedStages(d);
  const log = d.logger;

  const run = (cameras: readonly CameraInput[]) => new Observable<CamerasOutput>((sub) => {
    const ids = new Set<string>();
    for (const c of cameras) {
      if (ids.has(c.cameraId)) throw new Error(`camera ${c.cameraId} is given twice: camera ids must differ`);
      ids.add(c.cameraId);
    }
    const lanes = new Map<string, Lane>(cameras.map((input) => [input.cameraId, { input, queued: 0, inFlight: 0, detectedAll: false, ended: false, shed: 0 }]));
    const live = cameras.filter((c) => !c.valve).length;
    let waiting = 0;
    const fair = new FairDetector<Frame, FacesMessage>(
      (f) => lastValueFrom(of(f).pipe(detect), { defaultValue: undefined }),
      { shed: d.shed ?? embeddedShed(live), waiting: () => waiting },
    );

    // A camera ends once all its frames were detected (or dropped) and are through the aggregator.
    const maybeEnd = (lane: Lane) => {
      if (lane.ended || !lane.detectedAll || lane.inFlight > 0) return;
      lane.ended = true;
      for (const o of aggregator.end(lane.input.cameraId)) sub.next(o);
      sub.next({ kind: 'ended', cameraId: lane.input.cameraId, shed: lane.shed, ...(lane.error ? { error: lane.error } : {}) });
    };
    const settled = (lane: Lane) => { lane.inFlight--; maybeEnd(lane); };

    const laneFaces = (lane: Lane): Observable<FacesMessage> => {
      const { input } = lane;
      const countDrop = dropCounter(input.cameraId, { metrics: d.metrics, stats: input.stats });
      const frames$ = input.frames.pipe(
        catchError((e: unknown) => {
          lane.error = redactText((e as Error)?.message ?? String(e), input.secrets);
          log.error(lanes.size > 1 ? 'camera failed; the other cameras go on' : 'source failed', { camera: input.cameraId, error: lane.error });
          return EMPTY;
        }),
        tap(() => { lane.queued++; waiting++; }),
      );
      const offered = (f: Frame): Observable<FacesMessage> => {
        lane.queued--; waiting--; lane.inFlight++;
        return from(fair.offer(f, !input.valve)).pipe(mergeMap((o) => {
          if (o.shed) {
            d.metrics?.framesDropped.inc({ camera: input.cameraId, reason: o.shed });
            input.stats.framesDropped++;
            lane.shed++;
            settled(lane);
            return EMPTY;
          }
          // Detection dropped the frame (it could not be decoded; logged and counted by the detector).
          if (!o.result) { settled(lane); return EMPTY; }
          return of(o.result);
        }));
      };
      return concat(
        frames$.pipe(boundedQueue(input.queueMaxFrames, (f: Frame) => { lane.queued--; waiting--; countDrop(f); }, offered, { valve: input.valve })),
        defer(() => { lane.detectedAll = true; maybeEnd(lane); return EMPTY; }),
      );
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

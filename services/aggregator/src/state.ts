/**
 * The aggregator's state per camera, and its snapshot: only what a restart needs to go on
 * emitting the same events (which frames were processed, the open tracks and persons), never the
 * persons who left, their timelines or anyone's appearance. A camera's snapshot therefore stays
 * the same size however many persons have passed it.
 */
import type { PersonLink, Segment } from '@emostream/contracts';
import type { AggregatorConfig } from './config.js';
import type { PersonState } from './person.js';
import type { SeenFrames } from './redelivery.js';
import { FaceTracker, type TrackerState } from './tracker.js';

/** A person whose track ended: kept (in memory) for `timelines()` and a returning person's earlier segments. */
export interface FinishedPerson {
  firstSeenMs: number;
  lastSeenMs: number;
  segments: Segment[];
  /** Linked across cameras: who they were first seen as on another camera. */
  sameAs?: PersonLink;
}

/** One camera's state in memory; which frames it processed is {@link SeenFrames}. */
export interface CameraState extends SeenFrames {
  /** Open tracks' persons (tentative ones too), keyed by the tracker's track key. */
  persons: Record<string, PersonState>;
  /** Persons who left, at most `finishedMaxPersons` (memory only: never in a snapshot). */
  finished: Record<string, FinishedPerson>;
  lastMediaTimeMs?: number;
}

/**
 * What a restart needs of one camera (plain JSON): the frames processed, the tracker's open
 * tracks (without appearance descriptors: biometric data) and the open persons with their
 * smoothing, hysteresis and current segment. A person's closed segments are not in it: events
 * never depend on them, and a person standing in front of a camera all day would otherwise grow
 * the record with every change of emotion (after a restore, `timelines()` shows an open person
 * from their current segment on).
 */
export interface CameraSnapshot extends SeenFrames {
  tracker: TrackerState;
  persons: Record<string, PersonState>;
  lastMediaTimeMs?: number;
  /** Persons who left, as earlier versions wrote them: read (and kept in memory), never written. */
  finished?: Record<string, FinishedPerson>;
}

/** Everything needed to resume after a restart (all cameras or some); plain JSON. */
export interface AggregatorSnapshot {
  snapshotVersion: 1;
  modelVersion?: string;
  maxCapturedAtMs?: number;
  cameras: Record<string, CameraSnapshot>;
}

/** One camera in memory: its state and its tracker. */
export interface Camera {
  state: CameraState;
  tracker: FaceTracker;
}

/** A new camera with no state. */
export function newCamera(config: AggregatorConfig): Camera {
  return { state: { persons: {}, finished: {} }, tracker: new FaceTracker(config) };
}

/** A camera's snapshot: a copy of what a restart needs, nothing else. */
export function snapshotCamera({ state, tracker }: Camera): CameraSnapshot {
  const persons: Record<string, PersonState> = {};
  for (const [key, p] of Object.entries(state.persons)) {
    const { priorSegments: _prior, hindsight: _hindsight, timeline, ...rest } = p;
    persons[key] = structuredClone({ ...rest, timeline: { closed: [], ...(timeline.open ? { open: timeline.open } : {}), pending: timeline.pending } });
  }
  return {
    ...(state.lastSeq !== undefined ? { lastSeq: state.lastSeq } : {}),
    ...(state.lastCapturedAtMs !== undefined ? { lastCapturedAtMs: state.lastCapturedAtMs } : {}),
    ...(state.lastRun !== undefined ? { lastRun: state.lastRun } : {}),
    ...(state.runs ? { runs: [...state.runs] } : {}),
    ...(state.lastMediaTimeMs !== undefined ? { lastMediaTimeMs: state.lastMediaTimeMs } : {}),
    tracker: tracker.snapshot(),
    persons,
  };
}

/** A camera from its snapshot (a copy); `finished` from the snapshot when it has them, else `keepFinished`. */
export function restoreCamera(snap: CameraSnapshot, config: AggregatorConfig, keepFinished: Record<string, FinishedPerson> = {}): Camera {
  const { tracker, finished, ...rest } = structuredClone(snap);
  return { state: { ...rest, finished: finished ?? keepFinished }, tracker: new FaceTracker(config, tracker) };
}

/**
 * Keeps at most `max` persons who left (the latest to leave; 0 keeps all): a camera watched for
 * weeks must not grow its memory with everyone who ever passed.
 */
export function forgetOldest(finished: Record<string, FinishedPerson>, max: number): void {
  const ids = Object.keys(finished);
  if (max <= 0 || ids.length <= max) return;
  ids.sort((a, b) => finished[a].lastSeenMs - finished[b].lastSeenMs);
  for (const id of ids.slice(0, ids.length - max)) delete finished[id];
}

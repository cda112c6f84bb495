/**
 * Which frames a camera has processed already (at-least-once input is redelivered after a
 * restart or a failed transaction): per camera, the ingest run of its last frame and that run's
 * last `seq`. A frame's `run` is the id of the ingest run (one frame source's life) that made it;
 * `seq` counts within a run. The frames topic keeps each camera's frames in order, so a frame of
 * an earlier run that comes after a later run's frames can only be a redelivery.
 *
 * No wall clock: an ingest restart on a host whose clock is behind does not drop good frames,
 * and a clock that jumped forward does not pin anything. Frames without a run (written before
 * runs existed) fall back to `seq` and capture time.
 */
import type { FrameRef } from '@emostream/contracts';

/** What a camera remembers (JSON, part of the aggregator's snapshot). */
export interface SeenFrames {
  lastSeq?: number;
  lastCapturedAtMs?: number;
  /** The run of the last frame processed. */
  lastRun?: string;
  /** Earlier runs of this camera, the most recent last (at most {@link MAX_RUNS}). */
  runs?: string[];
}

/** Earlier runs remembered per camera. */
export const MAX_RUNS = 16;

/** Whether `frame` was processed already. */
export function isRedelivery(seen: SeenFrames, frame: Pick<FrameRef, 'seq' | 'capturedAtMs' | 'run'>): boolean {
  if (seen.lastSeq === undefined) return false;
  if (frame.run !== undefined && seen.lastRun !== undefined) {
    if (frame.run === seen.lastRun) return frame.seq <= seen.lastSeq;
    return seen.runs?.includes(frame.run) ?? false;
  }
  return frame.seq <= seen.lastSeq && frame.capturedAtMs <= (seen.lastCapturedAtMs ?? -Infinity);
}

/** Records `frame` as the camera's last processed one. */
export function markProcessed(seen: SeenFrames, frame: Pick<FrameRef, 'seq' | 'capturedAtMs' | 'run'>): void {
  if (frame.run !== undefined && seen.lastRun !== undefined && frame.run !== seen.lastRun) {
    seen.runs = [...(seen.runs ?? []).filter((r) => r !== seen.lastRun), seen.lastRun].slice(-MAX_RUNS);
  }
  seen.lastSeq = frame.seq;
  seen.lastCapturedAtMs = frame.capturedAtMs;
  if (frame.run !== undefined) seen.lastRun = frame.run;
}

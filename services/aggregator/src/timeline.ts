/** Per-person emotion timelines: segments of one dominant emotion over media time. */
import type { EmotionProbabilities, EmotionState, Segment } from '@emostream/contracts';
import type { DominantEmotion } from './hysteresis.js';

/** The segment being built (JSON-serialisable). */
interface OpenSegment {
  emotion: EmotionState;
  startMs: number;
  endMs: number;
  /** Sum and count of the segment emotion's smoothed probability over its frames (uncertain: the likeliest one's). */
  confidenceSum: number;
  frames: number;
}

/** Timeline state of one person (JSON-serialisable). */
export interface TimelineState {
  closed: Segment[];
  open?: OpenSegment;
  /**
   * Frames since a challenger started leading: they belong to the challenger's segment if it
   * wins (the change is dated from when its lead began), else to the current one.
   */
  pending: { timeMs: number; probabilities: EmotionProbabilities }[];
}

/** An empty timeline. */
export function emptyTimeline(): TimelineState {
  return { closed: [], pending: [] };
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** How sure the smoothed probabilities are of a state: its probability; for `uncertain`, the likeliest emotion's. */
export function stateConfidence(p: EmotionProbabilities, state: EmotionState): number {
  return state === 'uncertain' ? Math.max(...Object.values(p)) : p[state];
}

function addFrame(seg: OpenSegment, timeMs: number, p: EmotionProbabilities): void {
  seg.confidenceSum += stateConfidence(p, seg.emotion);
  seg.frames++;
  seg.endMs = Math.max(seg.endMs, timeMs);
}

function close(seg: OpenSegment, endMs: number): Segment {
  return {
    emotion: seg.emotion, startMs: seg.startMs, endMs: Math.max(seg.startMs, endMs),
    meanConfidence: seg.frames > 0 ? clamp01(seg.confidenceSum / seg.frames) : 0,
  };
}

/**
 * Adds one frame of a person: its smoothed probabilities and the dominant-emotion state after
 * this frame (`changed` when hysteresis switched in this frame). Mutates and returns `tl`.
 */
export function addToTimeline(tl: TimelineState, timeMs: number, p: EmotionProbabilities, dominant: DominantEmotion, changed: boolean): TimelineState {
  if (!tl.open) {
    tl.open = { emotion: dominant.emotion, startMs: timeMs, endMs: timeMs, confidenceSum: 0, frames: 0 };
  }
  if (changed) {
    const since = Math.max(dominant.sinceMs, tl.open.startMs);
    for (const f of tl.pending) if (f.timeMs < since) addFrame(tl.open, f.timeMs, f.probabilities);
    tl.closed.push(close(tl.open, since));
    tl.open = { emotion: dominant.emotion, startMs: since, endMs: since, confidenceSum: 0, frames: 0 };
    for (const f of tl.pending) if (f.timeMs >= since) addFrame(tl.open, f.timeMs, f.probabilities);
    tl.pending = [];
    addFrame(tl.open, timeMs, p);
    return tl;
  }
  const cut = dominant.candidateSinceMs ?? Infinity;
  const keep: TimelineState['pending'] = [];
  for (const f of tl.pending) {
    if (f.timeMs < cut) addFrame(tl.open, f.timeMs, f.probabilities);
    else keep.push(f);
  }
  tl.pending = keep;
  if (timeMs >= cut) {
    tl.pending.push({ timeMs, probabilities: { ...p } });
    tl.open.endMs = Math.max(tl.open.endMs, timeMs);
  } else addFrame(tl.open, timeMs, p);
  return tl;
}

/**
 * Merges adjacent segments of the same emotion (confidence weighted by duration, or equally
 * when both last 0 ms) and drops zero-length segments between others.
 */
export function mergeSegments(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out.at(-1);
    if (last && s.endMs <= s.startMs && segments.length > 1) {
      // A zero-length segment carries no time; keep the timeline contiguous without it.
      last.endMs = Math.max(last.endMs, s.endMs);
      continue;
    }
    if (last && last.emotion === s.emotion && s.startMs <= last.endMs + 1e-9) {
      const a = last.endMs - last.startMs, b = s.endMs - s.startMs;
      last.meanConfidence = a + b > 0
        ? clamp01((last.meanConfidence * a + s.meanConfidence * b) / (a + b))
        : (last.meanConfidence + s.meanConfidence) / 2;
      last.endMs = Math.max(last.endMs, s.endMs);
      continue;
    }
    out.push({ ...s });
  }
  return out;
}

/**
 * The person's segments so far: the closed ones and the open one up to the last frame (frames of
 * an undecided challenger count for the current emotion), merged.
 */
export function timelineSegments(tl: TimelineState): Segment[] {
  const segs = [...tl.closed];
  if (tl.open) {
    const open = { ...tl.open };
    for (const f of tl.pending) addFrame(open, f.timeMs, f.probabilities);
    segs.push(close(open, open.endMs));
  }
  return mergeSegments(segs);
}

/** Per-person emotion timelines: segments of one dominant emotion over media time. */
import { argmaxEmotion, EMOTIONS, toProbabilities, type EmotionProbabilities, type EmotionState, type Segment } from '@emostream/contracts';
import type { DominantEmotion } from './hysteresis.js';

/** The segment being built (JSON-serialisable). */
interface OpenSegment {
  emotion: EmotionState;
  startMs: number;
  endMs: number;
  /** Sum and count of the segment emotion's smoothed probability over its frames (uncertain: the likeliest one's). */
  confidenceSum: number;
  frames: number;
  /** `uncertain` segments only: the sum of each emotion's smoothed probability over their frames (EMOTIONS order), for `likeliest`. */
  sums?: number[];
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

function openSegment(emotion: EmotionState, timeMs: number): OpenSegment {
  return { emotion, startMs: timeMs, endMs: timeMs, confidenceSum: 0, frames: 0, ...(emotion === 'uncertain' ? { sums: EMOTIONS.map(() => 0) } : {}) };
}

function addFrame(seg: OpenSegment, timeMs: number, p: EmotionProbabilities): void {
  seg.confidenceSum += stateConfidence(p, seg.emotion);
  seg.frames++;
  seg.endMs = Math.max(seg.endMs, timeMs);
  // Kept to 4 decimals: they go into every snapshot of an open uncertain segment (about 8 characters each).
  if (seg.sums) EMOTIONS.forEach((e, i) => { seg.sums![i] = Math.round((seg.sums![i] + p[e]) * 1e4) / 1e4; });
}

function close(seg: OpenSegment, endMs: number): Segment {
  // An uncertain segment's best guess (none for a segment with no frame, or one restored without its sums).
  const likeliest = seg.emotion === 'uncertain' && seg.sums && seg.frames > 0 ? argmaxEmotion(toProbabilities(seg.sums)).emotion : undefined;
  return {
    emotion: seg.emotion, startMs: seg.startMs, endMs: Math.max(seg.startMs, endMs),
    meanConfidence: seg.frames > 0 ? clamp01(seg.confidenceSum / seg.frames) : 0,
    ...(likeliest ? { likeliest } : {}),
  };
}

/**
 * Adds one frame of a person: its smoothed probabilities and the dominant-emotion state after
 * this frame (`changed` when hysteresis switched in this frame). Mutates and returns `tl`.
 */
export function addToTimeline(tl: TimelineState, timeMs: number, p: EmotionProbabilities, dominant: DominantEmotion, changed: boolean): TimelineState {
  if (!tl.open) tl.open = openSegment(dominant.emotion, timeMs);
  if (changed) {
    const since = Math.max(dominant.sinceMs, tl.open.startMs);
    for (const f of tl.pending) if (f.timeMs < since) addFrame(tl.open, f.timeMs, f.probabilities);
    tl.closed.push(close(tl.open, since));
    tl.open = openSegment(dominant.emotion, since);
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
      // Two uncertain stretches: the longer one's best guess.
      const likeliest = b > a ? s.likeliest ?? last.likeliest : last.likeliest ?? s.likeliest;
      if (likeliest) last.likeliest = likeliest;
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
    const open = { ...tl.open, ...(tl.open.sums ? { sums: [...tl.open.sums] } : {}) };
    for (const f of tl.pending) addFrame(open, f.timeMs, f.probabilities);
    segs.push(close(open, open.endMs));
  }
  return mergeSegments(segs);
}

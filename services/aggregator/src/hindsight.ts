/**
 * Timelines with hindsight: a person's segments chosen over all of their frames at once, as a
 * file's analysis can (and a camera's, when its run ends), instead of frame by frame as the live
 * events must be.
 *
 * The live timeline decides frame by frame and never takes a decision back (changePoint.ts, or the
 * moving average through hysteresis.ts): a change is announced only once enough frames show it, and
 * a short expression may never gather enough to show at all. Here the whole sequence is decoded at
 * once (Viterbi): the path of states that maximises the sum over frames of
 * (frame duration) x log P(state) minus `switchCost` per change of state. A change is thus dated
 * where the frames turn (halfway between the last frame of one state and the first of the next),
 * and a state must hold enough evidence to pay for entering and leaving it. A segment whose
 * emotion's mean probability stays under `uncertainBelow` is `uncertain`, as in the live
 * timeline (a constant-score uncertain state in the decoding took over whole clips of real video
 * where a face turns between two emotions).
 *
 * Memory only, bounded: at most `maxFrames` frames of a person are kept; beyond that the older
 * part is decoded and frozen into segments (the newest `keepMs` stay open to revision).
 */
import { argmaxEmotion, EMOTIONS, toProbabilities, type EmotionProbabilities, type EmotionState, type Segment } from '@emostream/contracts';
import type { AggregatorConfig } from './config.js';
import type { PersonState } from './person.js';
import { timelineSegments } from './timeline.js';

/** Settings of the decoding. */
export interface HindsightOptions {
  /** Cost of one change of state, nats x seconds (a frame of duration d adds d * log P). */
  switchCost: number;
  /** A segment whose emotion's mean probability is under this is `uncertain` (0: never). */
  uncertainBelow: number;
  /** Frames kept per person before the older part is frozen into segments. */
  maxFrames: number;
  /** Media time that stays open to revision when the older part is frozen, ms. */
  keepMs: number;
}

/** A person's frames for hindsight (memory only: never in a snapshot, an event or a log). */
export interface HindsightTrack {
  /** Media time of each frame, ms. */
  times: number[];
  /** Each frame's probabilities, EMOTIONS order (times.length * 7). */
  probs: number[];
  /** Segments already decoded for good (the frames before `times[0]`). */
  frozen: Segment[];
}

const K = EMOTIONS.length;
/** Probabilities are floored before the log: one frame's near-zero cannot veto a state alone. */
const FLOOR = 1e-3;

/** An empty track. */
export function emptyHindsight(): HindsightTrack {
  return { times: [], probs: [], frozen: [] };
}

/** Adds a frame (media time and the classifier's probabilities); freezes the older part past `maxFrames`. */
export function recordFrame(h: HindsightTrack, timeMs: number, p: EmotionProbabilities, o: HindsightOptions): void {
  h.times.push(timeMs);
  for (const e of EMOTIONS) h.probs.push(p[e]);
  if (h.times.length <= o.maxFrames) return;
  const segs = decodeRest(h, o);
  const cutMs = timeMs - o.keepMs;
  const keep = segs.filter((s) => s.endMs < cutMs);
  if (keep.length === 0) keep.push(...segs.slice(0, 1));
  // Frozen up to the next segment's first frame (segments are contiguous); the frames from it on stay.
  const fromMs = keep[keep.length - 1].endMs;
  let first = h.times.findIndex((t) => t >= fromMs && t > keep[keep.length - 1].startMs);
  if (first < 0) first = h.times.length;
  h.frozen.push(...keep);
  h.times = h.times.slice(first);
  h.probs = h.probs.slice(first * K);
}

/** The person's segments: the frozen ones, then the decoded rest. */
export function hindsightSegments(h: HindsightTrack, o: HindsightOptions): Segment[] {
  return [...h.frozen.map((s) => ({ ...s })), ...decodeRest(h, o)];
}

/** The kept frames decoded, starting where the frozen segments end (halfway to the first kept frame). */
function decodeRest(h: HindsightTrack, o: HindsightOptions): Segment[] {
  const rest = decode(h, o);
  if (h.frozen.length && rest.length) rest[0].startMs = h.frozen[h.frozen.length - 1].endMs;
  return rest;
}

/**
 * The Viterbi path over the kept frames, as segments; a segment whose emotion's mean probability
 * over its frames is under `uncertainBelow` is `uncertain` (adjacent ones merged).
 */
function decode(h: HindsightTrack, o: HindsightOptions): Segment[] {
  const n = h.times.length;
  if (n === 0) return [];
  const frameS = typicalFrameMs(h.times) / 1000;
  const score = (i: number, k: number) => frameS * Math.log(Math.max(h.probs[i * K + k], FLOOR));
  let total = Array.from({ length: K }, (_, k) => score(0, k));
  const back = new Uint8Array(n * K);
  for (let i = 1; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (total[k] > total[best]) best = k;
    const next = new Array<number>(K);
    for (let k = 0; k < K; k++) {
      const from = total[k] >= total[best] - o.switchCost ? k : best;
      next[k] = (from === k ? total[k] : total[best] - o.switchCost) + score(i, k);
      back[i * K + k] = from;
    }
    total = next;
  }
  let s = 0;
  for (let k = 1; k < K; k++) if (total[k] > total[s]) s = k;
  const path = new Uint8Array(n);
  path[n - 1] = s;
  for (let i = n - 1; i > 0; i--) path[i - 1] = back[i * K + path[i]];
  // Runs of one emotion (frames `from` to `from + frames - 1`): the sums of its probability and of each frame's likeliest one.
  const runs: Array<{ emotion: EmotionState; first: number; last: number; sum: number; top: number; frames: number; from: number }> = [];
  for (let i = 0; i < n; i++) {
    const row = h.probs.slice(i * K, i * K + K);
    const last = runs[runs.length - 1];
    if (last && last.emotion === EMOTIONS[path[i]]) { last.last = h.times[i]; last.sum += row[path[i]]; last.top += Math.max(...row); last.frames++; } else runs.push({ emotion: EMOTIONS[path[i]], first: h.times[i], last: h.times[i], sum: row[path[i]], top: Math.max(...row), frames: 1, from: i });
  }
  const out: typeof runs = [];
  for (const r of runs) {
    if (r.sum / r.frames < o.uncertainBelow) { r.emotion = 'uncertain'; r.sum = r.top; }
    const prev = out[out.length - 1];
    if (prev?.emotion === 'uncertain' && r.emotion === 'uncertain') { prev.last = r.last; prev.sum += r.sum; prev.frames += r.frames; } else out.push(r);
  }
  // An uncertain stretch's best guess: the emotion of the largest mean probability over its frames.
  const likeliest = (r: (typeof runs)[number]) => {
    const sums = new Array<number>(K).fill(0);
    for (let i = r.from; i < r.from + r.frames; i++) for (let k = 0; k < K; k++) sums[k] += h.probs[i * K + k];
    return argmaxEmotion(toProbabilities(sums)).emotion;
  };
  // Contiguous, as the live timeline: a change is dated halfway between the last frame of one
  // state and the first of the next, so every frame lies inside its own segment.
  const bounds = out.map((r, j) => (j + 1 < out.length ? (r.last + out[j + 1].first) / 2 : r.last));
  return out.map((r, j) => ({
    emotion: r.emotion, startMs: j > 0 ? bounds[j - 1] : r.first, endMs: bounds[j], meanConfidence: Math.min(1, Math.max(0, r.sum / r.frames)),
    ...(r.emotion === 'uncertain' ? { likeliest: likeliest(r) } : {}),
  }));
}

/** The median gap between frames, ms (100 when there is one frame). */
function typicalFrameMs(times: readonly number[]): number {
  if (times.length < 2) return 100;
  const gaps = times.slice(1).map((t, i) => t - times[i]).filter((g) => g > 0).sort((a, b) => a - b);
  return gaps.length ? gaps[gaps.length >> 1] : 100;
}

/** The decoding settings of an aggregator configuration, undefined when `timelineHindsight` is off (the last 10 s stay open when freezing). */
export const hindsightOptionsOf = (c: AggregatorConfig): HindsightOptions | undefined => (c.timelineHindsight
  ? { switchCost: c.hindsightSwitchCost, uncertainBelow: c.uncertainBelow, maxFrames: c.hindsightMaxFrames, keepMs: 10_000 }
  : undefined);

/** Keeps a person's frame for hindsight when on (`o`, from {@link hindsightOptionsOf}). */
export function recordPersonFrame(p: PersonState, timeMs: number, probabilities: EmotionProbabilities, o: HindsightOptions | undefined): void {
  if (o) recordFrame(p.hindsight ??= emptyHindsight(), timeMs, probabilities, o);
}

/** A person's timeline: before they left (a returning person), then with hindsight when kept, else the live one. */
export const segmentsOf = (p: PersonState, o: HindsightOptions | undefined): Segment[] =>
  [...(p.priorSegments ?? []), ...(p.hindsight && o ? hindsightSegments(p.hindsight, o) : timelineSegments(p.timeline))];

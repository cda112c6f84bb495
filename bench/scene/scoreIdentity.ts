/**
 * The identity figures of a scene run: detections matched to true faces, the same id on
 * return, swaps at cuts, wrong re-identifications, cuts found, detection recall by face size,
 * false detections, and the embeddings' similarity of one person and of two. Pure code.
 */
import type { Box, Emotion, EmotionEvent } from '@emostream/contracts';
import { cosineSimilarity } from '@emostream/aggregator';
import { percentile } from '../lib/stats.js';
import type { Scene } from './generate.js';
import { boxIou, groundTruthAt, personOf } from './groundTruth.js';

/** One detection of one analysed frame, as the pipeline reported it. */
export interface ObservedFace {
  box: Box;
  /** The classifier's most probable emotion for this face in this frame. */
  emotion: Emotion;
  /** The person (track) the aggregator assigned it to, once confirmed. */
  personId?: string;
}

/** One analysed frame. */
export interface ObservedFrame {
  mediaTimeMs: number;
  faces: ObservedFace[];
  /** The detector flagged this frame as the first after a hard cut. */
  sceneCut?: boolean;
}

/** Lower edges of the face-height bins of detection recall, px of the frame (the last bin is open). */
export const SIZE_BINS: readonly number[] = [20, 30, 40, 60, 100, 150];

/** Detection recall of one face-height bin: true faces scorable and matched. */
export interface SizeBinCount {
  fromPx: number;
  /** Exclusive upper edge; null for the last, open bin. */
  toPx: number | null;
  scorable: number;
  matched: number;
}

/** What became of one return (a face with `returnOf`: a person seen before, back). */
export interface ReturnOutcome {
  faceId: string;
  person: string;
  /** A hard cut lies between the person's last appearance and this one. */
  acrossCut: boolean;
  /** The person id the person had when last seen before, and the first one given on return. */
  before?: string;
  after?: string;
  /**
   * same: the earlier personId back (no other person had it in between); new: a fresh one;
   * wrong: one another person had before (or had in between, when it is the person's own);
   * missed: the return never became a person; unscored: the earlier appearance never did.
   */
  outcome: 'same' | 'new' | 'wrong' | 'missed' | 'unscored';
}

/** One true face seen in one frame, matched to a detection. */
export interface MatchedFace {
  tMs: number;
  /** Index of the frame in the observations and of the detection in its frame. */
  frame: number;
  face: number;
  faceId: string;
  person: string;
  heightPx: number;
  visibleFraction: number;
  personId?: string;
}



/** Matches detections to true faces, best IoU first (greedy; faces are few and rarely contested). */
export function matchFaces(truth: Box[], detected: Box[], minIou: number): Array<[number, number]> {
  const pairs: Array<[number, number, number]> = [];
  truth.forEach((t, i) => detected.forEach((d, j) => {
    const v = boxIou(t, d);
    if (v >= minIou) pairs.push([v, i, j]);
  }));
  pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  const ti = new Set<number>();
  const dj = new Set<number>();
  const out: Array<[number, number]> = [];
  for (const [, i, j] of pairs) {
    if (ti.has(i) || dj.has(j)) continue;
    ti.add(i); dj.add(j);
    out.push([i, j]);
  }
  return out;
}

/** Detections matched to no true face (a false detection each). */
export function falseDetections(truth: Box[], detected: Box[], minIou: number): number {
  return detected.length - matchFaces(truth, detected, minIou).length;
}

/** Empty recall bins for `edges` (lower edges, ascending). */
export function emptySizeBins(edges: readonly number[] = SIZE_BINS): SizeBinCount[] {
  return edges.map((fromPx, i) => ({ fromPx, toPx: i + 1 < edges.length ? edges[i + 1] : null, scorable: 0, matched: 0 }));
}

/**
 * Detection recall by face height: each sample (a scorable true face, matched or not) counted in
 * its bin; faces below the first edge are in no bin.
 */
export function recallBySize(samples: ReadonlyArray<{ heightPx: number; matched: boolean }>, edges: readonly number[] = SIZE_BINS): SizeBinCount[] {
  const bins = emptySizeBins(edges);
  for (const s of samples) {
    const b = bins.findLast((x) => s.heightPx >= x.fromPx);
    if (!b) continue;
    b.scorable++;
    if (s.matched) b.matched++;
  }
  return bins;
}

/**
 * Every detection matched to a true face, frame by frame (IoU >= minIou, greedy best first), with
 * the person id the aggregator gave it.
 */
export function matchedFaces(scene: Scene, observed: readonly ObservedFrame[], minIou = 0.3): MatchedFace[] {
  const out: MatchedFace[] = [];
  observed.forEach((obs, k) => {
    const truth = groundTruthAt(scene, obs.mediaTimeMs);
    for (const [gi, dj] of matchFaces(truth.map((g) => g.box), obs.faces.map((f) => f.box), minIou)) {
      const g = truth[gi];
      out.push({
        tMs: obs.mediaTimeMs, frame: k, face: dj, faceId: g.faceId, person: g.person, heightPx: g.box.height, visibleFraction: g.visibleFraction,
        ...(obs.faces[dj].personId ? { personId: obs.faces[dj].personId } : {}),
      });
    }
  });
  return out;
}

/** One person id given to a true person at a time (a matched face of a confirmed person). */
export interface Assignment {
  tMs: number;
  faceId: string;
  person: string;
  personId: string;
}

/**
 * What became of each return of the scene (faces with `returnOf`), from the person ids given to
 * true faces (`assignments`, in time order): see {@link ReturnOutcome}.
 */
export function scoreReturns(scene: Scene, assignments: readonly Assignment[]): ReturnOutcome[] {
  const out: ReturnOutcome[] = [];
  for (const f of scene.faces) {
    if (!f.returnOf) continue;
    const person = personOf(scene, f.id);
    const earlier = scene.faces.find((x) => x.id === f.returnOf)!;
    const acrossCut = (scene.cuts ?? []).some((c) => c.atMs >= earlier.leaveMs && c.atMs <= f.enterMs);
    const last = assignments.filter((a) => a.person === person && a.faceId !== f.id && a.tMs < f.enterMs).at(-1);
    const before = last?.personId;
    const first = assignments.find((a) => a.faceId === f.id);
    const after = first?.personId;
    // Another person had the id: before the return (wrong), or, when it is the person's own id,
    // in between (a track carried it onto someone else and back: not a recognition).
    const heldByOther = (from: number) => assignments.some((a) => a.personId === after && a.person !== person && a.tMs > from && a.tMs < first!.tMs);
    let outcome: ReturnOutcome['outcome'];
    if (!last) outcome = 'unscored';
    else if (!first) outcome = 'missed';
    else if (after === before) outcome = heldByOther(last.tMs) ? 'wrong' : 'same';
    else if (heldByOther(-Infinity)) outcome = 'wrong';
    else outcome = 'new';
    out.push({ faceId: f.id, person, acrossCut, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}), outcome });
  }
  return out;
}

/**
 * Re-identifications (`person.appeared` with `returning: true`): right when the face the person
 * id went to belongs to the person who last had that id, wrong when to another person. A
 * re-identified id given to no true face (a false detection) counts as wrong.
 */
export function scoreReidentifications(events: readonly EmotionEvent[], assignments: readonly Assignment[]): { correct: number; wrong: number } {
  let correct = 0;
  let wrong = 0;
  for (const e of events) {
    if (e.type !== 'person.appeared' || !e.returning) continue;
    const now = assignments.find((a) => a.personId === e.personId && a.tMs >= e.mediaTimeMs);
    const before = assignments.filter((a) => a.personId === e.personId && a.tMs < e.mediaTimeMs).at(-1);
    if (now && before && now.person === before.person) correct++;
    else if (now || before) wrong++;
  }
  return { correct, wrong };
}

/**
 * Person ids that continued across a hard cut onto another person: for each cut, ids whose last
 * assignment in the `beforeMs` before it and whose first in the `afterMs` from it on are
 * different persons.
 */
export function swapsAtCuts(cutTimesMs: readonly number[], assignments: readonly Assignment[], o: { beforeMs?: number; afterMs?: number } = {}): number {
  const beforeMs = o.beforeMs ?? 1_000;
  const afterMs = o.afterMs ?? 2_000;
  let swaps = 0;
  for (const c of cutTimesMs) {
    const last = new Map<string, string>();
    const next = new Map<string, string>();
    for (const a of assignments) {
      if (a.tMs >= c - beforeMs && a.tMs < c) last.set(a.personId, a.person);
      else if (a.tMs >= c && a.tMs <= c + afterMs && !next.has(a.personId)) next.set(a.personId, a.person);
    }
    for (const [id, person] of last) if (next.has(id) && next.get(id) !== person) swaps++;
  }
  return swaps;
}

/**
 * Cut detection: a cut is found when a frame within one frame interval from it on is flagged;
 * every other flagged frame is a false cut.
 */
export function scoreCuts(cutTimesMs: readonly number[], flaggedMs: readonly number[], frameMs: number): { expected: number; found: number; falseCuts: number } {
  const used = new Set<number>();
  let found = 0;
  for (const c of cutTimesMs) {
    const k = flaggedMs.findIndex((t, i) => !used.has(i) && t >= c - 1e-6 && t <= c + frameMs + 1e-6);
    if (k >= 0) { used.add(k); found++; }
  }
  return { expected: cutTimesMs.length, found, falseCuts: flaggedMs.length - used.size };
}

/** Quantiles of a similarity distribution, and the share at or above some thresholds. */
export interface SimilarityStats {
  pairs: number;
  p5: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p95: number | null;
  /** Share of pairs with similarity >= each key (0.35, 0.5, 0.6, 0.7). */
  atLeast: Record<string, number | null>;
}

/** {@link SimilarityStats} of a list of similarities. */
export function similarityStats(xs: readonly number[], thresholds: readonly number[] = [0.35, 0.5, 0.6, 0.7]): SimilarityStats {
  const q = (p: number) => { const v = percentile(xs, p); return v === undefined ? null : Math.round(v * 1000) / 1000; };
  return {
    pairs: xs.length, p5: q(5), p25: q(25), p50: q(50), p75: q(75), p95: q(95),
    atLeast: Object.fromEntries(thresholds.map((t) => [t.toFixed(2), xs.length ? xs.filter((x) => x >= t).length / xs.length : null])),
  };
}

/** One embedding of a true face (a matched detection that carried one). */
export interface EmbeddingSample {
  /** Pairs are formed within a group only (a scene). */
  group: string;
  person: string;
  faceId: string;
  tMs: number;
  heightPx: number;
  vector: readonly number[];
}

/**
 * Cosine similarities of embedding pairs within each group: the same appearance of one person
 * at two times at least `minGapMs` apart (`sameFace`), one person before and after a return
 * (`acrossReturn`: two different face ids of one person), and two different persons
 * (`different`). Both faces of a pair at least `minHeightPx` high.
 */
export function embeddingSimilarities(samples: readonly EmbeddingSample[], o: { minGapMs?: number; minHeightPx?: number } = {}): { sameFace: number[]; acrossReturn: number[]; different: number[] } {
  const minGapMs = o.minGapMs ?? 1_000;
  const minHeightPx = o.minHeightPx ?? 0;
  const out = { sameFace: [] as number[], acrossReturn: [] as number[], different: [] as number[] };
  const groups = new Map<string, EmbeddingSample[]>();
  for (const s of samples) if (s.heightPx >= minHeightPx) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  for (const g of groups.values()) {
    for (let i = 0; i < g.length; i++) {
      for (let j = i + 1; j < g.length; j++) {
        const a = g[i];
        const b = g[j];
        if (a.person !== b.person) out.different.push(cosineSimilarity(a.vector, b.vector));
        else if (a.faceId !== b.faceId) out.acrossReturn.push(cosineSimilarity(a.vector, b.vector));
        else if (Math.abs(a.tMs - b.tMs) >= minGapMs) out.sameFace.push(cosineSimilarity(a.vector, b.vector));
      }
    }
  }
  return out;
}

/**
 * Scores a pipeline run on a generated scene against its ground truth: per-frame emotion
 * accuracy (detections matched to true faces by IoU), identity switches per person-minute, and
 * the timing error of the events (person.appeared, emotion.changed, person.left). Pure code.
 */
import type { Box, Emotion, EmotionEvent, EmotionState, Timelines } from '@emostream/contracts';
import { boxIou, expressionChanges, frameCount, frameTimeMs, groundTruthAt, type Scene } from './generate.js';

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
}

/** Scoring thresholds. */
export interface ScoreOptions {
  /** Least IoU between a detection and a true face to match them. */
  minIou?: number;
  /** True faces less visible than this (occluded or outside the frame) are not scored. */
  minVisible?: number;
  /** How long after a true change an emotion.changed event still counts, ms. */
  changeWindowMs?: number;
}

/** The scores of one scene (or several, merged by {@link mergeScores}). */
export interface SceneScore {
  frames: number;
  /** True faces visible enough to be scored, summed over frames. */
  scorable: number;
  /** Of those, matched to a detection. */
  matched: number;
  /** Matched faces whose per-frame emotion was right. */
  correct: number;
  /** Matched faces whose person's timeline (smoothed) showed the right emotion at that time. */
  timelineCorrect: number;
  /** Detections matched to no true face. */
  falsePositives: number;
  idSwitches: number;
  /** Time true faces were scorable, minutes. */
  personMinutes: number;
  /** Signed timing errors (event time - true time), ms, per kind. */
  appearErrorsMs: number[];
  changeErrorsMs: number[];
  leaveErrorsMs: number[];
  /** True expression changes, and how many got their emotion.changed event (to the right emotion) in the window. */
  changesExpected: number;
  changesDetected: number;
  /** Changes followed by any emotion.changed event of that person in the window (right emotion or not), and its timing. */
  changesWithAnyEvent: number;
  changeAnyErrorsMs: number[];
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

/** The dominant emotion of a person's timeline at time t, if a segment covers it. */
function timelineEmotion(timelines: Timelines | undefined, personId: string, tMs: number): EmotionState | undefined {
  if (!timelines) return undefined;
  for (const cam of Object.values(timelines.cameras)) {
    const p = cam.persons[personId];
    if (!p) continue;
    for (const s of p.segments) if (s.startMs <= tMs && tMs <= s.endMs) return s.emotion;
  }
  return undefined;
}

const median = (xs: number[]) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Scores one run of one scene. */
export function scoreScene(scene: Scene, observed: ObservedFrame[], events: EmotionEvent[], timelines?: Timelines, o: ScoreOptions = {}): SceneScore {
  const minIou = o.minIou ?? 0.3;
  const minVisible = o.minVisible ?? 0.7;
  const changeWindowMs = o.changeWindowMs ?? 4_000;
  const frameMs = 1000 / scene.fps;
  const byIndex = new Map<number, ObservedFrame>();
  for (const f of observed) byIndex.set(Math.round(f.mediaTimeMs / frameMs), f);
  const s: SceneScore = {
    frames: 0, scorable: 0, matched: 0, correct: 0, timelineCorrect: 0, falsePositives: 0, idSwitches: 0, personMinutes: 0,
    appearErrorsMs: [], changeErrorsMs: [], leaveErrorsMs: [], changesExpected: 0, changesDetected: 0, changesWithAnyEvent: 0, changeAnyErrorsMs: [],
  };
  // Per true face: the persons it was matched to over time, and when it first became visible.
  const lastPerson = new Map<string, string>();
  const personsOf = new Map<string, Array<{ tMs: number; personId: string }>>();
  const firstVisibleMs = new Map<string, number>();
  for (let i = 0; i < frameCount(scene); i++) {
    const t = frameTimeMs(scene, i);
    const truth = groundTruthAt(scene, t);
    for (const g of truth) if (g.visibleFraction >= 0.5 && !firstVisibleMs.has(g.faceId)) firstVisibleMs.set(g.faceId, t);
    const obs = byIndex.get(i);
    if (!obs) continue;
    s.frames++;
    const pairs = matchFaces(truth.map((g) => g.box), obs.faces.map((f) => f.box), minIou);
    s.falsePositives += obs.faces.length - pairs.length;
    const matchOf = new Map(pairs.map(([gi, dj]) => [gi, dj]));
    truth.forEach((g, gi) => {
      const dj = matchOf.get(gi);
      const face = dj === undefined ? undefined : obs.faces[dj];
      if (face?.personId) {
        const prev = lastPerson.get(g.faceId);
        if (prev !== undefined && prev !== face.personId) s.idSwitches++;
        lastPerson.set(g.faceId, face.personId);
        personsOf.set(g.faceId, [...(personsOf.get(g.faceId) ?? []), { tMs: t, personId: face.personId }]);
      }
      if (g.visibleFraction < minVisible) return;
      s.scorable++;
      s.personMinutes += frameMs / 60_000;
      if (!face) return;
      s.matched++;
      if (face.emotion === g.emotion) s.correct++;
      if (face.personId && timelineEmotion(timelines, face.personId, t) === g.emotion) s.timelineCorrect++;
    });
  }
  const majority = (faceId: string, from: number, to: number) => {
    const counts = new Map<string, number>();
    for (const p of personsOf.get(faceId) ?? []) if (p.tMs >= from && p.tMs <= to) counts.set(p.personId, (counts.get(p.personId) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  };
  for (const f of scene.faces) {
    const seen = personsOf.get(f.id);
    const t0 = firstVisibleMs.get(f.id);
    if (seen?.length && t0 !== undefined) {
      const ev = events.find((e) => e.type === 'person.appeared' && e.personId === seen[0].personId);
      if (ev) s.appearErrorsMs.push(ev.mediaTimeMs - t0);
    }
    if (seen?.length && f.leaveMs < scene.durationMs) {
      const ev = events.find((e) => e.type === 'person.left' && e.personId === seen[seen.length - 1].personId);
      if (ev) s.leaveErrorsMs.push(ev.mediaTimeMs - f.leaveMs);
    }
  }
  for (const c of expressionChanges(scene)) {
    const face = scene.faces.find((f) => f.id === c.faceId)!;
    const next = expressionChanges(scene).find((d) => d.faceId === c.faceId && d.atMs > c.atMs)?.atMs ?? face.leaveMs;
    const until = Math.min(c.atMs + changeWindowMs, next);
    s.changesExpected++;
    const person = majority(c.faceId, c.atMs, until);
    if (!person) continue;
    const inWindow = (e: EmotionEvent) => e.type === 'emotion.changed' && e.personId === person && e.mediaTimeMs >= c.atMs - frameMs && e.mediaTimeMs <= until;
    const any = events.find(inWindow);
    if (any) { s.changesWithAnyEvent++; s.changeAnyErrorsMs.push(any.mediaTimeMs - c.atMs); }
    const ev = events.find((e) => inWindow(e) && e.emotion === c.to);
    if (!ev) continue;
    s.changesDetected++;
    s.changeErrorsMs.push(ev.mediaTimeMs - c.atMs);
  }
  return s;
}

/** Sums the scores of several scenes. */
export function mergeScores(xs: SceneScore[]): SceneScore {
  const z: SceneScore = {
    frames: 0, scorable: 0, matched: 0, correct: 0, timelineCorrect: 0, falsePositives: 0, idSwitches: 0, personMinutes: 0,
    appearErrorsMs: [], changeErrorsMs: [], leaveErrorsMs: [], changesExpected: 0, changesDetected: 0, changesWithAnyEvent: 0, changeAnyErrorsMs: [],
  };
  for (const x of xs) {
    for (const k of ['frames', 'scorable', 'matched', 'correct', 'timelineCorrect', 'falsePositives', 'idSwitches', 'personMinutes', 'changesExpected', 'changesDetected', 'changesWithAnyEvent'] as const) z[k] += x[k];
    z.changeAnyErrorsMs.push(...x.changeAnyErrorsMs);
    z.appearErrorsMs.push(...x.appearErrorsMs);
    z.changeErrorsMs.push(...x.changeErrorsMs);
    z.leaveErrorsMs.push(...x.leaveErrorsMs);
  }
  return z;
}

/** The headline figures of a score. */
export function summarise(s: SceneScore) {
  const abs = (xs: number[]) => xs.map(Math.abs);
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  return {
    sceneEmotionAccuracy: ratio(s.correct, s.matched),
    sceneTimelineAccuracy: ratio(s.timelineCorrect, s.matched),
    sceneEndToEndAccuracy: ratio(s.correct, s.scorable),
    sceneDetectionRecall: ratio(s.matched, s.scorable),
    sceneFalsePositivesPerFrame: ratio(s.falsePositives, s.frames),
    idSwitchesPerPersonMinute: ratio(s.idSwitches, s.personMinutes),
    idSwitches: s.idSwitches,
    personMinutes: s.personMinutes,
    appearTimingErrorMsMedian: median(abs(s.appearErrorsMs)) ?? null,
    changeTimingErrorMsMedian: median(abs(s.changeErrorsMs)) ?? null,
    changeAnyEventTimingErrorMsMedian: median(abs(s.changeAnyErrorsMs)) ?? null,
    changesWithAnyEvent: s.changesWithAnyEvent,
    leaveTimingErrorMsMedian: median(abs(s.leaveErrorsMs)) ?? null,
    eventTimingErrorMsMedian: median(abs([...s.appearErrorsMs, ...s.changeErrorsMs, ...s.leaveErrorsMs])) ?? null,
    changesDetected: s.changesDetected,
    changesExpected: s.changesExpected,
    scorableFaces: s.scorable,
    frames: s.frames,
  };
}

/**
 * Scores a pipeline run on a generated scene against its ground truth: per-frame emotion
 * accuracy (detections matched to true faces by IoU), identity switches per person-minute, the
 * timing error of the events (person.appeared, emotion.changed, person.left), and the identity
 * figures: the same id on return, swaps at cuts, wrong re-identifications, cuts found, detection
 * recall by face size, false detections per frame, and the appearance similarity of the
 * embeddings of one person and of two. Pure code.
 */
import type { Box, Emotion, EmotionEvent, EmotionState, Timelines } from '@emostream/contracts';
import { cosineSimilarity } from '@emostream/aggregator';
import { percentile } from '../lib/stats.js';
import { type Scene } from './generate.js';
import { boxIou, expressionChanges, frameCount, frameTimeMs, groundTruthAt, personOf } from './groundTruth.js';
import { Assignment, ObservedFrame, ReturnOutcome, SIZE_BINS, SizeBinCount, emptySizeBins, falseDetections, matchFaces, recallBySize, scoreCuts, scoreReidentifications, scoreReturns, swapsAtCuts } from './scoreIdentity.js';

export * from './scoreIdentity.js';

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
  /** Matched faces whose person's timeline (live, or with hindsight where the aggregator was so set) showed the right emotion at that time. */
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
  /** Detection recall per face-height bin ({@link SIZE_BINS}). */
  sizeBins: SizeBinCount[];
  /** Every return of the scene and what became of it. */
  returns: ReturnOutcome[];
  /** `person.appeared` events with `returning: true`: the right person's id, or another person's. */
  reidCorrect: number;
  reidWrong: number;
  /** Person ids that continued across a hard cut onto a different person. */
  cutSwaps: number;
  /** Hard cuts of the scenes, those the detector flagged, and flags where there was no cut. */
  cutsExpected: number;
  cutsFound: number;
  falseCuts: number;
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
  const s = emptyScore();
  const sizeSamples: Array<{ heightPx: number; matched: boolean }> = [];
  const assignments: Assignment[] = [];
  const flagged: number[] = [];
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
    if (obs.sceneCut) flagged.push(t);
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
        assignments.push({ tMs: t, faceId: g.faceId, person: g.person, personId: face.personId });
      }
      if (g.visibleFraction < minVisible) return;
      sizeSamples.push({ heightPx: g.box.height, matched: face !== undefined });
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
    // A person id may be used again (a return, or a track continued over a cut): the events of
    // a later appearance are the ones from its own entry on.
    const from = f.returnOf || f.enterMs > 0 ? f.enterMs - frameMs : -Infinity;
    if (seen?.length && t0 !== undefined) {
      const ev = events.find((e) => e.type === 'person.appeared' && e.personId === seen[0].personId && e.mediaTimeMs >= from);
      if (ev) s.appearErrorsMs.push(ev.mediaTimeMs - t0);
    }
    if (seen?.length && f.leaveMs < scene.durationMs) {
      const ev = events.find((e) => e.type === 'person.left' && e.personId === seen[seen.length - 1].personId && e.mediaTimeMs >= from);
      if (ev) s.leaveErrorsMs.push(ev.mediaTimeMs - f.leaveMs);
    }
  }
  s.sizeBins = recallBySize(sizeSamples);
  s.returns = scoreReturns(scene, assignments);
  const reids = scoreReidentifications(events, assignments);
  s.reidCorrect = reids.correct;
  s.reidWrong = reids.wrong;
  const cutTimes = (scene.cuts ?? []).map((c) => c.atMs);
  s.cutSwaps = swapsAtCuts(cutTimes, assignments);
  const cuts = scoreCuts(cutTimes, flagged, frameMs);
  s.cutsExpected = cuts.expected;
  s.cutsFound = cuts.found;
  s.falseCuts = cuts.falseCuts;
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

/** A score of nothing. */
export function emptyScore(): SceneScore {
  return {
    frames: 0, scorable: 0, matched: 0, correct: 0, timelineCorrect: 0, falsePositives: 0, idSwitches: 0, personMinutes: 0,
    appearErrorsMs: [], changeErrorsMs: [], leaveErrorsMs: [], changesExpected: 0, changesDetected: 0, changesWithAnyEvent: 0, changeAnyErrorsMs: [],
    sizeBins: emptySizeBins(), returns: [], reidCorrect: 0, reidWrong: 0, cutSwaps: 0, cutsExpected: 0, cutsFound: 0, falseCuts: 0,
  };
}

/** Sums the scores of several scenes. */
export function mergeScores(xs: SceneScore[]): SceneScore {
  const z = emptyScore();
  for (const x of xs) {
    for (const k of [
      'frames', 'scorable', 'matched', 'correct', 'timelineCorrect', 'falsePositives', 'idSwitches', 'personMinutes', 'changesExpected', 'changesDetected', 'changesWithAnyEvent',
      'reidCorrect', 'reidWrong', 'cutSwaps', 'cutsExpected', 'cutsFound', 'falseCuts',
    ] as const) z[k] += x[k];
    z.changeAnyErrorsMs.push(...x.changeAnyErrorsMs);
    z.appearErrorsMs.push(...x.appearErrorsMs);
    z.changeErrorsMs.push(...x.changeErrorsMs);
    z.leaveErrorsMs.push(...x.leaveErrorsMs);
    z.returns.push(...x.returns);
    x.sizeBins.forEach((b, i) => { z.sizeBins[i].scorable += b.scorable; z.sizeBins[i].matched += b.matched; });
  }
  return z;
}

/** Counts of return outcomes, and the same-id rate (same / every scored return: same, new, wrong, missed). */
export function returnRate(returns: readonly ReturnOutcome[]): { same: number; new: number; wrong: number; missed: number; unscored: number; scored: number; rate: number | null } {
  const n = (o: ReturnOutcome['outcome']) => returns.filter((r) => r.outcome === o).length;
  const c = { same: n('same'), new: n('new'), wrong: n('wrong'), missed: n('missed'), unscored: n('unscored') };
  const scored = c.same + c.new + c.wrong + c.missed;
  return { ...c, scored, rate: scored > 0 ? c.same / scored : null };
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
    falseDetections: s.falsePositives,
    recallBySize: s.sizeBins.map((b) => ({ ...b, recall: ratio(b.matched, b.scorable) })),
    sameIdOnReturnRate: returnRate(s.returns).rate,
    returns: returnRate(s.returns),
    returnsAfterExit: returnRate(s.returns.filter((r) => !r.acrossCut)),
    returnsAcrossCut: returnRate(s.returns.filter((r) => r.acrossCut)),
    reidCorrect: s.reidCorrect,
    reidWrong: s.reidWrong,
    cutSwaps: s.cutSwaps,
    cutsExpected: s.cutsExpected,
    cutsFound: s.cutsFound,
    falseCuts: s.falseCuts,
  };
}

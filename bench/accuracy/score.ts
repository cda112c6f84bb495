/**
 * Scores of the through-the-pipeline measurement: accuracy, balanced accuracy, per-class recall
 * and the neutral/sad confusions of the same faces classified from their 48x48 images (still)
 * and from the detector's crop of a rendered frame (through the pipeline); a person's dominant
 * emotion from their timeline. Pure functions over plain records.
 */
import { EMOTIONS, type Emotion, type EmotionState, type Segment } from '@emostream/contracts';
import { sizeBucket, SIZE_BUCKETS } from './geometry.js';
import { summarisePerson } from '@emostream/aggregator';

const K: number = EMOTIONS.length;
const NEUTRAL = EMOTIONS.indexOf('neutral');
const SAD = EMOTIONS.indexOf('sad');

/** Index of the largest of `k` values at `offset` (the first on ties). */
export function argmaxAt(values: ArrayLike<number>, offset = 0, k = K): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (values[offset + c] > values[offset + best]) best = c;
  return best;
}

/** Accuracy, balanced accuracy (mean recall over the classes present), recalls, confusions. */
export interface ClassScores {
  n: number;
  accuracy: number | null;
  balancedAccuracy: number | null;
  /** Recall per class (null: no face of that class). */
  recall: Record<Emotion, number | null>;
  /** Share of neutral faces called sad, and of sad faces called neutral. */
  neutralToSad: number | null;
  sadToNeutral: number | null;
  /** confusion[true][predicted], EMOTIONS order. */
  confusion: number[][];
}

/** Scores predictions (class indices) against labels (class indices). */
export function scoreClasses(labels: readonly number[], preds: readonly number[]): ClassScores {
  if (labels.length !== preds.length) throw new Error(`scoreClasses: ${labels.length} labels, ${preds.length} predictions`);
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  labels.forEach((l, i) => { confusion[l][preds[i]]++; });
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const correct = confusion.reduce((a, row, c) => a + row[c], 0);
  const recalls = confusion.map((row, c) => (support[c] ? row[c] / support[c] : null));
  const present = recalls.filter((r): r is number => r !== null);
  return {
    n: labels.length,
    accuracy: labels.length ? correct / labels.length : null,
    balancedAccuracy: present.length ? present.reduce((a, b) => a + b, 0) / present.length : null,
    recall: Object.fromEntries(EMOTIONS.map((e, c) => [e, recalls[c]])) as Record<Emotion, number | null>,
    neutralToSad: support[NEUTRAL] ? confusion[NEUTRAL][SAD] / support[NEUTRAL] : null,
    sadToNeutral: support[SAD] ? confusion[SAD][NEUTRAL] / support[SAD] : null,
    confusion,
  };
}

/** One placed face: its label, its still prediction, and what the pipeline made of it. */
export interface FaceRecord {
  id: string;
  label: number;
  /** Patch side, px of the frame. */
  side: number;
  /** Class predicted from the 48x48 image (the model's own preprocessing). */
  still: number;
  /** Class predicted from the pipeline's crop of the matched detection; undefined when not detected. */
  pipe?: number;
  /** IoU of the matched detection. */
  iou?: number;
  /**
   * Class predicted from the placed patch cut out exactly (FER-2013's framing, de-rotated) from
   * the frame before the camera (`oracleClean`: upscaling, tint, soft edge and downscaling only)
   * and after it (`oracle`: lighting, blur, noise, JPEG too). Undefined when not measured.
   */
  oracleClean?: number;
  oracle?: number;
}

/** Mean and standard error of paired differences (in points of a share). */
export interface PairedDelta {
  n: number;
  mean: number | null;
  se: number | null;
}

/** Mean of paired differences `a[i] - b[i]` and its standard error (sample sd / √n). */
export function pairedDelta(a: readonly number[], b: readonly number[]): PairedDelta {
  const n = Math.min(a.length, b.length);
  if (a.length !== b.length) throw new Error(`pairedDelta: ${a.length} vs ${b.length} values`);
  if (n === 0) return { n, mean: null, se: null };
  const d = a.map((x, i) => x - b[i]);
  const mean = d.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { n, mean, se: null };
  const v = d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { n, mean, se: Math.sqrt(v / n) };
}

/** The still vs through-the-pipeline figures of a set of placed faces. */
export interface FaceSummary {
  faces: number;
  detected: number;
  detectionRate: number | null;
  /** Still, every placed face. */
  stillAll: ClassScores;
  /** Still, the detected faces only: the same faces as `pipeline`. */
  still: ClassScores;
  pipeline: ClassScores;
  /** still − pipeline accuracy (balanced) on the same faces, and the paired standard error of the first. */
  gap: number | null;
  gapBalanced: number | null;
  gapSe: number | null;
  meanIou: number | null;
  /**
   * The exact crops (when measured): on the detected faces, before the camera (`clean`) and after
   * it (`filmed`), and the same on every placed face. still → clean → filmed → pipeline splits the
   * gap into resampling, camera and detector geometry.
   */
  exact: { clean: ClassScores; filmed: ClassScores; cleanAll: ClassScores; filmedAll: ClassScores } | null;
  /**
   * Per face size: detection rate, and on the detected faces still → pipeline accuracy; with the
   * exact crops measured, their accuracy before and after the camera too (where a size's gap goes).
   */
  bySize: Array<{
    bucket: string; faces: number; detected: number; detectionRate: number | null; stillAccuracy: number | null; pipelineAccuracy: number | null;
    exactBeforeCamera?: number | null; exactAfterCamera?: number | null;
  }>;
}

const share = (a: number, b: number) => (b ? a / b : null);
/** The share of `rs` whose class by `pick` is their label. */
const rightShare = (rs: readonly FaceRecord[], pick: (r: FaceRecord) => number | undefined) => share(rs.filter((r) => pick(r) === r.label).length, rs.length);
const minus = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

/** Summarises placed faces: detection rate, still vs pipeline on the same (detected) faces, by size. */
export function summariseFaces(records: readonly FaceRecord[]): FaceSummary {
  const det = records.filter((r) => r.pipe !== undefined);
  const still = scoreClasses(det.map((r) => r.label), det.map((r) => r.still));
  const pipeline = scoreClasses(det.map((r) => r.label), det.map((r) => r.pipe!));
  const paired = pairedDelta(det.map((r) => Number(r.still === r.label)), det.map((r) => Number(r.pipe === r.label)));
  const buckets = [...SIZE_BUCKETS.map(([a, b]) => `${a}-${b - 1}`), 'other'];
  const exact = records.length > 0 && records.every((r) => r.oracle !== undefined && r.oracleClean !== undefined);
  const bySize = buckets.map((bucket) => {
    const rs = records.filter((r) => sizeBucket(r.side) === bucket);
    const ds = rs.filter((r) => r.pipe !== undefined);
    return {
      bucket, faces: rs.length, detected: ds.length, detectionRate: share(ds.length, rs.length),
      stillAccuracy: rightShare(ds, (r) => r.still),
      pipelineAccuracy: rightShare(ds, (r) => r.pipe),
      ...(exact ? { exactBeforeCamera: rightShare(ds, (r) => r.oracleClean), exactAfterCamera: rightShare(ds, (r) => r.oracle) } : {}),
    };
  }).filter((b) => b.faces > 0);
  return {
    faces: records.length, detected: det.length, detectionRate: share(det.length, records.length),
    stillAll: scoreClasses(records.map((r) => r.label), records.map((r) => r.still)),
    still, pipeline,
    gap: minus(still.accuracy, pipeline.accuracy), gapBalanced: minus(still.balancedAccuracy, pipeline.balancedAccuracy), gapSe: paired.se,
    meanIou: det.length ? det.reduce((a, r) => a + (r.iou ?? 0), 0) / det.length : null,
    exact: exact ? {
      clean: scoreClasses(det.map((r) => r.label), det.map((r) => r.oracleClean!)),
      filmed: scoreClasses(det.map((r) => r.label), det.map((r) => r.oracle!)),
      cleanAll: scoreClasses(records.map((r) => r.label), records.map((r) => r.oracleClean!)),
      filmedAll: scoreClasses(records.map((r) => r.label), records.map((r) => r.oracle!)),
    } : null,
    bySize,
  };
}

/**
 * The dominant emotion of a timeline as the report names it (`summarisePerson`): the emotion with
 * the largest share of the time; a person whose every stretch was uncertain gets their stretches'
 * likeliest emotion. Ties go to the earlier emotion in EMOTIONS order. Undefined for no segments.
 */
export function dominantEmotion(segments: readonly Segment[]): EmotionState | undefined {
  return summarisePerson('', '', { firstSeenMs: 0, lastSeenMs: 0, segments: [...segments] }).dominant;
}

/** One clip of one face through the detector, classifier and aggregator. */
export interface ClipRecord {
  id: string;
  label: number;
  side: number;
  /** Class predicted from the 48x48 image. */
  still: number;
  /** Persons the aggregator reported. */
  persons: number;
  /** The dominant emotion of the main person (the one seen longest); undefined when there is none. */
  dominant?: EmotionState;
  /** Frames of the clip, frames with the face detected (IoU-matched), and of those classified right. */
  frames: number;
  framesDetected: number;
  framesCorrect: number;
  /** The same clip through aggregators with other settings (e.g. each smoothing space). */
  variants?: Record<string, { dominant?: EmotionState; framesStateCorrect: number }>;
  /**
   * Per detected frame, the face's probabilities smoothed as the aggregator's defaults smooth a
   * person's: the likeliest emotion's probability and whether that emotion is the label (what
   * `uncertainBelow` is chosen on).
   */
  smoothedTop?: Array<{ p: number; right: boolean }>;
  /** Per detected frame, the matched face's probabilities as the classifier gave them (EMOTIONS order). */
  frameProbs?: number[][];
}

/** The bins of {@link smoothedReliability}: where `uncertainBelow` may sit. */
export const RELIABILITY_EDGES = [0, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 1];

/**
 * How often the smoothed likeliest emotion is right, per bin of its probability, and below each
 * bin's upper edge (the frames an `uncertainBelow` there would call uncertain).
 */
export function smoothedReliability(records: readonly ClipRecord[]) {
  const xs = records.flatMap((r) => r.smoothedTop ?? []);
  let below = 0, belowRight = 0;
  return RELIABILITY_EDGES.slice(0, -1).map((from, i) => {
    const to = RELIABILITY_EDGES[i + 1];
    const inBin = xs.filter((x) => x.p >= from && (x.p < to || (i === RELIABILITY_EDGES.length - 2 && x.p <= to)));
    const right = inBin.filter((x) => x.right).length;
    below += inBin.length; belowRight += right;
    return {
      from, to, frames: inBin.length, accuracy: share(right, inBin.length),
      shareBelowTo: share(below, xs.length), accuracyBelowTo: share(belowRight, below),
    };
  });
}

/** Per-person figures of a set of clips. */
export interface ClipSummary {
  clips: number;
  /** Clips with at least one person. */
  withPerson: number;
  /** Dominant emotion right / `uncertain` / another emotion / no person at all. */
  correct: number;
  uncertain: number;
  wrong: number;
  noPerson: number;
  /** correct / clips: `uncertain` and no person count as wrong. */
  personAccuracy: number | null;
  /** correct / withPerson: the same among clips where the aggregator reported someone. */
  personAccuracyWithPerson: number | null;
  /** Balanced over the classes present (same counting). */
  personBalancedAccuracy: number | null;
  /** Clips with more than one person (a track split or a false face). */
  extraPersons: number;
  /** The same faces' still accuracy, and the per-frame pipeline accuracy over detected frames. */
  stillAccuracy: number | null;
  frameAccuracy: number | null;
  frameDetectionRate: number | null;
  neutralToSad: number | null;
  stillNeutralToSad: number | null;
  /** Per aggregator variant: per-person accuracy and the share of detected frames whose emotion state was right. */
  variants: Record<string, { personAccuracy: number | null; stateAccuracy: number | null }>;
  /**
   * The gap per person, paired on the same faces: the clips whose face was detected in at
   * least one frame, still accuracy minus the person's dominant emotion right (no person or
   * `uncertain` count as wrong), and minus the likeliest emotion of the face's mean
   * log-probabilities over its detected frames (what the frames carry, before any tracking).
   */
  personGap: { clips: number; still: number | null; person: number | null; gap: number | null; gapSe: number | null; framesMean: number | null; framesMeanGap: number | null; framesMeanGapSe: number | null };
}

/** The likeliest emotion of the mean log-probabilities of a face's frames (index into EMOTIONS). */
export function meanLogArgmax(frames: readonly (readonly number[])[]): number {
  return argmaxAt(EMOTIONS.map((_, c) => frames.reduce((a, p) => a + Math.log(Math.max(p[c], 1e-6)), 0)));
}

/** Summarises clips: per-person accuracy (the dominant emotion), `uncertain` counted wrong and reported apart. */
export function summariseClips(records: readonly ClipRecord[]): ClipSummary {
  const correct = records.filter((r) => r.dominant === EMOTIONS[r.label]).length;
  const uncertain = records.filter((r) => r.dominant === 'uncertain').length;
  const noPerson = records.filter((r) => r.dominant === undefined).length;
  // A prediction index per clip for the class scores: -1 for uncertain or no person (never right).
  const personPred = records.map((r) => {
    const i = r.dominant === undefined ? -1 : EMOTIONS.indexOf(r.dominant as Emotion);
    return i < 0 ? -1 : i;
  });
  const recalls = EMOTIONS.map((_, c) => {
    const of = records.map((r, i) => [r, personPred[i]] as const).filter(([r]) => r.label === c);
    return of.length ? of.filter(([, p]) => p === c).length / of.length : null;
  }).filter((x): x is number => x !== null);
  const frames = records.reduce((a, r) => a + r.frames, 0);
  const framesDetected = records.reduce((a, r) => a + r.framesDetected, 0);
  const neutral = records.map((r, i) => [r, personPred[i]] as const).filter(([r]) => r.label === NEUTRAL);
  return {
    clips: records.length,
    withPerson: records.length - noPerson,
    correct, uncertain, noPerson, wrong: records.length - correct - uncertain - noPerson,
    personAccuracy: share(correct, records.length),
    personAccuracyWithPerson: share(correct, records.length - noPerson),
    personBalancedAccuracy: recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : null,
    extraPersons: records.filter((r) => r.persons > 1).length,
    stillAccuracy: share(records.filter((r) => r.still === r.label).length, records.length),
    frameAccuracy: share(records.reduce((a, r) => a + r.framesCorrect, 0), framesDetected),
    frameDetectionRate: share(framesDetected, frames),
    neutralToSad: share(neutral.filter(([, p]) => p === SAD).length, neutral.length),
    stillNeutralToSad: share(neutral.filter(([r]) => r.still === SAD).length, neutral.length),
    personGap: personGapOf(records),
    variants: Object.fromEntries([...new Set(records.flatMap((r) => Object.keys(r.variants ?? {})))].map((k) => [k, {
      personAccuracy: share(records.filter((r) => r.variants?.[k]?.dominant === EMOTIONS[r.label]).length, records.length),
      stateAccuracy: share(records.reduce((a, r) => a + (r.variants?.[k]?.framesStateCorrect ?? 0), 0), framesDetected),
    }])),
  };
}

/** {@link ClipSummary.personGap}: clips whose face was detected at least once (needs `frameProbs`). */
function personGapOf(records: readonly ClipRecord[]): ClipSummary['personGap'] {
  const seen = records.filter((r) => (r.frameProbs?.length ?? 0) > 0);
  const still = seen.map((r) => Number(r.still === r.label));
  const person = seen.map((r) => Number(r.dominant === EMOTIONS[r.label]));
  const mean = seen.map((r) => Number(meanLogArgmax(r.frameProbs!) === r.label));
  const rate = (xs: number[]) => share(xs.reduce((a, b) => a + b, 0), xs.length);
  const g = pairedDelta(still, person), m = pairedDelta(still, mean);
  return { clips: seen.length, still: rate(still), person: rate(person), gap: g.mean, gapSe: g.se, framesMean: rate(mean), framesMeanGap: m.mean, framesMeanGapSe: m.se };
}

/**
 * What may choose a model. FER-2013: train on Training; choose epochs, τ and whether the
 * scheduled retrain publishes on PublicTest (the validation split) only; score PrivateTest (the
 * test split) once per shipped model, by a person (`emostream evaluate --split PrivateTest`).
 */
import { ferSplitOf, type FerSplit, type LabelledSet } from './datasets.js';

/** The split that chooses: best epoch, τ, the publish decision. */
export const VALIDATION_SPLIT = 'PublicTest' satisfies FerSplit;
/** The split that only reports, once per shipped model. */
export const TEST_SPLIT = 'PrivateTest' satisfies FerSplit;

/** Test data was about to train or choose a model. */
export class SelectionError extends Error {
  constructor(message: string) { super(message); this.name = 'SelectionError'; }
}

/** Throws when any image of `set` is a FER-2013 test-split file (by its file name), naming how many and one. */
export function assertNoTestImages(set: Pick<LabelledSet, 'ids'>, role: string): void {
  const bad = set.ids.filter((id) => ferSplitOf(id) === TEST_SPLIT);
  if (bad.length) {
    throw new SelectionError(`${bad.length} ${TEST_SPLIT} image${bad.length === 1 ? '' : 's'} in the ${role} set, e.g. ${bad[0]}: ${TEST_SPLIT} never trains or chooses a model (choose on ${VALIDATION_SPLIT})`);
  }
}

/**
 * The FER-2013 split an `emostream evaluate --json` result was scored on, from its `data` name
 * (`fer2013-PublicTest`, `ferplus-majority-PrivateTest`); undefined for other data (CK+, a folder).
 */
export function evaluationSplit(e: { data: string }): FerSplit | undefined {
  return /(?:^|-)(Training|PublicTest|PrivateTest)(?:-|$)/.exec(e.data)?.[1] as FerSplit | undefined;
}

/** The part of an `emostream evaluate --json` result the decision reads. */
export interface EvaluationResult { data: string; n: number; accuracy: number; model?: string }

/** Whether the scheduled retrain publishes its candidate, and why. */
export interface PublishDecision {
  publish: boolean;
  /** One line: the figures compared. */
  reason: string;
  /** The data both evaluations were scored on (e.g. fer2013-PublicTest). */
  data: string;
  /** The FER-2013 split decided on; undefined for data without FER-2013 splits. */
  split?: FerSplit;
  accuracy: number;
  minAccuracy: number;
  currentAccuracy?: number;
}

function checked(e: EvaluationResult, role: string, split: FerSplit): EvaluationResult {
  const ok = e && typeof e === 'object' && typeof e.data === 'string' && Number.isInteger(e.n) && e.n > 0 &&
    typeof e.accuracy === 'number' && e.accuracy >= 0 && e.accuracy <= 1;
  if (!ok) throw new SelectionError(`the ${role} evaluation is not an \`emostream evaluate --json\` result with data, n > 0 and accuracy`);
  const s = evaluationSplit(e);
  if (s === TEST_SPLIT) {
    throw new SelectionError(`the ${role} evaluation was scored on ${e.data}, the test split: the publish decision never uses ${TEST_SPLIT}; evaluate with --split ${VALIDATION_SPLIT}`);
  }
  if (s !== undefined && s !== split) {
    throw new SelectionError(`the ${role} evaluation was scored on ${e.data}: the publish decision uses ${split}; evaluate with --split ${split}`);
  }
  return e;
}

/**
 * The scheduled retrain's publish decision: publish when the candidate's accuracy on the
 * validation split reaches `minAccuracy` (and, given the current model's evaluation on the same
 * set, is not below it). An evaluation scored on PrivateTest (or on any FER-2013 split other than
 * `split`, PublicTest) is an error, never a decision.
 */
export function publishDecision(candidate: EvaluationResult, current: EvaluationResult | undefined, o: { minAccuracy: number; split?: FerSplit }): PublishDecision {
  const split = o.split ?? VALIDATION_SPLIT;
  if (split !== VALIDATION_SPLIT) throw new SelectionError(`the publish decision uses the validation split ${VALIDATION_SPLIT}, not ${split}`);
  if (!(o.minAccuracy >= 0 && o.minAccuracy <= 1)) throw new SelectionError(`the minimum accuracy must be from 0 to 1, got ${o.minAccuracy}`);
  const c = checked(candidate, 'candidate', split);
  const cur = current === undefined ? undefined : checked(current, 'current model\'s', split);
  if (cur && (cur.data !== c.data || cur.n !== c.n)) {
    throw new SelectionError(`the candidate (${c.data}, n=${c.n}) and the current model (${cur.data}, n=${cur.n}) were scored on different sets: compare them on the same one`);
  }
  const pct = (a: number) => a.toFixed(4);
  const reachesMin = c.accuracy >= o.minAccuracy;
  const notWorse = !cur || c.accuracy >= cur.accuracy;
  const reason = `accuracy ${pct(c.accuracy)} on ${c.data} (n=${c.n}) ${reachesMin ? 'reaches' : 'is below'} the minimum ${o.minAccuracy}` +
    (cur ? `; the current model${cur.model ? ` (${cur.model})` : ''} has ${pct(cur.accuracy)}${notWorse ? '' : ', better'}` : '');
  return {
    publish: reachesMin && notWorse, reason, data: c.data, split: evaluationSplit(c), accuracy: c.accuracy, minAccuracy: o.minAccuracy,
    ...(cur ? { currentAccuracy: cur.accuracy } : {}),
  };
}

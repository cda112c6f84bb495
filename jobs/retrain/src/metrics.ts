/** Classification figures: accuracy, balanced accuracy, per-class P/R/F1, confusion, calibration. */
import { EMOTIONS } from '@emostream/contracts';
import type { EvaluationSummary } from '@emostream/model';

/** Confusion matrix: rows are true classes, columns predicted. */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number = EMOTIONS.length): number[][] {
  const m = Array.from({ length: classes }, () => new Array(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][pred[i]]++;
  return m;
}

/**
 * Expected calibration error: the mean |confidence − accuracy| over `bins` equal-width
 * confidence bins, weighted by the share of samples in each.
 */
export function expectedCalibrationError(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, bins = 15): number {
  const n = confidence.length;
  if (n === 0) return 0;
  const sumConf = new Array(bins).fill(0), sumAcc = new Array(bins).fill(0), count = new Array(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.floor(confidence[i] * bins));
    sumConf[b] += confidence[i]; sumAcc[b] += correct[i] ? 1 : 0; count[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) ece += (count[b] / n) * Math.abs(sumConf[b] / count[b] - sumAcc[b] / count[b]);
  return ece;
}

/** Every figure of `evaluate --json` from labels and softmax outputs (n*classes). */
export function summarise(model: string, data: string, truth: ArrayLike<number>, probs: Float32Array, classes: number = EMOTIONS.length, labels: readonly string[] = EMOTIONS): EvaluationSummary {
  const n = truth.length;
  const pred = new Int32Array(n);
  const conf = new Float32Array(n);
  const correct: boolean[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    pred[i] = best; conf[i] = probs[i * classes + best]; correct.push(best === truth[i]);
  }
  const confusion = confusionMatrix(truth, pred, classes);
  const perClass: EvaluationSummary['perClass'] = {};
  const recalls: number[] = [];
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[labels[c]] = { precision, recall, f1, support };
    if (support) recalls.push(recall);
  }
  const accuracy = n ? correct.filter(Boolean).length / n : 0;
  const balancedAccuracy = recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : 0;
  return { model, data, n, accuracy, balancedAccuracy, perClass, confusion, ece: expectedCalibrationError(conf, correct) };
}

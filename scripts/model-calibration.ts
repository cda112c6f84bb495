/**
 * How a model's probabilities behave on FER-2013's validation split (PublicTest, never
 * PrivateTest): the temperature that fits them best (NLL) and the ECE at each, how many faces
 * fall under each `uncertainBelow` threshold and how often those are right, and what neutral faces
 * are called (the false-alarm rate of each emotion on neutral faces).
 *
 *   node --import tsx scripts/model-calibration.ts [--model DIR] [--data ../shared/data/fer2013]
 */
import { EMOTIONS } from '@emostream/contracts';
import { loadTf } from '@emostream/runtime';
import { loadEmotionModel } from '@emostream/classifier';
import { loadEvalSets, predictorProbabilities } from '@emostream/retrain';

const arg = (name: string, fallback?: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : fallback; };
const rt = await loadTf('auto');
const model = await loadEmotionModel(rt.tf, { model: arg('--model') });
const { set, name } = await loadEvalSets(arg('--data', '../shared/data/fer2013')!, { split: 'PublicTest' });
const n = set.labels.length, k = EMOTIONS.length;
const probs = await predictorProbabilities(model, set);
const row = (i: number) => probs.subarray(i * k, (i + 1) * k);
const argmax = (p: ArrayLike<number>) => { let b = 0; for (let e = 1; e < p.length; e++) if (p[e] > p[b]) b = e; return b; };
const withTemperature = (p: ArrayLike<number>, T: number) => {
  const out = Array.from(p, (v) => Math.exp(Math.log(Math.max(v, 1e-12)) / T));
  const z = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / z);
};
console.log(`${name}, ${n} faces, model ${model.version}`);
for (const T of [0.8, 0.9, 1, 1.1, 1.2, 1.4]) {
  let nll = 0;
  const bins = Array.from({ length: 10 }, () => ({ n: 0, right: 0, conf: 0 }));
  for (let i = 0; i < n; i++) {
    const p = withTemperature(row(i), T);
    nll -= Math.log(Math.max(p[set.labels[i]], 1e-12));
    const b = argmax(p);
    const bin = bins[Math.min(9, Math.floor(p[b] * 10))];
    bin.n++; bin.conf += p[b]; bin.right += b === set.labels[i] ? 1 : 0;
  }
  const ece = bins.reduce((s, b) => s + Math.abs(b.right - b.conf), 0) / n;
  console.log(`temperature ${T}: NLL ${(nll / n).toFixed(4)}, ECE ${ece.toFixed(4)}`);
}
for (const th of [0.3, 0.35, 0.4, 0.45, 0.5]) {
  let under = 0, underRight = 0, overRight = 0;
  for (let i = 0; i < n; i++) {
    const p = row(i), b = argmax(p), right = b === set.labels[i];
    if (p[b] < th) { under++; if (right) underRight++; } else if (right) overRight++;
  }
  console.log(`uncertainBelow ${th}: ${(100 * under / n).toFixed(1)}% of faces under, right ${(100 * underRight / Math.max(1, under)).toFixed(0)}%; the others right ${(100 * overRight / (n - under)).toFixed(0)}%`);
}
const neutral = EMOTIONS.indexOf('neutral');
const called = new Array<number>(k).fill(0);
let neutrals = 0;
for (let i = 0; i < n; i++) if (set.labels[i] === neutral) { neutrals++; called[argmax(row(i))]++; }
console.log(`neutral faces (${neutrals}) called: ${EMOTIONS.map((e, j) => `${e} ${(100 * called[j] / neutrals).toFixed(1)}%`).join(', ')}`);

/**
 * Classifier throughput: faces per second at batch 1..128 through the classifier's own model
 * call (EmotionModel.predict: bytes → tensor → CNN → probabilities), the FLOPs per face from
 * the layer shapes, and the share of the backend's measured matmul peak the CNN achieves.
 */
import { INPUT_PIXELS, cardFlipTta, loadModelDir } from '@emostream/model';
import type { BenchContext, Row } from '../lib/context.js';
import { modelFlops } from '../lib/model.js';
import { prng } from '../scene/generate.js';
import { ratio, sig } from '../lib/stats.js';

const BATCHES = [1, 8, 32, 64, 128];

/** Runs `fn` repeatedly for at least `ms` (after `warm` untimed calls); returns calls per second. */
async function rate(fn: () => Promise<unknown>, ms: number, warm = 3): Promise<{ calls: number; wallMs: number; perSecond: number }> {
  for (let i = 0; i < warm; i++) await fn();
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) { await fn(); calls++; }
  const wallMs = performance.now() - t0;
  return { calls, wallMs, perSecond: calls / (wallMs / 1000) };
}

/**
 * The backend's matmul peak: square float32 matMul (n = 1024 and 2048), 2n^3 FLOPs each, the
 * best of the two. tfjs-node runs the op synchronously in libtensorflow (all cores, oneDNN).
 */
async function matmulPeak(ctx: BenchContext, ms: number): Promise<{ n: number; gflops: number }[]> {
  const { tf } = ctx.rt;
  const out: { n: number; gflops: number }[] = [];
  for (const n of [1024, 2048]) {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
    const r = await rate(async () => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); }, ms, 2);
    out.push({ n, gflops: (r.perSecond * 2 * n ** 3) / 1e9 });
    tf.dispose([a, b]);
  }
  return out;
}

/** Runs the section. */
export async function classifierSection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const ms = ctx.quick ? 1_000 : 4_000;
  const model = await ctx.emotionModel();
  const loaded = await loadModelDir(ctx.rt.tf, ctx.model.dir);
  const flops = modelFlops(loaded.model);
  const tta = cardFlipTta(loaded.card);
  loaded.model.dispose();
  // Each face costs one forward pass, two with mirror test-time augmentation.
  const flopsPerFace = flops.total * (tta ? 2 : 1);
  const rnd = prng(2024);
  const crops = Array.from({ length: 128 }, () => Uint8Array.from({ length: INPUT_PIXELS }, () => Math.floor(rnd() * 256)));
  // The peak before and after the CNN (the better of the two): a busy spell during one
  // measurement must not make the CNN look better than the machine.
  ctx.log('classifier: matmul peak (before)');
  const peakBefore = await matmulPeak(ctx, ms);
  const perBatch: Record<string, { facesPerSecond: number; gflops: number; msPerBatch: number }> = {};
  for (const b of BATCHES) {
    ctx.log(`classifier: batch ${b}`);
    const batch = crops.slice(0, b);
    const r = await rate(() => model.predict(batch), ms);
    const fps = r.perSecond * b;
    perBatch[b] = { facesPerSecond: fps, gflops: (fps * flopsPerFace) / 1e9, msPerBatch: r.wallMs / r.calls };
  }
  ctx.log('classifier: matmul peak (after)');
  const peakAfter = await matmulPeak(ctx, ms);
  const peak = peakBefore.map((p, i) => (peakAfter[i].gflops > p.gflops ? peakAfter[i] : p));
  const peakGflops = Math.max(...peak.map((p) => p.gflops));
  const best = BATCHES.reduce((a, b) => (perBatch[b].gflops > perBatch[a].gflops ? b : a));
  const figures = {
    classifierFacesPerSecond: Object.fromEntries(BATCHES.map((b) => [b, perBatch[b].facesPerSecond])),
    batch64OverBatch1: ratio(perBatch[64].facesPerSecond, perBatch[1].facesPerSecond),
    flopsPerFace,
    mflopsPerFace: flopsPerFace / 1e6,
    flipTta: tta,
    achievedGflopsBatch64: perBatch[64].gflops,
    achievedGflopsBest: perBatch[best].gflops,
    bestBatch: best,
    matmulPeakGflops: peakGflops,
    matmulPeak: peak,
    flopUtilisation: ratio(perBatch[64].gflops, peakGflops),
    flopUtilisationBest: ratio(perBatch[best].gflops, peakGflops),
    flopsByLayer: flops.layers,
  };
  const rows: Row[] = [
    ...BATCHES.map((b) => ({
      section: 'classifier', figure: `faces/s @ batch ${b}`, value: `${sig(perBatch[b].facesPerSecond, 4)}`,
      detail: `${sig(perBatch[b].msPerBatch, 3)} ms per batch, ${sig(perBatch[b].gflops, 3)} GFLOP/s`,
    })),
    { section: 'classifier', figure: 'batch64OverBatch1', value: `${sig(figures.batch64OverBatch1, 3)}x`, detail: ctx.model.description },
    { section: 'classifier', figure: 'FLOPs per face', value: `${sig(flopsPerFace / 1e6, 4)} MFLOP`, detail: `conv 2·H·W·Cin·Cout·k², dense 2·in·out${tta ? '; x2 for flip TTA' : ''}` },
    { section: 'classifier', figure: 'flopUtilisation (batch 64 / matmul peak)', value: `${sig(figures.flopUtilisation, 3)}`,
      detail: `${sig(perBatch[64].gflops, 3)} of ${sig(peakGflops, 4)} GFLOP/s (matMul ${peak.map((p) => `${p.n}: ${sig(p.gflops, 4)}`).join(', ')}); best batch ${best}: ${sig(figures.flopUtilisationBest, 3)}` },
  ];
  return { figures, rows };
}

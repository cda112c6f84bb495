/**
 * The model the benchmark runs: the shipped default (models/DEFAULT) when present, else the
 * `best` architecture untrained (same layers, so the same FLOPs and speed; its emotions are
 * noise, which the scene scores say). Also the FLOP count of a model from its layer shapes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import type { Tf } from '@emostream/runtime';
import { BEST_ARCHITECTURE, buildModel, cardFlipTta, defaultModelDir, saveModelDir, type ModelCard } from '@emostream/model';

type LayersModel = import('@tensorflow/tfjs-node').LayersModel;

/** Which model the run uses. */
export interface BenchModel {
  dir: string;
  /** True for the shipped (trained) model. */
  trained: boolean;
  description: string;
}

/**
 * The shipped model (or `BENCH_MODEL`, a candidate's model directory, to measure it before it is
 * shipped), or an untrained `best` written to a temp folder.
 */
export async function benchModel(tf: Tf, tmp: string): Promise<BenchModel> {
  const chosen = process.env.BENCH_MODEL;
  if (chosen && !fs.existsSync(path.join(chosen, 'model.json'))) throw new Error(`BENCH_MODEL=${chosen} has no model.json: point it at a model directory (what \`emostream train\` writes under <out>/model)`);
  const shipped = chosen ? path.resolve(chosen) : defaultModelDir();
  if (fs.existsSync(path.join(shipped, 'model.json'))) {
    // A copy: a model re-shipped while the run goes on must not change models between sections.
    const dir = path.join(tmp, 'model-shipped');
    fs.cpSync(shipped, dir, { recursive: true });
    const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as ModelCard;
    const tta = cardFlipTta(card) ? ', flip TTA' : '';
    return { dir, trained: true, description: `${chosen ? `BENCH_MODEL ${chosen}:` : 'shipped'} ${card.name ?? path.basename(shipped)} ${card.version ?? ''}${tta}`.trim() };
  }
  const out = fs.mkdtempSync(path.join(tmp || os.tmpdir(), 'model-'));
  const m = buildModel(tf, BEST_ARCHITECTURE, 1);
  await saveModelDir(m, out, {
    name: 'best', version: 'untrained-bench', createdAt: new Date().toISOString(), architecture: BEST_ARCHITECTURE,
    parameters: m.countParams(), labels: [...EMOTIONS], preprocessing: 'bench', training: {}, evaluation: {},
  } satisfies ModelCard);
  m.dispose();
  return { dir: out, trained: false, description: 'best architecture, untrained (no models/DEFAULT yet): speed figures hold, emotion scores are chance' };
}

/** FLOPs of one layer and its kind, for the table. */
export interface LayerFlops { name: string; kind: string; flops: number }

type Shape = Array<number | null>;
/** A layer's (first) input or output shape, the batch dimension as 1. */
const dims = (s: Shape | Shape[]): number[] => ((Array.isArray(s[0]) ? s[0] : s) as Shape).map((d) => d ?? 1);

/**
 * FLOPs per input (one face) from the layer shapes: a convolution costs 2*Hout*Wout*Cin*Cout*k^2
 * (one multiply and one add per weight per output pixel), a dense layer 2*in*out. Pooling, batch
 * norm, activations and biases are left out (under 1% here).
 */
export function modelFlops(model: LayersModel): { total: number; layers: LayerFlops[] } {
  const layers: LayerFlops[] = [];
  for (const l of model.layers) {
    const cls = l.getClassName();
    if (cls === 'Conv2D') {
      const cfg = l.getConfig() as { kernelSize: number | number[]; filters: number };
      const [kh, kw] = Array.isArray(cfg.kernelSize) ? cfg.kernelSize : [cfg.kernelSize, cfg.kernelSize];
      const inp = dims((l.input as { shape: Shape }).shape);
      const out = dims(l.outputShape);
      layers.push({ name: l.name, kind: cls, flops: 2 * out[1] * out[2] * inp[3] * cfg.filters * kh * kw });
    } else if (cls === 'Dense') {
      const inp = dims((l.input as { shape: Shape }).shape);
      const cfg = l.getConfig() as { units: number };
      layers.push({ name: l.name, kind: cls, flops: 2 * inp[inp.length - 1] * cfg.units });
    }
  }
  return { total: layers.reduce((a, x) => a + x.flops, 0), layers };
}

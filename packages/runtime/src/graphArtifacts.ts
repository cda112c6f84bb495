/**
 * A graph model's artifacts made ready for {@link sessionModel}: read from its model.json and
 * weight files, its float16 weights widened to float32 (a SavedModel's Const nodes hold float32;
 * tfjs widens them the same way when it loads the graph model), and its graph cut down to the
 * nodes an output needs (Human's faceres computes age and gender heads after the descriptor
 * this project uses: three matrix products a face for nothing).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GraphArtifacts, GraphWeight } from './savedModel.js';

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const QUANT_BYTES: Record<string, number> = { float16: 2, uint8: 1, uint16: 2 };

/** Reads `file` (a tfjs graph model's model.json) and its weight files, as they are. */
export function readGraphArtifacts(file: string): GraphArtifacts & { signature?: unknown } {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    modelTopology: GraphArtifacts['modelTopology']; weightsManifest: Array<{ paths: string[]; weights: GraphWeight[] }>; signature?: unknown;
  };
  if (!json.modelTopology?.node || !Array.isArray(json.weightsManifest)) throw new Error(`${file}: not a TensorFlow.js graph model (no modelTopology.node or weightsManifest)`);
  const bytes = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p)))));
  const weightData = new ArrayBuffer(bytes.length);
  new Uint8Array(weightData).set(bytes);
  return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData, signature: json.signature };
}

/** IEEE 754 half-precision values widened to float32, bit by bit (subnormals, infinities and NaN included). */
function widenHalves(half: Uint16Array): Float32Array {
  const bits = new Uint32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i];
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let frac = h & 0x3ff;
    if (exp === 0x1f) bits[i] = sign | 0x7f800000 | (frac << 13);
    else if (exp !== 0) bits[i] = sign | ((exp + 112) << 23) | (frac << 13);
    else if (frac === 0) bits[i] = sign;
    else {
      // A subnormal half is a normal float: shift its fraction up to the hidden bit.
      let e = 113;
      while ((frac & 0x400) === 0) { frac <<= 1; e--; }
      bits[i] = sign | (e << 23) | ((frac & 0x3ff) << 13);
    }
  }
  return new Float32Array(bits.buffer);
}

/** Byte size of one weight as its weight files store it (quantised or not). */
export function weightBytes(w: GraphWeight): number {
  const count = w.shape.reduce((a, b) => a * b, 1);
  const q = w.quantization as { dtype?: string } | undefined;
  const per = q ? QUANT_BYTES[q.dtype ?? ''] : BYTES[w.dtype];
  if (!per) throw new Error(`weight ${w.name}: dtype ${q?.dtype ?? w.dtype} is not one this reads`);
  return count * per;
}

/**
 * `a` with only the nodes that `outputs` need (and their weights), float16 weights widened to
 * float32. Throws when an output is not a node of the graph, or a weight is quantised otherwise
 * than to float16 (uint8 and uint16 affine quantisation are left to tfjs's own loader).
 */
export function sessionArtifacts(a: GraphArtifacts, outputs: string[]): GraphArtifacts {
  const nodes = new Map(a.modelTopology.node.map((n) => [n.name, n]));
  const keep = new Set<string>();
  const stack = [...outputs];
  for (const o of outputs) if (!nodes.has(o)) throw new Error(`no node ${o} in the graph`);
  while (stack.length) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    keep.add(name);
    for (const i of nodes.get(name)?.input ?? []) stack.push(i.replace(/^\^/, '').split(':')[0]);
  }
  const parts: Uint8Array[] = [];
  const specs: GraphWeight[] = [];
  let offset = 0;
  for (const w of a.weightSpecs) {
    const size = weightBytes(w);
    const stored = new Uint8Array(a.weightData, offset, size);
    offset += size;
    if (!keep.has(w.name)) continue;
    const q = w.quantization as { dtype?: string } | undefined;
    if (!q) {
      parts.push(stored.slice());
      specs.push(w);
    } else if (q.dtype === 'float16' && w.dtype === 'float32') {
      parts.push(new Uint8Array(widenHalves(new Uint16Array(stored.slice().buffer)).buffer));
      specs.push({ name: w.name, dtype: 'float32', shape: w.shape });
    } else {
      throw new Error(`weight ${w.name}: ${q.dtype} quantisation is not widened here`);
    }
  }
  if (offset !== a.weightData.byteLength) throw new Error(`the weights take ${offset} bytes, the files hold ${a.weightData.byteLength}`);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const weightData = new ArrayBuffer(total);
  const view = new Uint8Array(weightData);
  let at = 0;
  for (const p of parts) { view.set(p, at); at += p.length; }
  return { modelTopology: { ...a.modelTopology, node: a.modelTopology.node.filter((n) => keep.has(n.name)) }, weightSpecs: specs, weightData };
}

type GraphNode = GraphArtifacts['modelTopology']['node'][number];

/**
 * A graph written in code, node by node, for {@link sessionModel}: the classifier's compiled CNN
 * (@emostream/model's inferenceGraph) and BlazeFace's decoding added to Human's graph
 * (the detector's blazefaceGraph). Constants are Const nodes whose values go into the weights.
 */
export class GraphWriter {
  /** The nodes written so far, in order. */
  readonly node: GraphNode[] = [];
  private readonly specs: GraphWeight[] = [];
  private readonly chunks: Uint8Array[] = [];

  /** A Const node holding `values` (float32 or int32) of `shape`; returns its name. */
  constant(name: string, values: Float32Array | Int32Array, shape: number[]): string {
    const type = values instanceof Int32Array ? 'DT_INT32' : 'DT_FLOAT';
    this.node.push({ name, op: 'Const', attr: { dtype: { type }, value: { tensor: { dtype: type, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } } });
    this.specs.push({ name, dtype: type === 'DT_INT32' ? 'int32' : 'float32', shape });
    this.chunks.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return name;
  }

  /** A node `op` on `inputs` (none: a node without inputs, a placeholder); returns its name. */
  op(name: string, op: string, inputs: string[], attr: GraphNode['attr']): string {
    this.node.push(inputs.length ? { name, op, input: inputs, attr } : { name, op, attr });
    return name;
  }

  /** The graph: `base`'s nodes but those named in `drop`, then the nodes written; the weights likewise. */
  artifacts(base?: GraphArtifacts, drop: ReadonlySet<string> = new Set()): GraphArtifacts {
    const parts = [...(base ? [new Uint8Array(base.weightData)] : []), ...this.chunks];
    const data = new Uint8Array(parts.reduce((a, c) => a + c.byteLength, 0));
    let offset = 0;
    for (const c of parts) { data.set(c, offset); offset += c.byteLength; }
    return {
      modelTopology: { ...base?.modelTopology, node: [...(base?.modelTopology.node.filter((n) => !drop.has(n.name)) ?? []), ...this.node] },
      weightSpecs: [...(base?.weightSpecs ?? []), ...this.specs],
      weightData: data.buffer,
    };
  }
}

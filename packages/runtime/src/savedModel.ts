/**
 * A TensorFlow.js graph model (model.json and its weights) run as one TensorFlow session call.
 *
 * tfjs-node runs a graph model op by op: each of its ops is one eager TensorFlow call from
 * JavaScript, and on 2 CPU cores that overhead outweighs the arithmetic of a small network.
 * BlazeFace (about 145 ops) took 28.6 ms a 256x256 image that way and 7.6 ms as one session call,
 * with outputs equal to the last bit (bench/RESULTS.md, Session 16). The model.json of a graph
 * model is a TensorFlow GraphDef written as JSON, and its weights are the values of its Const
 * nodes, so the same graph is written here as a SavedModel (the GraphDef with the weights in its
 * Const nodes, no variables, one `serve` signature) into a temporary folder, loaded with
 * `tf.node.loadSavedModel`, which runs it whole in TensorFlow's C++ runtime, and the folder removed. Only tfjs-node and
 * tfjs-node-gpu can; other backends, and graphs this does not know how to write (quantised
 * weights, functions), keep the graph model ({@link sessionModel} answers undefined), as does
 * `EMOSTREAM_SAVED_MODELS=0`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Tensor } from '@tensorflow/tfjs-node';
import type { Tf } from './tf.js';

const require = createRequire(import.meta.url);

/** A weight of the model: its name (a Const node), dtype and shape, in the order of the weight data. */
export interface GraphWeight { name: string; dtype: string; shape: number[]; quantization?: unknown }

/** A graph model's artifacts: the topology of its model.json and the bytes of its weights. */
export interface GraphArtifacts {
  modelTopology: { node: GraphNode[]; versions?: { producer?: number; minConsumer?: number }; library?: { function?: unknown[] } };
  weightSpecs: GraphWeight[];
  weightData: ArrayBuffer;
}

/** A node of the GraphDef, as model.json writes it (protobuf's JSON mapping). */
interface GraphNode { name: string; op: string; input?: string[]; attr?: Record<string, AttrJson> }

/** An attribute value, as model.json writes it. */
interface AttrJson {
  list?: { s?: string[]; i?: string[]; f?: number[]; b?: boolean[]; type?: string[]; shape?: ShapeJson[] };
  s?: string; i?: string; f?: number; b?: boolean; type?: string; shape?: ShapeJson; tensor?: { dtype: string; tensorShape?: ShapeJson };
}
interface ShapeJson { dim?: Array<{ size?: string }>; unknownRank?: boolean }

/** A graph run as one session call. */
export interface SessionModel {
  /** The graph's outputs for `x`, in the order of {@link outputs} (the graph's unconsumed nodes, by name). */
  execute(x: Tensor): Tensor[];
  /** Names of the outputs, in order. */
  readonly outputs: readonly string[];
  dispose(): void;
}

/**
 * `artifacts` as a SavedModel (the bytes of saved_model.pb) whose `serving_default` signature
 * takes `input` (the placeholder's dtype and shape: -1 for a batch of any size) and gives the
 * graph's outputs as {@link outputKey}(0), (1), …; undefined when the graph holds what this does not write.
 */
export function savedModelBytes(tfPackage: string, artifacts: GraphArtifacts): { bytes: Uint8Array; outputs: string[] } | undefined {
  const pb = require(`${tfPackage}/dist/proto/api_pb`);
  const { modelTopology: topo, weightSpecs, weightData } = artifacts;
  if (topo.library?.function?.length || weightSpecs.some((w) => w.quantization || !(w.dtype in DTYPE_BYTES))) return undefined;
  const sizes = weightSpecs.map((w) => w.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[w.dtype]);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== weightData.byteLength) throw new Error(`the weights take ${total} bytes, their data holds ${weightData.byteLength}`);
  const values = new Map<string, Uint8Array>();
  let offset = 0;
  weightSpecs.forEach((w, i) => { values.set(w.name, new Uint8Array(weightData, offset, sizes[i])); offset += sizes[i]; });
  const dtype = (name: string): number => {
    const v = pb.DataType[name];
    if (v === undefined) throw new Error(`unknown TensorFlow dtype ${name}`);
    return v;
  };
  const shape = (s: ShapeJson) => {
    const out = new pb.TensorShape();
    if (s.unknownRank) out.setUnknownRank(true);
    for (const d of s.dim ?? []) { const dim = new pb.TensorShape.Dim(); dim.setSize(Number(d.size ?? 0)); out.addDim(dim); }
    return out;
  };
  const graph = new pb.GraphDef();
  const consumed = new Set<string>();
  let input: GraphNode | undefined;
  for (const n of topo.node) {
    for (const i of n.input ?? []) consumed.add(i.replace(/^\^/, '').split(':')[0]);
    const node = new pb.NodeDef();
    node.setName(n.name);
    node.setOp(n.op);
    node.setInputList(n.input ?? []);
    const attrs = node.getAttrMap();
    for (const [k, v] of Object.entries(n.attr ?? {})) {
      const a = new pb.AttrValue();
      if (v.list) {
        const l = new pb.AttrValue.ListValue();
        for (const s of v.list.s ?? []) l.addS(Buffer.from(s, 'base64'));
        for (const i of v.list.i ?? []) l.addI(Number(i));
        for (const f of v.list.f ?? []) l.addF(f);
        for (const b of v.list.b ?? []) l.addB(b);
        for (const t of v.list.type ?? []) l.addType(dtype(t));
        for (const s of v.list.shape ?? []) l.addShape(shape(s));
        a.setList(l);
      } else if (v.s !== undefined) a.setS(Buffer.from(v.s, 'base64'));
      else if (v.i !== undefined) a.setI(Number(v.i));
      else if (v.f !== undefined) a.setF(v.f);
      else if (v.b !== undefined) a.setB(v.b);
      else if (v.type !== undefined) a.setType(dtype(v.type));
      else if (v.shape !== undefined) a.setShape(shape(v.shape));
      else if (v.tensor !== undefined) {
        const t = new pb.Tensor();
        t.setDtype(dtype(v.tensor.dtype));
        t.setTensorShape(shape(v.tensor.tensorShape ?? {}));
        const value = values.get(n.name);
        if (!value) return undefined; // a constant with its value inline: not written here
        t.setTensorContent(value);
        a.setTensor(t);
      } else return undefined;
      attrs.set(k, a);
    }
    // The converter drops the list of argument types of TensorFlow's fused ops; the C++ runtime needs it.
    if (n.op.startsWith('_Fused') && !n.attr?.TArgs && n.attr?.num_args) {
      const l = new pb.AttrValue.ListValue();
      for (let k = 0; k < Number(n.attr.num_args.i ?? 0); k++) l.addType(pb.DataType.DT_FLOAT);
      const a = new pb.AttrValue();
      a.setList(l);
      attrs.set('TArgs', a);
    }
    if (n.op === 'Placeholder') {
      if (input) return undefined; // one input only
      input = n;
    }
    graph.addNode(node);
  }
  if (!input) return undefined;
  const versions = new pb.VersionDef();
  versions.setProducer(topo.versions?.producer ?? 0);
  graph.setVersions(versions);
  const outputs = topo.node.filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'Placeholder').map((n) => n.name).sort();
  const info = (name: string) => {
    const t = new pb.TensorInfo();
    t.setName(`${name}:0`);
    t.setDtype(pb.DataType.DT_FLOAT);
    t.setTensorShape(shape({ unknownRank: true }));
    return t;
  };
  const signature = new pb.SignatureDef();
  const inputInfo = info(input.name);
  inputInfo.setDtype(dtype(input.attr?.dtype?.type ?? 'DT_FLOAT'));
  inputInfo.setTensorShape(shape(input.attr?.shape?.shape ?? { unknownRank: true }));
  signature.getInputsMap().set('input', inputInfo);
  outputs.forEach((o, i) => signature.getOutputsMap().set(outputKey(i), info(o)));
  signature.setMethodName('tensorflow/serving/predict');
  const meta = new pb.MetaGraphDef();
  const metaInfo = new pb.MetaGraphDef.MetaInfoDef();
  metaInfo.setTagsList(['serve']);
  meta.setMetaInfoDef(metaInfo);
  meta.setGraphDef(graph);
  meta.getSignatureDefMap().set('serving_default', signature);
  const saved = new pb.SavedModel();
  saved.setSavedModelSchemaVersion(1);
  saved.addMetaGraphs(meta);
  return { bytes: saved.serializeBinary() as Uint8Array, outputs };
}

/** The signature's name of the i-th output (`output_000`, …). */
const outputKey = (i: number) => `output_${String(i).padStart(3, '0')}`;

/** Bytes per element of the weight dtypes model.json may hold unquantised. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4 };

/** The package whose protobuf messages write the SavedModel: tfjs-node's, else tfjs-node-gpu's (the same files). */
function protoPackage(): string | undefined {
  for (const p of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    try {
      require.resolve(`${p}/dist/proto/api_pb`);
      return p;
    } catch { /* not installed */ }
  }
  return undefined;
}

/**
 * `artifacts` loaded as one session call on tfjs-node or tfjs-node-gpu (the `tensorflow` backend);
 * undefined on other backends, for a graph {@link savedModelBytes} does not write, or (with a
 * warning) when it cannot be written or loaded. The input's shape is the graph's placeholder's.
 */
export async function sessionModel(tf: Tf, artifacts: GraphArtifacts): Promise<SessionModel | undefined> {
  if (tf.getBackend() !== 'tensorflow' || typeof tf.node?.loadSavedModel !== 'function') return undefined;
  if (process.env.EMOSTREAM_SAVED_MODELS === '0') return undefined; // op by op, as before
  const tfPackage = protoPackage();
  const written = tfPackage ? savedModelBytes(tfPackage, artifacts) : undefined;
  if (!written) return undefined;
  // Written into a folder of its own, loaded (TensorFlow reads the whole graph into its session),
  // then removed: nothing is left on disk, whatever the number of processes or model versions.
  let dir: string | undefined;
  let model: Awaited<ReturnType<Tf['node']['loadSavedModel']>>;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emostream-savedmodel-'));
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), written.bytes);
    fs.mkdirSync(path.join(dir, 'variables'));
    model = await tf.node.loadSavedModel(dir, ['serve'], 'serving_default');
  } catch (e) {
    // A temporary folder that cannot be written, or a TensorFlow that cannot run the graph: op by op, as before.
    // Op by op, its matrix products may run on oneDNN's JIT GEMM, which a signal corrupts above AVX (./tf.ts).
    const avx2 = process.env.ONEDNN_MAX_CPU_ISA === 'AVX2' ? '; oneDNN runs at AVX2 in this process, where a signal during such a model\'s matrix products can corrupt the heap: set ONEDNN_MAX_CPU_ISA=AVX' : '';
    process.emitWarning(`running a model op by op: its graph could not be written or loaded as a SavedModel in ${dir ?? os.tmpdir()} (${(e as Error).message.split('\n')[0]}); point TMPDIR at a writable folder${avx2}`);
    return undefined;
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  // By name (the order of `outputs`), not by the order of the signature's map.
  const keys = written.outputs.map((_, i) => outputKey(i));
  return {
    outputs: written.outputs,
    execute(x) {
      const out = model.predict({ input: x }) as unknown as Record<string, Tensor>;
      return keys.map((k) => out[k]);
    },
    dispose() {
      model.dispose();
    },
  };
}

/**
 * The emotion models the classifier can run, behind one interface: the project's CNN from a
 * model directory (the default), or Human's shipped emotion model for comparison (`human`).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import { cardFlipTta, compileInference, inferenceGraph, cropsToInput, loadModelDir, defaultModelDir, NotCompilable, INPUT_SIZE, OWN_HEAD, type InferenceNet, type LoadedModel } from '@emostream/model';
import type { LayersModel } from '@tensorflow/tfjs-node';
import { sessionModel, type SessionModel, type Tf } from '@emostream/runtime';

/** Anything that maps preprocessed 48x48 crops to the seven probabilities. */
export interface EmotionModel {
  /** Reported in every emotions message and event. */
  version: string;
  /** Model directory it came from (undefined for built-ins). */
  dir?: string;
  /** Whether predict() averages each face with its mirror image (mirror test-time augmentation). */
  readonly mirrors?: boolean;
  /**
   * n crops → n*7 probabilities in EMOTIONS order. `single`: one pass per crop exactly as given,
   * no mirror image even where the model mirrors (the reuse plan's paired views, reuse.ts).
   */
  predict(crops: Uint8Array[], single?: boolean): Promise<Float32Array>;
  dispose(): void;
}

/** Options of {@link loadEmotionModel}. */
export interface ModelOptions {
  /** A model directory, `human`, or undefined for the shipped default. */
  model?: string;
  /** Mirror test-time augmentation (default: what the model's card says it was scored with). */
  flipTta?: boolean;
  /** The softmax head of a model directory (default: its own, `fer2013`; see @emostream/model's heads). */
  head?: string;
}

/** The project's CNN from a directory written by `emostream train`. */
export class CnnEmotionModel implements EmotionModel {
  readonly version: string;
  readonly dir: string;
  /** The compiled forward pass (batch normalization folded, fused ops), or the Layers model's own where it cannot be compiled. */
  private forward: Forward;
  private net?: InferenceNet;
  private session?: SessionModel;
  /** One pass per crop, no mirror image: predict(crops, true). */
  private plain: Forward;
  private plainSession?: SessionModel;
  /** Mirror test-time augmentation done around the forward pass (false when off, or when the session's graph does it itself). */
  private mirrorAround: boolean;
  readonly mirrors: boolean;
  constructor(private readonly tf: Tf, private readonly loaded: LoadedModel, flipTta: boolean) {
    this.mirrorAround = flipTta;
    this.mirrors = flipTta;
    this.version = loaded.version;
    this.dir = loaded.dir;
    try {
      this.net = compileInference(tf, loaded.model);
    } catch (e) {
      if (!(e instanceof NotCompilable)) throw e;
    }
    this.forward = this.net ? this.net.forward : (x) => loaded.model.predict(x) as Tensor;
    this.plain = this.forward;
  }
  /**
   * The compiled pass as one TensorFlow session call where the backend allows it (tfjs-node:
   * @emostream/runtime's sessionModel), instead of one eager call per op; with mirror TTA, the
   * mirror images and the average inside that call (inferenceGraph's `mirror`).
   */
  static async load(tf: Tf, loaded: LoadedModel, flipTta: boolean): Promise<CnnEmotionModel> {
    const m = new CnnEmotionModel(tf, loaded, flipTta);
    if (m.net) {
      const session = await sessionModel(tf, inferenceGraph(m.net.ops, [INPUT_SIZE, INPUT_SIZE, 1], { mirror: flipTta }));
      // With mirror TTA in the graph, a second graph without it answers one pass per crop.
      const plain = session && flipTta ? await sessionModel(tf, inferenceGraph(m.net.ops, [INPUT_SIZE, INPUT_SIZE, 1])) : undefined;
      if (session && (plain || !flipTta)) {
        // The sessions hold the weights now: the compiled pass's folded tensors are not needed.
        m.session = session;
        m.plainSession = plain;
        m.mirrorAround = false;
        m.forward = (x) => session.execute(x)[0] as Tensor;
        m.plain = plain ? (x) => plain.execute(x)[0] as Tensor : m.forward;
        m.net.dispose();
        m.net = undefined;
      } else {
        session?.dispose();
      }
    }
    return m;
  }
  predict(crops: Uint8Array[], single = false): Promise<Float32Array> {
    if (single) return predictMirrored(this.tf, this.plain, crops, false);
    return predictMirrored(this.tf, this.forward, crops, this.mirrorAround);
  }
  dispose(): void {
    this.session?.dispose();
    this.plainSession?.dispose();
    this.net?.dispose();
    this.loaded.model.dispose();
  }
}

type Tensor = import('@tensorflow/tfjs-node').Tensor;
type Tensor4D = import('@tensorflow/tfjs-node').Tensor4D;
/** A forward pass: a batch of 48x48x1 inputs in [0, 1] to the seven probabilities each. */
export type Forward = (x: Tensor4D) => Tensor;

/**
 * Mirror test-time augmentation in one model call: the n crops and their mirror images go in as
 * one batch of 2n, and each face's two answers are averaged. The same figures as
 * `predictBatch(..., { flipTta: true })` (two calls of n), at one call's fixed cost: on a live
 * stream a batch is often a single face, where that cost is most of the time. `mirror` false:
 * the crops alone. `model`: a Layers model or a compiled forward pass ({@link compileInference}).
 */
export async function predictMirrored(tf: Tf, model: LayersModel | Forward, crops: Uint8Array[], mirror = true): Promise<Float32Array> {
  const n = crops.length;
  if (n === 0) return new Float32Array(0);
  const forward: Forward = typeof model === 'function' ? model : (x) => model.predict(x) as Tensor;
  const buf = cropsToInput(crops);
  const out = tf.tidy(() => {
    const x = tf.tensor4d(buf, [n, INPUT_SIZE, INPUT_SIZE, 1]);
    if (!mirror) return forward(x);
    const y = forward(tf.concat([x, tf.reverse(x, 2)], 0) as Tensor4D);
    const [a, b] = tf.split(y, 2, 0);
    return tf.div(tf.add(a, b), 2);
  });
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

// Human's emotion model (oarriaga/face_classification mini-Xception) outputs in this order.
const HUMAN_ORDER = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/**
 * Human's shipped emotion model (64x64 gray, scaled to [-1, 1]), fed our crops and reordered
 * to EMOTIONS: the baseline the issue compares against, through the same evaluation code.
 */
export class HumanEmotionModel implements EmotionModel {
  readonly version = 'human-3.3.6-emotion';
  private constructor(private readonly tf: Tf, private readonly graph: import('@tensorflow/tfjs-node').GraphModel) {}
  static async load(tf: Tf): Promise<HumanEmotionModel> {
    const require = createRequire(import.meta.url);
    // The package's exports map hides package.json: find models/ beside its dist/ entry point.
    const dir = path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models');
    const graph = await tf.loadGraphModel(`file://${path.join(dir, 'emotion.json')}`);
    return new HumanEmotionModel(tf, graph);
  }
  async predict(crops: Uint8Array[]): Promise<Float32Array> {
    const n = crops.length;
    if (n === 0) return new Float32Array(0);
    const buf = cropsToInput(crops);
    const tf = this.tf;
    const out = tf.tidy(() => {
      const x = tf.image.resizeBilinear(tf.tensor4d(buf, [n, INPUT_SIZE, INPUT_SIZE, 1]), [64, 64]);
      return this.graph.execute(tf.mul(tf.sub(x, 0.5), 2)) as import('@tensorflow/tfjs-node').Tensor;
    });
    const raw = await out.data();
    out.dispose();
    const res = new Float32Array(n * EMOTIONS.length);
    const map = EMOTIONS.map((e) => HUMAN_ORDER.indexOf(e));
    for (let k = 0; k < n; k++) for (let c = 0; c < EMOTIONS.length; c++) res[k * EMOTIONS.length + c] = raw[k * EMOTIONS.length + map[c]];
    return res;
  }
  dispose(): void { this.graph.dispose(); }
}

/** Loads the model named by the options (default: the models/ directory that models/DEFAULT names, else models/best). */
export async function loadEmotionModel(tf: Tf, opts: ModelOptions = {}): Promise<EmotionModel> {
  if (opts.model === 'human') {
    if (opts.head && opts.head !== OWN_HEAD) throw new Error(`Human's emotion model has one head; --set classifier.head=${opts.head} applies to a model directory`);
    return HumanEmotionModel.load(tf);
  }
  const dir = opts.model ?? defaultModelDir();
  const loaded = await loadModelDir(tf, dir, { head: opts.head });
  const tta = opts.flipTta ?? cardFlipTta(loaded.card);
  return CnnEmotionModel.load(tf, loaded, tta);
}

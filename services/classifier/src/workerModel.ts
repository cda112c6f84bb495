/**
 * The project's CNN in a worker thread (`classifier.worker`): the same model directory, loaded by
 * the same code in the worker's own TensorFlow.js, so face detection on the main thread overlaps
 * the classification of the frames before. predict() sends the crops packed in one buffer
 * (transferred, not copied) and gets the probabilities back; the outputs are the in-thread
 * model's. A worker that crashes or exits fails the calls it had (the classifier retries them)
 * and a fresh one is started for the next call.
 */
import { Worker } from 'node:worker_threads';
import { INPUT_PIXELS, defaultModelDir } from '@emostream/model';
import { capOneDnnIsa, type TfRuntime } from '@emostream/runtime';
import type { EmotionModel } from './emotionModel.js';

/** What the worker is started with (its workerData). */
export interface WorkerStart {
  dir: string;
  flipTta?: boolean;
  head?: string;
  /** The TensorFlow.js backend to load (a BackendChoice: the main thread's). */
  backend: string;
}
/** A request: `n` crops of 48x48 bytes, one after the other in `crops`; `single`: one pass each, no mirror image. */
export interface ToWorker { id: number; n: number; crops: Uint8Array; single: boolean }
/** The worker's messages. */
export type FromWorker =
  | { type: 'ready'; version: string; dir: string; provider: string; mirrors: boolean }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; probs: Float32Array }
  | { type: 'error'; id: number; message: string };

/** The backend choice that loads in a worker what `rt` is on the main thread. */
export function backendChoiceOf(rt: Pick<TfRuntime, 'provider'>): string {
  const byProvider: Record<string, string> = { 'tfjs-node-gpu': 'tensorflow-gpu', 'tfjs-node': 'tensorflow', 'tfjs-backend-wasm': 'wasm', 'tfjs-cpu': 'cpu' };
  return byProvider[rt.provider] ?? 'auto';
}

// The CLI runs TypeScript through tsx registered in its own thread, which a worker does not
// inherit: the worker registers it, then imports its body.
const ENTRY = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(new URL('./emotionWorker.ts', import.meta.url).href)}); })`;

type Call = { resolve: (p: Float32Array) => void; reject: (e: Error) => void };

/** One worker thread and the calls it has in flight. */
class Thread {
  readonly ready: Promise<{ version: string; dir: string; mirrors: boolean }>;
  dead = false;
  private readonly worker: Worker;
  private readonly calls = new Map<number, Call>();
  private next = 0;
  constructor(start: WorkerStart) {
    // A worker's process.env is its own copy: the cap must be in the process's environment first.
    capOneDnnIsa();
    this.worker = new Worker(ENTRY, { eval: true, workerData: start });
    let loaded: (v: { version: string; dir: string; mirrors: boolean }) => void, notLoaded: (e: Error) => void;
    this.ready = new Promise((res, rej) => { loaded = res; notLoaded = rej; });
    this.ready.catch(() => {});
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') { this.worker.unref(); loaded({ version: m.version, dir: m.dir, mirrors: m.mirrors }); return; }
      if (m.type === 'failed') { notLoaded(new Error(`emotion model worker could not load ${start.dir}: ${m.message}`)); return; }
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (this.calls.size === 0) this.worker.unref();
      if (m.type === 'result') call.resolve(m.probs);
      else call.reject(new Error(`emotion model worker: ${m.message}`));
    });
    this.fail = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      const e = new Error(`emotion model worker ${why}`);
      notLoaded(e);
      for (const c of this.calls.values()) c.reject(e);
      this.calls.clear();
    };
    this.worker.on('error', (e) => this.fail(`crashed: ${e.message}`));
    this.worker.on('exit', (code) => this.fail(`exited (code ${code})`));
  }
  private readonly fail: (why: string) => void;
  /** The probabilities of `n` packed crops; the buffer is moved to the worker. */
  call(crops: Uint8Array, n: number, single: boolean): Promise<Float32Array> {
    if (this.dead) return Promise.reject(new Error('emotion model worker has ended'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, n, crops, single } satisfies ToWorker, [crops.buffer as ArrayBuffer]);
    });
  }
  get busy(): boolean { return this.calls.size > 0; }
  /** Ends the worker; calls still in flight fail with `why`. */
  async end(why = 'was ended'): Promise<void> {
    this.fail(why);
    await this.worker.terminate();
  }
}

/** Options of {@link WorkerEmotionModel.load}. */
export interface WorkerModelOptions {
  /** A model directory; default: the shipped one (models/DEFAULT). */
  model?: string;
  /** Mirror test-time augmentation (default: what the model's card says). */
  flipTta?: boolean;
  /** The softmax head (default: the model's own). */
  head?: string;
  /** The backend choice of the worker's TensorFlow.js ({@link backendChoiceOf} the main thread's); default `auto`. */
  backend?: string;
}

/** An {@link EmotionModel} whose CNN runs in a worker thread. */
export class WorkerEmotionModel implements EmotionModel {
  private thread?: Thread;
  private starting?: Promise<Thread>;
  private disposed = false;
  private constructor(readonly version: string, readonly dir: string, readonly mirrors: boolean, private readonly start: WorkerStart, thread: Thread) {
    this.thread = thread;
  }

  /** Starts a worker on the model directory; resolves once it has loaded it (rejects when it cannot). */
  static async load(o: WorkerModelOptions = {}): Promise<WorkerEmotionModel> {
    const start: WorkerStart = { dir: o.model ?? defaultModelDir(), flipTta: o.flipTta, head: o.head, backend: o.backend ?? 'auto' };
    const thread = new Thread(start);
    try {
      const { version, dir, mirrors } = await thread.ready;
      return new WorkerEmotionModel(version, dir, mirrors, { ...start, dir }, thread);
    } catch (e) {
      await thread.end();
      throw e;
    }
  }

  /** The worker, a fresh one when the last has ended; it must load the version this model stands for. */
  private worker(): Promise<Thread> {
    if (this.thread && !this.thread.dead) return Promise.resolve(this.thread);
    this.thread = undefined;
    this.starting ??= (async () => {
      const t = new Thread(this.start);
      try {
        const { version } = await t.ready;
        if (version !== this.version) throw new Error(`emotion model worker restarted on ${this.dir}, which now holds version ${version}, not ${this.version}`);
        this.thread = t;
        return t;
      } catch (e) {
        await t.end();
        throw e;
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  async predict(crops: Uint8Array[], single = false): Promise<Float32Array> {
    if (this.disposed) throw new Error(`emotion model ${this.version} (worker) was disposed`);
    const n = crops.length;
    if (n === 0) return new Float32Array(0);
    // One copy into a buffer of our own, moved to the worker: the callers keep their crops (reuse, thumbnails).
    const packed = new Uint8Array(n * INPUT_PIXELS);
    crops.forEach((c, k) => {
      if (c.length !== INPUT_PIXELS) throw new Error(`crop ${k} has ${c.length} bytes, expected ${INPUT_PIXELS}`);
      packed.set(c, k * INPUT_PIXELS);
    });
    const t = await this.worker();
    try {
      return await t.call(packed, n, single);
    } finally {
      if (this.disposed && !t.busy) void t.end();
    }
  }

  /** Ends the current worker at once, as a crash would: its calls in flight fail, the next call starts a fresh one. */
  async killWorker(): Promise<void> {
    await this.thread?.end('was killed');
  }

  /** Whether a worker is running now. */
  get running(): boolean { return this.thread !== undefined && !this.thread.dead; }

  /** Ends the worker; calls in flight (a batch that began before a hot reload swapped models) finish first. */
  dispose(): void {
    this.disposed = true;
    if (this.thread && !this.thread.busy) void this.thread.end();
  }
}

/**
 * The one module that picks and loads the TensorFlow.js backend: tfjs-node-gpu on GPU pods,
 * tfjs-node on CPU, then wasm, then pure JS. Everything else receives the `tf` it returns.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import { widenHeapGrowth } from './heap.js';

const require = createRequire(import.meta.url);

/** The TensorFlow.js namespace (tfjs-node's typing, which includes `tf.node`). */
export type Tf = typeof import('@tensorflow/tfjs-node');

/** Backends in order of preference for `auto`. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
/** A backend name, or `auto` for the best one present. */
export type BackendChoice = (typeof BACKENDS)[number] | 'auto';

/** The loaded TensorFlow.js and the backend that runs it. */
export interface TfRuntime {
  tf: Tf;
  /** The backend actually in use (`tensorflow` for tfjs-node, also on GPU). */
  backend: string;
  /** Which package provides it: `tfjs-node-gpu`, `tfjs-node`, `tfjs-backend-wasm` or `tfjs-cpu`. */
  provider: string;
}

let loaded: Promise<TfRuntime> | undefined;
let loadedChoice: BackendChoice | undefined;

/**
 * Loads TensorFlow.js once per process with the chosen backend (`auto`: GPU when
 * `EMOSTREAM_GPU=1` or CUDA is visible, else tfjs-node, else wasm, else cpu).
 * Later calls return the same runtime; asking for a different backend later is an error.
 * Before anything loads it also gives V8's heap its headroom (./heap.ts) and caps oneDNN (below):
 * at AVX2 when `o.sessions` says that every network of the process runs as a TensorFlow session
 * (./savedModel.ts), else at AVX. The first call decides.
 */
export function loadTf(choice: BackendChoice = 'auto', o: LoadOptions = {}): Promise<TfRuntime> {
  if (loaded) {
    if (choice !== 'auto' && loadedChoice !== 'auto' && choice !== loadedChoice) {
      return Promise.reject(new Error(`TensorFlow.js is already loaded with backend ${loadedChoice}; cannot switch to ${choice} in the same process`));
    }
    return loaded;
  }
  try {
    widenHeapGrowth();
  } catch (e) {
    return Promise.reject(e);
  }
  loadedChoice = choice;
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
  capOneDnnIsa(process.env, process.arch, o.sessions && process.env.EMOSTREAM_SAVED_MODELS !== '0' ? 'sessions' : 'eager');
  loaded = doLoad(choice);
  return loaded;
}

/** How the process runs its networks, for {@link loadTf}'s oneDNN cap. */
export interface LoadOptions {
  /**
   * Every network runs as one TensorFlow session call (./savedModel.ts: BlazeFace, the emotion
   * CNN, faceres in `analyze` and `serve`), none op by op: oneDNN may then use AVX2. Not with
   * `EMOSTREAM_SAVED_MODELS=0`, which runs them op by op.
   */
  sessions?: boolean;
}

/**
 * oneDNN's JIT f32 GEMM kernels for AVX2 and AVX-512 (`gemm:jit` in `ONEDNN_VERBOSE=1`'s output),
 * in TensorFlow 2.21's library, point the stack pointer into a heap buffer while they run
 * (oneDNN issue #4845, fixed upstream after the oneDNN 3.7 that TensorFlow 2.21 ships). A signal
 * that arrives meanwhile (SIGCHLD when ffmpeg exits, SIGTERM, a profiler's SIGPROF) has its frame
 * written into the heap, and the process later aborts with "corrupted size vs. prev_size". Their
 * AVX kernel keeps the stack pointer on the stack. TensorFlow chose them for the eager calls of a
 * network run op by op (faceres's 1x1 convolutions and matrix products, on the main thread); as
 * session calls, the same networks run on oneDNN's BRGEMM and direct-convolution kernels, which
 * keep it on the stack, and `test/runtime.signals.test.ts` checks that `analyze` runs no `gemm:jit`.
 * So the cap, set before TensorFlow loads (oneDNN reads the variable once):
 * - `eager` (training, evaluation, Human's models, `EMOSTREAM_SAVED_MODELS=0`): AVX;
 * - `sessions` (every network a session call): AVX2. On 2 cores `analyze` took 0.88 of AVX's wall
 *   time with one face at `--fps 10` and 0.74 with six faces every frame, the same timelines; the
 *   emotion CNN alone ran 2-3x faster (bench/RESULTS.md, Session 29);
 * a value the user set is kept (`ALL` lifts the cap, `AVX` keeps the old one everywhere).
 */
export function capOneDnnIsa(env: NodeJS.ProcessEnv = process.env, arch: string = process.arch, mode: 'eager' | 'sessions' = 'eager'): void {
  if (arch !== 'x64') return;
  env.ONEDNN_MAX_CPU_ISA ??= mode === 'sessions' ? 'AVX2' : 'AVX';
}

function gpuWanted(): boolean {
  if (process.env.EMOSTREAM_GPU === '0') return false;
  if (process.env.EMOSTREAM_GPU === '1') return true;
  return fs.existsSync('/dev/nvidia0') || fs.existsSync('/proc/driver/nvidia/version');
}

async function doLoad(choice: BackendChoice): Promise<TfRuntime> {
  const order = choice === 'auto'
    ? (gpuWanted() ? BACKENDS : BACKENDS.filter((b) => b !== 'tensorflow-gpu'))
    : [choice];
  const failures: string[] = [];
  for (const b of order) {
    try {
      return await tryBackend(b);
    } catch (err) {
      failures.push(`${b}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded (${failures.join('; ')}). Run \`bash scripts/install.sh\` to build tfjs-node.`);
}

async function tryBackend(b: (typeof BACKENDS)[number]): Promise<TfRuntime> {
  if (b === 'tensorflow-gpu') {
    const tf = require('@tensorflow/tfjs-node-gpu') as Tf;
    await tf.setBackend('tensorflow');
    await tf.ready();
    return { tf, backend: 'tensorflow', provider: 'tfjs-node-gpu' };
  }
  if (b === 'tensorflow') {
    const tf = require('@tensorflow/tfjs-node') as Tf;
    await tf.setBackend('tensorflow');
    await tf.ready();
    return { tf, backend: 'tensorflow', provider: 'tfjs-node' };
  }
  const tf = require('@tensorflow/tfjs') as Tf;
  if (b === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(path.join(dir, 'dist') + path.sep);
    if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
    await tf.ready();
    return { tf, backend: 'wasm', provider: 'tfjs-backend-wasm' };
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
  await tf.ready();
  return { tf, backend: 'cpu', provider: 'tfjs-cpu' };
}

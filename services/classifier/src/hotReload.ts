/**
 * Hot reload: checks one model directory (its card.json version and model.json mtime, every
 * `pollMs` or on `check()`) and swaps in a new model version between batches; the old one is
 * disposed after the swap, so no frame is dropped and no batch sees a half-loaded model. Only
 * that directory is watched: the shipped default is resolved through models/DEFAULT once, at
 * load, so pointing DEFAULT at another directory takes effect on the next start, not here.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Tf, Logger, PipelineMetrics } from '@emostream/runtime';
import { loadEmotionModel, type EmotionModel } from './emotionModel.js';

/** A model holder whose content can change while the pipeline runs. */
export interface ModelHandle {
  current(): EmotionModel;
  /** Checks the directory now; resolves true when a new version was loaded. */
  check(): Promise<boolean>;
  close(): void;
}

function versionOf(dir: string): string | undefined {
  try {
    const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as { version?: string };
    const stat = fs.statSync(path.join(dir, 'model.json'));
    return `${card.version}@${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Options of {@link watchModel}. */
export interface WatchOptions {
  tf: Tf;
  dir: string;
  initial: EmotionModel;
  logger: Logger;
  metrics?: PipelineMetrics;
  backend?: { backend: string; provider: string };
  /** Poll interval in ms (0: only explicit `check()`). */
  pollMs?: number;
  /** The softmax head each new version is loaded with (default: the model's own). */
  head?: string;
  /** Loads a version of the directory (default: on this thread, `loadEmotionModel` with `head`); a worker thread's: ./workerModel.ts. */
  load?: (dir: string) => Promise<EmotionModel>;
}

/** Starts watching `dir`; a broken new version is logged and the current model kept. */
export function watchModel(o: WatchOptions): ModelHandle {
  let model = o.initial;
  let seen = versionOf(o.dir);
  let busy = false;
  const setInfo = () => {
    if (!o.metrics || !o.backend) return;
    o.metrics.modelInfo.reset();
    o.metrics.modelInfo.set({ version: model.version, backend: o.backend.backend, provider: o.backend.provider }, 1);
  };
  setInfo();
  const check = async (): Promise<boolean> => {
    if (busy) return false;
    const v = versionOf(o.dir);
    if (!v || v === seen) return false;
    busy = true;
    try {
      const next = await (o.load ? o.load(o.dir) : loadEmotionModel(o.tf, { model: o.dir, head: o.head }));
      // A version that loads must also predict: one blank face, seven probabilities summing to 1;
      // with mirror TTA its one-pass graph too (the paired views run it), warmed up as it is checked.
      for (const single of next.mirrors ? [false, true] : [false]) {
        const probe = await next.predict([new Uint8Array(48 * 48).fill(128)], single).catch((e: Error) => { next.dispose(); throw e; });
        const sum = Array.from(probe).reduce((a, b) => a + b, 0);
        if (probe.length !== 7 || !Array.from(probe).every(Number.isFinite) || Math.abs(sum - 1) > 1e-3) {
          next.dispose();
          throw new Error(`its prediction of a blank face is not 7 probabilities summing to 1 (${Array.from(probe).map((x) => x.toFixed(3)).join(', ')})`);
        }
      }
      const old = model;
      model = next;
      seen = v;
      // The swap happens between batches (the stage reads `current()` once per batch); a batch
      // already running holds its own reference, so dispose the old model on the next tick.
      setImmediate(() => old.dispose());
      o.logger.info('loaded new model version', { from: old.version, to: next.version });
      setInfo();
      return true;
    } catch (err) {
      seen = v;
      o.logger.error('new model version could not be loaded; keeping the current one', { dir: o.dir, error: (err as Error).message });
      return false;
    } finally {
      busy = false;
    }
  };
  const timer = o.pollMs ? setInterval(() => { void check(); }, o.pollMs) : undefined;
  timer?.unref();
  return { current: () => model, check, close: () => { if (timer) clearInterval(timer); } };
}

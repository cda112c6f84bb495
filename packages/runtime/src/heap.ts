/**
 * V8's old-generation headroom for a process that streams video. An emostream process holds
 * some 60 MB of live heap (models' graphs, state) and allocates frames and their boxes at a high
 * rate. V8 left it a limit only about 1.4 times its live heap, too little room for what the young
 * generation promotes between two collections, so it started a full (mark-compact) collection
 * every 100-150 ms, each freeing 1-5 MB: on 2 cores about 1 s of a 15 s `analyze` went to
 * collector pauses and marking steps on the main thread, and frames waited behind them. A fixed
 * growing factor of 2 (V8's `--heap-growing-percent=100`) leaves one full collection every
 * second or two (bench/RESULTS.md, Session 27).
 */
import v8 from 'node:v8';

/** The growing factor's percent above 1 that every emostream process runs with, unless told otherwise. */
export const HEAP_GROWING_PERCENT = 100;

let applied = false;

/**
 * The V8 flag that sets the heap growing factor to 1 + percent/100, or undefined where V8 is left
 * to decide: `EMOSTREAM_HEAP_GROWING_PERCENT` chooses the percent (`0`: V8's own factor, decided
 * from its collector's speed), and a `--heap-growing-percent` given to node itself is kept.
 */
export function heapGrowingFlag(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string | undefined {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return undefined;
  const raw = env.EMOSTREAM_HEAP_GROWING_PERCENT?.trim();
  const percent = raw === undefined || raw === '' ? HEAP_GROWING_PERCENT : Number(raw);
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) {
    throw new Error(`EMOSTREAM_HEAP_GROWING_PERCENT=${raw}: expected a whole number from 0 (V8 decides) to 1000; unset it for the default ${HEAP_GROWING_PERCENT}`);
  }
  return percent === 0 ? undefined : `--heap-growing-percent=${percent}`;
}

/** Applies {@link heapGrowingFlag} once per process (V8's flags are process-wide: worker threads share it). */
export function widenHeapGrowth(): void {
  if (applied) return;
  const flag = heapGrowingFlag();
  applied = true;
  if (flag) v8.setFlagsFromString(flag);
}

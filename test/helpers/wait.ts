/**
 * The one polling helper of the tests and the benchmarks (bench/ imports it from here):
 *
 *   const n = await waitFor('10 frames', () => frames.length >= 10 && frames.length, { timeoutMs: 20_000 });
 *
 * Calls `check` (sync or async) every `everyMs` until it returns a truthy value, and returns that
 * value. An exception thrown by `check` counts as "not yet" (a server still starting, a scrape
 * that failed once) and is kept; throw {@link StopWaiting} to end the wait at once instead (a
 * process that died will never become ready). After `timeoutMs` the wait fails with an error
 * naming `what`, the last value `check` returned and the last exception it threw.
 */

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** How long to wait in all, ms (default 60 s). */
  timeoutMs?: number;
  /** Pause between two checks, ms (default 100). */
  everyMs?: number;
  /** What the timeout error adds after its first line, e.g. the last log lines of the services involved. */
  explain?: () => string;
}

type Falsy = false | 0 | '' | null | undefined;

/** Thrown by a check: the wait ends at once with this error (no more retries). */
export class StopWaiting extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StopWaiting';
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

let defaultExplain: (() => string) | undefined;

/** What every timed-out wait adds when it gives no `explain` of its own (the fault suite: its services' trails); undefined: nothing. */
export function explainWaits(explain: (() => string) | undefined): void {
  defaultExplain = explain;
}

/** Polls `check` until it returns a truthy value (returned), or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, Falsy>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const everyMs = options.everyMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let checks = 0;
  let lastValue: unknown;
  let lastError: unknown;
  for (;;) {
    checks++;
    try {
      const v = await check();
      if (v) return v as Exclude<T, Falsy>;
      lastValue = v;
    } catch (e) {
      if (e instanceof StopWaiting) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const err = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : show(lastError)}`;
      let more = '';
      const explain = options.explain ?? defaultExplain;
      try { const text = explain?.(); more = text ? `\n${text}` : ''; } catch (e) { more = `\n(explain failed: ${(e as Error).message})`; }
      throw new Error(`timed out after ${timeoutMs} ms (${checks} checks) waiting for ${what}; last value: ${show(lastValue)}${err}${more}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(0, deadline - Date.now()))));
  }
}

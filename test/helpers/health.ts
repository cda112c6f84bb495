/**
 * Watches the /healthz and /readyz of service processes while a fault lasts: one sample per
 * running service every `everyMs`, so a test can say whether a service stayed alive (healthz 200), when
 * it turned not ready and why (readyz 503 and its reasons), and when it was ready again.
 */
import type { ServiceProcess } from './faults.js';

/** One look at a service. `healthz`/`readyz`: the HTTP status, 0 when the request failed. */
export interface HealthSample {
  at: number;
  healthz: number;
  /** How long /healthz took to answer, or to fail (ms; {@link WAIT_MS} when it timed out). */
  healthzMs: number;
  /** Why /healthz failed (the connection's error), when it did. */
  healthzError?: string;
  readyz: number;
  reasons: string[];
}

/**
 * A probe fails as Kubernetes' would: not 200, or answered after the liveness probe's
 * `timeoutSeconds` (3 s in deploy/k8s). The answer is waited for longer, so its time is known.
 */
export const PROBE_TIMEOUT_MS = 3_000;
const WAIT_MS = 10_000;

/** What was seen of one service. */
export interface HealthRecord {
  samples: HealthSample[];
  /** Samples whose /healthz was not 200 within {@link PROBE_TIMEOUT_MS}. */
  unhealthy(): HealthSample[];
  /** The first not-ready sample at or after `t`, if any. */
  firstNotReady(t?: number): HealthSample | undefined;
  /** The first ready sample at or after `t`, if any. */
  firstReady(t?: number): HealthSample | undefined;
}

/** A running watch. */
export interface HealthWatch {
  of(name: string): HealthRecord;
  /** Stops sampling; resolves after the sample in progress. */
  stop(): Promise<void>;
}

async function look(s: ServiceProcess): Promise<HealthSample> {
  const at = Date.now();
  const get = async (p: string) => {
    try {
      const r = await fetch(`http://127.0.0.1:${s.metricsPort}${p}`, { signal: AbortSignal.timeout(WAIT_MS) });
      return { status: r.status, text: await r.text(), ms: Date.now() - at };
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      return { status: 0, text: '', ms: Date.now() - at, error: cause ?? (e as Error).name };
    }
  };
  const [h, r] = await Promise.all([get('/healthz'), get('/readyz')]);
  let reasons: string[] = [];
  try { reasons = (JSON.parse(r.text) as { reasons?: string[] }).reasons ?? []; } catch { /* not JSON: none */ }
  return { at, healthz: h.status, healthzMs: h.ms, ...('error' in h ? { healthzError: h.error } : {}), readyz: r.status, reasons };
}

/** /healthz answered 200 within {@link PROBE_TIMEOUT_MS}. */
const healthy = (x: HealthSample) => x.healthz === 200 && x.healthzMs <= PROBE_TIMEOUT_MS;

/** How long a failed look waits for the process's exit before it counts as unhealthy. */
const EXIT_GRACE_MS = 3_000;

/** Samples every service in `services` (by name) until stopped. */
export function watchHealth(services: Record<string, ServiceProcess>, everyMs = 1_000): HealthWatch {
  const records = new Map<string, HealthSample[]>(Object.keys(services).map((n) => [n, []]));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = Date.now();
      // A process that has ended (ingest --once when its files are done) is no longer sampled, nor
      // is a failed look at one that was ending (it stops answering as it exits): its listener
      // closes just before the process is gone, so a failed look waits a little for the exit.
      await Promise.all(Object.entries(services).filter(([, s]) => s.alive()).map(async ([n, s]) => {
        const sample = await look(s);
        if (!healthy(sample) && s.alive()) await Promise.race([s.exited, new Promise((r) => setTimeout(r, EXIT_GRACE_MS))]);
        if (s.alive() || healthy(sample)) records.get(n)!.push(sample);
      }));
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - t))));
    }
  })();
  return {
    of: (name) => {
      const samples = records.get(name) ?? [];
      return {
        samples,
        unhealthy: () => samples.filter((x) => !healthy(x)),
        firstNotReady: (t = 0) => samples.find((x) => x.at >= t && x.readyz !== 200),
        firstReady: (t = 0) => samples.find((x) => x.at >= t && x.readyz === 200),
      };
    },
    stop: async () => { stopped = true; await loop; },
  };
}

/**
 * The soak's samples: what one sample holds (per service RSS and heap, per consumer group lag,
 * the aggregator's state record, the counters so far), reading the counters from the services'
 * /metrics, the JSON-lines log of samples read back, and the figures and table rows made from a
 * run's samples (trends after a warm-up, bench/lib/trend.ts). Pure code.
 */
import { trendOf, type Trend } from '../lib/trend.js';
import { sig } from '../lib/stats.js';
import type { Row } from '../lib/context.js';
import { sumOf, type Sample } from '../../test/helpers/faults.js';

export const SERVICES = ['ingest', 'detector', 'classifier', 'aggregator'] as const;
export type ServiceName = (typeof SERVICES)[number];
export const GROUPS = ['detector', 'classifier', 'aggregator'] as const;
export type GroupName = (typeof GROUPS)[number];

/** Wall time, sampling interval and warm-up of each mode. */
export function soakPlan(o: { quick: boolean; long: boolean }): { durationS: number; everyS: number; warmupS: number; sceneMs: number } {
  if (o.long) return { durationS: 3600, everyS: 30, warmupS: 600, sceneMs: 90_000 };
  if (o.quick) return { durationS: 90, everyS: 10, warmupS: 60, sceneMs: 60_000 };
  return { durationS: 270, everyS: 30, warmupS: 60, sceneMs: 90_000 };
}

/** One Prometheus sample, as test/helpers/faults.ts's parseMetrics gives them. */
export type MetricSample = Sample;

/** One service at one moment. */
export interface ServiceSample {
  alive: boolean;
  /** RSS of the process and its children (ingest's ffmpeg), /proc, bytes. */
  rssBytes: number;
  /** The Node process's own RSS and V8 heap in use, from its /metrics (null when the scrape failed). */
  nodeRssBytes: number | null;
  heapUsedBytes: number | null;
}

/** The counters of the pipeline so far (from the services' /metrics; null when a scrape failed). */
export interface Counters {
  framesDecoded: number | null;
  framesDroppedAtIngest: number | null;
  framesShedAtDetector: number | null;
  facesDetected: number | null;
  framesAtAggregator: number | null;
  events: number | null;
  appeared: number | null;
  personsActive: number | null;
}

/** One line of the soak's log. */
export interface SoakSample {
  tS: number;
  at: string;
  services: Record<ServiceName, ServiceSample>;
  /** Per consumer group: messages between its committed offset and the end of its input topic (admin; null when the call failed). */
  lag: Record<GroupName, number | null>;
  /** The camera's latest record on the compacted aggregator-state topic, bytes (null: none yet). */
  stateBytes: number | null;
  /** Records written to the aggregator-state topic so far (as read by the soak's follower). */
  stateRecords: number;
  counters: Counters;
  /** Distinct person ids and returns (`returning: true`) on the events topic so far. */
  personsDistinct: number;
  returning: number;
  /** 1-minute load average of the machine. */
  load1: number;
}

const has = (ms: MetricSample[], name: string) => ms.some((s) => s.name === name);

/** The Node process's RSS and heap in use from one service's /metrics (prom-client's defaults, prefix emostream_). */
export function processMemory(ms: MetricSample[] | undefined): { nodeRssBytes: number | null; heapUsedBytes: number | null } {
  if (!ms) return { nodeRssBytes: null, heapUsedBytes: null };
  return {
    nodeRssBytes: has(ms, 'emostream_process_resident_memory_bytes') ? sumOf(ms, 'emostream_process_resident_memory_bytes') : null,
    heapUsedBytes: has(ms, 'emostream_nodejs_heap_size_used_bytes') ? sumOf(ms, 'emostream_nodejs_heap_size_used_bytes') : null,
  };
}

/** The pipeline's counters from the services' /metrics (undefined: that scrape failed). */
export function countersOf(m: Partial<Record<ServiceName, MetricSample[]>>): Counters {
  const c = (svc: ServiceName, name: string, match: Record<string, string> = {}) => (m[svc] ? sumOf(m[svc]!, `emostream_${name}`, match) : null);
  return {
    framesDecoded: c('ingest', 'frames_decoded_total'),
    framesDroppedAtIngest: c('ingest', 'frames_dropped_total'),
    framesShedAtDetector: c('detector', 'frames_dropped_total'),
    facesDetected: c('detector', 'faces_detected_total'),
    framesAtAggregator: c('aggregator', 'frames_processed_total'),
    events: c('aggregator', 'events_total'),
    appeared: c('aggregator', 'events_total', { type: 'person.appeared' }),
    personsActive: c('aggregator', 'persons_active'),
  };
}

/** Reads a soak log (one JSON sample per line); lines that are not a sample are counted, not fatal. */
export function parseSoakLog(text: string): { samples: SoakSample[]; badLines: number } {
  const samples: SoakSample[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const s = JSON.parse(line) as SoakSample;
      if (typeof s?.tS !== 'number' || typeof s.services !== 'object' || s.services === null || typeof s.lag !== 'object') throw new Error('not a sample');
      samples.push(s);
    } catch {
      badLines++;
    }
  }
  return { samples, badLines };
}

/**
 * Errors and warnings in a service's log lines (JSON; other lines count as errors only when they
 * say Error/FATAL/Unhandled), split at `sinceIso`: start-up (joining the group, a coordinator
 * still loading) and during the soak; the soak's most frequent error message, with its count.
 */
export function logIssues(lines: readonly string[], sinceIso: string): { startErrors: number; errors: number; warnings: number; mostFrequent?: string } {
  const out: { startErrors: number; errors: number; warnings: number; mostFrequent?: string } = { startErrors: 0, errors: 0, warnings: 0 };
  const byMessage = new Map<string, number>();
  let at = '';
  for (const l of lines) {
    let level: string | undefined;
    let msg = l;
    try {
      const j = JSON.parse(l) as { t?: string; level?: string; msg?: string; err?: string; error?: string };
      level = j.level;
      at = j.t ?? at;
      msg = [j.msg, j.err ?? j.error].filter(Boolean).join(': ');
    } catch {
      level = /\b(Error|ERROR|FATAL)\b|Unhandled|Uncaught/.test(l) ? 'error' : undefined;
    }
    const during = at >= sinceIso;
    if (level === 'error' || level === 'fatal') {
      if (!during) out.startErrors++;
      else { out.errors++; byMessage.set(msg.slice(0, 200), (byMessage.get(msg.slice(0, 200)) ?? 0) + 1); }
    } else if (level === 'warn' && during) out.warnings++;
  }
  const top = [...byMessage].sort((x, y) => y[1] - x[1])[0];
  if (top) out.mostFrequent = `${top[1]}x ${top[0]}`;
  return out;
}

/** The figures of a run: trends per service, per group, of the state; the counters at the end. */
export interface SoakFigures {
  warmupS: number;
  samples: number;
  spanS: number;
  rss: Record<ServiceName, Trend>;
  heap: Record<ServiceName, Trend>;
  lag: Record<GroupName, Trend>;
  stateBytes: Trend;
  stateRecords: number;
  counters: Counters | null;
  personsDistinct: number;
  returning: number;
  load1: Trend;
  /** Samples in which a service was found dead. */
  deadSamples: Record<ServiceName, number>;
}

/** Figures from samples, the trends fitted from `warmupS` on. */
export function soakFigures(samples: readonly SoakSample[], warmupS: number): SoakFigures {
  const series = (f: (s: SoakSample) => number | null | undefined) =>
    samples.flatMap((s) => { const v = f(s); return v === null || v === undefined ? [] : [{ tS: s.tS, v }]; });
  const per = <K extends string>(keys: readonly K[], f: (s: SoakSample, k: K) => number | null | undefined) =>
    Object.fromEntries(keys.map((k) => [k, trendOf(series((s) => f(s, k)), warmupS)])) as Record<K, Trend>;
  const last = samples[samples.length - 1];
  return {
    warmupS,
    samples: samples.length,
    spanS: samples.length ? last.tS - samples[0].tS : 0,
    rss: per(SERVICES, (s, k) => (s.services[k]?.alive ? s.services[k].rssBytes : null)),
    heap: per(SERVICES, (s, k) => s.services[k]?.heapUsedBytes),
    lag: per(GROUPS, (s, k) => s.lag[k]),
    stateBytes: trendOf(series((s) => s.stateBytes), warmupS),
    stateRecords: last?.stateRecords ?? 0,
    counters: last?.counters ?? null,
    personsDistinct: last?.personsDistinct ?? 0,
    returning: last?.returning ?? 0,
    load1: trendOf(series((s) => s.load1), 0),
    deadSamples: Object.fromEntries(SERVICES.map((k) => [k, samples.filter((s) => s.services[k] && !s.services[k].alive).length])) as Record<ServiceName, number>,
  };
}

const MiB = 2 ** 20;
const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? 'n/a' : String(sig(x, d)));
const pct = (x: number | null) => (x === null ? 'n/a' : `${sig(x * 100, 2)} %`);

/** The table rows of a run (one per service's memory, one per group's lag, the state, the counts). */
export function soakRows(f: SoakFigures): Row[] {
  const span = `${(f.spanS / 60).toFixed(1)} min sampled, slope fitted after ${f.warmupS / 60} min of warm-up`;
  const rows: Row[] = SERVICES.map((svc) => {
    const r = f.rss[svc];
    const h = f.heap[svc];
    const toMiB = (x: number | null) => (x === null ? null : x / MiB);
    return {
      section: 'soak', figure: `${svc} RSS slope${svc === 'ingest' ? ' (with its ffmpeg)' : ''}`, value: `${num(toMiB(r.slopePerHour))} MiB/h`,
      detail: `${pct(r.slopeShareOfMeanPerHour)} of its mean per hour; RSS ${num(toMiB(r.first), 4)} → ${num(toMiB(r.last), 4)} MiB (max ${num(toMiB(r.max), 4)}); `
        + `heap ${num(toMiB(h.first))} → ${num(toMiB(h.last))} MiB, ${num(toMiB(h.slopePerHour))} MiB/h${f.deadSamples[svc] ? `; DEAD in ${f.deadSamples[svc]} samples` : ''}; ${span}`,
    };
  });
  for (const g of GROUPS) {
    const l = f.lag[g];
    rows.push({
      section: 'soak', figure: `${g} consumer lag slope`, value: `${num(l.slopePerHour)} msg/h`,
      detail: `max ${num(l.max)}, mean ${num(l.mean)}, last ${num(l.last)} messages (group lag on its input topic, admin)`,
    });
  }
  const s = f.stateBytes;
  rows.push({
    section: 'soak', figure: 'aggregator state record slope', value: `${num(s.slopePerHour)} B/h`,
    detail: `${pct(s.slopeShareOfMeanPerHour)} of its mean per hour; ${num(s.first)} → ${num(s.last)} B (max ${num(s.max)}); ${f.stateRecords} records written to aggregator-state`,
  });
  const c = f.counters;
  rows.push({
    section: 'soak', figure: 'processed over the run', value: `${c?.framesDecoded ?? 'n/a'} frames`,
    detail: `decoded at ingest (${c?.framesDroppedAtIngest ?? 'n/a'} dropped there, ${c?.framesShedAtDetector ?? 'n/a'} shed by the detector), ${c?.framesAtAggregator ?? 'n/a'} frames at the aggregator, `
      + `${c?.facesDetected ?? 'n/a'} faces, ${c?.events ?? 'n/a'} events (${c?.appeared ?? 'n/a'} person.appeared, ${f.returning} returning), ${f.personsDistinct} distinct person ids; `
      + `load average ${num(f.load1.first, 2)} → ${num(f.load1.last, 2)} (max ${num(f.load1.max, 2)})`,
  });
  return rows;
}

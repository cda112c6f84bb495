/**
 * `npm run bench`: measures emostream against its peers and this machine's limits, prints a
 * table and writes bench/results/latest.json (and a dated copy). Every figure is a ratio of two
 * things measured side by side in this run, with the absolute numbers beside it; nothing here
 * asserts on wall-clock time.
 *
 *   npm run bench                         every section (about 10-15 minutes on 2 cores)
 *   npm run bench -- --quick              short inputs, a smoke run (figures not comparable)
 *   npm run bench -- --long               the long soaks: memory over 30+ minutes of media, the four services for 60 minutes
 *   npm run bench -- --only pipeline,classifier
 *   npm run bench -- --only state         the aggregator's state, memory and rate at 1,000 and 10,000 persons
 *   npm run bench -- --only cameras       2 and 4 live cameras at 10 fps: one process vs Kafka, per camera
 *   npm run bench -- --only crossCamera   linking persons across cameras (reidAcrossCameras) on CK+ faces, thresholds swept
 *   npm run bench -- --only soak --long   the four services as processes on a looping RTSP camera for an hour:
 *                                         RSS, consumer lag and state bytes sampled every 30 s, slopes per hour
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTf } from '@emostream/runtime';
import { createContext, type BenchContext, type Row } from './lib/context.js';
import { machineInfo, machineLoad, versions } from './lib/machine.js';
import { benchModel } from './lib/model.js';
import { sig } from './lib/stats.js';
import { pipelineSection } from './sections/pipeline.js';
import { classifierSection } from './sections/classifier.js';
import { distributedSection } from './sections/distributed.js';
import { latencySection } from './sections/latency.js';
import { memorySection } from './sections/memory.js';
import { sceneSection } from './sections/scene.js';

type Section = (ctx: BenchContext) => Promise<{ figures: Record<string, unknown>; rows: Row[] }>;

/** Sections in run order (cheap and independent first). */
const SECTIONS: Record<string, Section> = {
  classifier: classifierSection,
  pipeline: pipelineSection,
  distributed: distributedSection,
  latency: latencySection,
  memory: memorySection,
  state: async (ctx) => (await import('./sections/state.js')).stateSection(ctx),
  scene: sceneSection,
  pipelineAccuracy: async (ctx) => (await import('./sections/pipelineAccuracy.js')).pipelineAccuracySection(ctx),
  crossCamera: async (ctx) => (await import('./sections/crossCamera.js')).crossCameraSection(ctx),
  cameras: async (ctx) => (await import('./sections/cameras.js')).camerasSection(ctx),
  soak: async (ctx) => (await import('./sections/soak.js')).soakSection(ctx),
};

/** The issue's expected bars: figure, comparison, threshold. Not assertions: reported as met/missed. */
export const BARS: Array<{ key: string; op: '>=' | '<='; value: number; what: string }> = [
  { key: 'realTimeFactor', op: '>=', value: 1, what: 'embedded pipeline at least real time on the 720p clip (2 cores)' },
  { key: 'vsHuman', op: '>=', value: 2, what: 'at least 2x Human\'s own per-frame loop' },
  { key: 'batch64OverBatch1', op: '>=', value: 3, what: 'classifier batch 64 at least 3x batch 1 (faces/s)' },
  { key: 'distributedOverEmbedded', op: '>=', value: 0.8, what: 'distributed at least 0.8x embedded throughput' },
  { key: 'rssGrowth', op: '<=', value: 0.05, what: 'RSS growth at most 5% over a long stream' },
];

/** Keys every complete results file carries (other tools read them). */
export const REQUIRED_KEYS = [
  'realTimeFactor', 'vsHuman', 'vsDecodeOnly', 'batch64OverBatch1', 'flopUtilisation', 'distributedOverEmbedded',
  'latencyP95Ms', 'rssGrowth', 'sceneEmotionAccuracy', 'idSwitchesPerPersonMinute',
] as const;

interface Args { quick: boolean; long: boolean; only: string[]; keep: boolean; resultsDir: string }

function parseArgs(argv: string[]): Args {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const a: Args = { quick: false, long: false, only: Object.keys(SECTIONS), keep: false, resultsDir: path.join(here, 'results') };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--quick') a.quick = true;
    else if (v === '--long') a.long = true;
    else if (v === '--keep') a.keep = true;
    else if (v === '--only' || v.startsWith('--only=')) {
      const list = (v.includes('=') ? v.slice(7) : argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const bad = list.filter((s) => !(s in SECTIONS));
      if (bad.length || list.length === 0) throw new Error(`--only takes a comma-separated list of ${Object.keys(SECTIONS).join(', ')}; got '${list.join(',')}'`);
      a.only = Object.keys(SECTIONS).filter((s) => list.includes(s));
    } else if (v === '--results-dir') a.resultsDir = path.resolve(argv[++i] ?? '');
    else if (v === '-h' || v === '--help') {
      process.stdout.write([
        `npm run bench -- [--quick] [--long] [--only ${Object.keys(SECTIONS).join(',')}] [--keep] [--results-dir DIR]`,
        '  --quick   short inputs, a smoke run (figures not comparable); soak: 90 s',
        '  --long    memory: 30+ minutes of media to the end; soak: 60 minutes (default 4.5), slopes after 10 minutes of warm-up',
        '  --only    these sections, in run order (soak: the four services as processes on a looping RTSP camera;',
        '            its samples go to runs/soak-<time>.jsonl, or BENCH_SOAK_LOG, as they are taken)',
        '  --keep    keep the temp folder (clips, models)',
        '',
      ].join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option '${v}' (try --help)`);
  }
  if (a.quick && a.long) throw new Error('--quick and --long contradict each other: pick one');
  return a;
}

function printTable(rows: Row[], out: NodeJS.WritableStream): void {
  const w = [Math.max(...rows.map((r) => r.section.length), 7), Math.max(...rows.map((r) => r.figure.length), 6), Math.max(...rows.map((r) => r.value.length), 5)];
  const line = (c: string[]) => `${c[0].padEnd(w[0])}  ${c[1].padEnd(w[1])}  ${c[2].padStart(w[2])}  ${c[3] ?? ''}`;
  out.write(line(['section', 'figure', 'value', 'detail']) + '\n');
  out.write(line(['-'.repeat(w[0]), '-'.repeat(w[1]), '-'.repeat(w[2]), '------']) + '\n');
  for (const r of rows) out.write(line([r.section, r.figure, r.value, r.detail ?? '']) + '\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
  const t0 = Date.now();
  const log = (m: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emostream-bench-'));
  const loadAtStart = machineLoad();
  if (loadAtStart.loadAvg1m > 0.5 * os.availableParallelism()) {
    log(`warning: the machine is busy (load ${loadAtStart.loadAvg1m}; ${loadAtStart.topProcesses.join(', ')}): figures will not be comparable`);
  }
  // The product's setting: analyze runs every network as a session call (oneDNN at AVX2); Human's
  // loop, in the same process, gets the same library and cap.
  const rt = await loadTf('auto', { sessions: true });
  const model = await benchModel(rt.tf, tmp);
  log(`backend ${rt.provider}; model: ${model.description}; temp files in ${tmp}`);
  const ctx = createContext({ rt, tmp, quick: args.quick, long: args.long, model, log });
  const rows: Row[] = [];
  const errors: Record<string, string> = {};
  const sections: Record<string, unknown> = {};
  const startedAt = new Date().toISOString();
  const stamp = startedAt.replace(/[:]/g, '').replace(/\..*$/, '');
  fs.mkdirSync(args.resultsDir, { recursive: true });
  // Written after every section (a run cut short still leaves what it measured), and at the end.
  const progressFile = path.join(args.resultsDir, `${stamp}-inprogress.json`);
  for (const name of args.only) {
    const s0 = Date.now();
    try {
      const r = await SECTIONS[name](ctx);
      Object.assign(ctx.figures, r.figures);
      sections[name] = { ...r.figures, wallS: (Date.now() - s0) / 1000 };
      rows.push(...r.rows);
    } catch (e) {
      const msg = (e as Error).stack ?? String(e);
      errors[name] = msg.split('\n').slice(0, 4).join(' | ');
      log(`${name} failed: ${msg}`);
      rows.push({ section: name, figure: 'FAILED', value: '-', detail: errors[name].slice(0, 200) });
    }
    fs.writeFileSync(progressFile, JSON.stringify({ date: startedAt, inProgress: true, done: Object.keys(sections), figures: ctx.figures, table: rows, errors }, null, 2) + '\n');
  }
  fs.rmSync(progressFile, { force: true });
  const detector = await ctx.detector().catch(() => undefined);
  await detector?.dispose();

  const figures = ctx.figures as Record<string, number | null | undefined>;
  const bars = BARS.map((b) => {
    const v = figures[b.key];
    const met = v === undefined || v === null ? null : b.op === '>=' ? v >= b.value : v <= b.value;
    return { ...b, measured: v ?? null, met };
  });
  const complete = !args.quick && args.only.length === Object.keys(SECTIONS).length && Object.keys(errors).length === 0;
  const headline = Object.fromEntries(REQUIRED_KEYS.map((k) => [k, sig(figures[k] as number | null | undefined, 4)]));
  const result = {
    date: new Date().toISOString(),
    mode: { quick: args.quick, long: args.long, only: args.only, complete },
    machine: { ...machineInfo(), loadAtStart, loadAtEnd: machineLoad() },
    gpu: 'no GPU machine lent to this run: CPU figures only',
    versions: versions(rt, ctx.figures.kafkaVersion as string | undefined),
    model: model.description,
    ...headline,
    bars,
    table: rows,
    sections,
    errors,
    wallS: (Date.now() - t0) / 1000,
  };

  process.stdout.write('\n');
  printTable(rows, process.stdout);
  process.stdout.write('\nbars (issue 7; not assertions):\n');
  for (const b of bars) {
    process.stdout.write(`  ${b.met === null ? 'n/a   ' : b.met ? 'met   ' : 'MISSED'}  ${b.key} ${b.op} ${b.value}: ${b.measured === null ? 'not measured' : sig(b.measured, 3)}  (${b.what})\n`);
  }

  const dated = path.join(args.resultsDir, `${stamp}${args.quick ? '-quick' : ''}${complete || args.quick ? '' : '-partial'}.json`);
  const text = JSON.stringify(result, null, 2) + '\n';
  fs.writeFileSync(dated, text);
  // Only a complete run replaces latest.json: a partial or quick one would drop keys others read.
  if (complete) fs.writeFileSync(path.join(args.resultsDir, 'latest.json'), text);
  process.stdout.write(`\nwrote ${dated}${complete ? ` and ${path.join(args.resultsDir, 'latest.json')}` : ' (partial or quick run: latest.json left as it was)'}\n`);
  if (!args.keep) fs.rmSync(tmp, { recursive: true, force: true });
  // kafkajs and prom-client timers may linger; the run is over.
  process.exit(Object.keys(errors).length ? 1 : 0);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(2);
});

/**
 * Renders a results file (default bench/results/latest.json) as Markdown: machine, versions,
 * the table and the bars, ready to paste into bench/RESULTS.md.
 *
 *   node --import tsx bench/report.ts [results.json]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Results {
  date: string;
  mode: { quick: boolean; long: boolean; only: string[]; complete: boolean };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; loadAtStart?: { loadAvg1m: number; topProcesses: string[] } };
  gpu: string;
  versions: Record<string, string>;
  model: string;
  bars: Array<{ key: string; op: string; value: number; what: string; measured: number | null; met: boolean | null }>;
  table: Array<{ section: string; figure: string; value: string; detail?: string }>;
  wallS: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? path.join(here, 'results/latest.json');
const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
const esc = (s: string) => s.replace(/\|/g, '\\|');
const out: string[] = [];
out.push(`Run ${r.date} (${r.mode.complete ? 'complete run' : `partial: ${r.mode.only.join(', ')}`}${r.mode.quick ? ', --quick' : ''}${r.mode.long ? ', --long' : ''}; ${Math.round(r.wallS)} s).`);
out.push('');
out.push(`Machine: ${r.machine.cpus} cores (nproc), ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB; ${r.machine.os}; load at start ${r.machine.loadAtStart?.loadAvg1m ?? '?'}. GPU: ${r.gpu}.`);
out.push('');
out.push(`Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
out.push('');
out.push(`Model: ${r.model}.`);
out.push('');
out.push('| section | figure | value | detail |');
out.push('| --- | --- | ---: | --- |');
for (const row of r.table) out.push(`| ${esc(row.section)} | ${esc(row.figure)} | ${esc(row.value)} | ${esc(row.detail ?? '')} |`);
out.push('');
out.push('| bar (issue 7) | measured | met? |');
out.push('| --- | ---: | --- |');
for (const b of r.bars) out.push(`| ${b.key} ${b.op} ${b.value} (${esc(b.what)}) | ${b.measured === null ? 'n/a' : Number(b.measured.toPrecision(3))} | ${b.met === null ? 'not measured' : b.met ? 'met' : 'missed'} |`);
process.stdout.write(out.join('\n') + '\n');

/**
 * A soak's figures from its log of samples (what `--only soak` appends as it goes): for a run
 * stopped early, or to fit again with another warm-up. Prints the table rows as Markdown and
 * the figures as JSON.
 *
 *   node --import tsx bench/sections/soakReport.ts runs/soak-….jsonl [--warmup-s 600]
 */
import fs from 'node:fs';
import { parseSoakLog, soakFigures, soakRows } from './soakSamples.js';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const w = args.indexOf('--warmup-s');
if (!file) {
  process.stderr.write('usage: node --import tsx bench/sections/soakReport.ts LOG.jsonl [--warmup-s SECONDS]\n');
  process.exit(2);
}
const { samples, badLines } = parseSoakLog(fs.readFileSync(file, 'utf8'));
if (samples.length === 0) {
  process.stderr.write(`${file}: no samples (${badLines} lines that are not one)\n`);
  process.exit(1);
}
const spanS = samples[samples.length - 1].tS;
const warmupS = w >= 0 ? Number(args[w + 1]) : spanS >= 1800 ? 600 : 60;
const f = soakFigures(samples, warmupS);
const esc = (s: string) => s.replace(/\|/g, '\\|');
process.stdout.write(`${samples.length} samples over ${(spanS / 60).toFixed(1)} min (${badLines} bad lines), warm-up ${warmupS} s\n\n`);
process.stdout.write('| figure | value | detail |\n| --- | ---: | --- |\n');
for (const r of soakRows(f)) process.stdout.write(`| ${esc(r.figure)} | ${esc(r.value)} | ${esc(r.detail ?? '')} |\n`);
process.stdout.write('\n' + JSON.stringify(f, null, 2) + '\n');

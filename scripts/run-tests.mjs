#!/usr/bin/env node
// Runs the test suite with Node's own test runner (TypeScript through tsx).
//   node scripts/run-tests.mjs            units beside the code, then integration tests in test/
//   node scripts/run-tests.mjs --unit     units only
//   node scripts/run-tests.mjs FILE...    just those files
// A full run (no --unit, no files) goes on with the fault and load suite (scripts/run-faults.mjs,
// about 6 minutes: real processes killed, a broker restarted, an RTSP camera taken away) once the
// rest passed; its table goes to a temp file (FAULTS_MD), not bench/FAULTS.md.
// EMOSTREAM_SKIP_FAULTS=1 leaves it out.
// Units: every *.test.ts under packages/, services/, jobs/, pipeline/ and cli/; then test/.
// The run ends with the list of skipped tests and why (scripts/skip-reporter.mjs); under CI
// (CI=true) a test whose resource is missing fails instead (test/helpers/resources.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSkips } from './skip-reporter.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const files = args.filter((a) => !a.startsWith('--'));

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(path.relative(root, p));
  }
  return out;
}

let selected = files;
if (selected.length === 0) {
  const units = ['packages', 'services', 'jobs', 'pipeline', 'cli'].flatMap((d) => walk(path.join(root, d)));
  const integration = unitOnly ? [] : walk(path.join(root, 'test'));
  selected = [...units.sort(), ...integration.sort()];
}
process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
const skipsFile = path.join(os.tmpdir(), `emostream-skips-${process.pid}.jsonl`);
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=1',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${path.join(root, 'scripts/skip-reporter.mjs')}`, `--test-reporter-destination=${skipsFile}`,
  ...selected,
], { cwd: root, stdio: 'inherit', env: process.env });
printSkips(skipsFile, root);
rmSync(skipsFile, { force: true });
if (r.status !== 0 || files.length > 0 || unitOnly || process.env.EMOSTREAM_SKIP_FAULTS === '1') process.exit(r.status ?? 1);
process.stdout.write('\n== fault and load suite (scripts/run-faults.mjs; EMOSTREAM_SKIP_FAULTS=1 skips it) ==\n');
const faults = spawnSync(process.execPath, [path.join(root, 'scripts/run-faults.mjs')], {
  cwd: root, stdio: 'inherit', env: { ...process.env, FAULTS_MD: process.env.FAULTS_MD ?? path.join(os.tmpdir(), 'emostream-FAULTS.md') },
});
process.exit(faults.status ?? 1);

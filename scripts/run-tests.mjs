#!/usr/bin/env node
// Runs the test suite with Node's own test runner (TypeScript through tsx).
//   node scripts/run-tests.mjs            units beside the code, then integration tests in test/
//   node scripts/run-tests.mjs --unit     units only
//   node scripts/run-tests.mjs FILE...    just those files
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const units = ['packages', 'services', 'jobs'].flatMap((d) => walk(path.join(root, d)));
  const integration = unitOnly ? [] : walk(path.join(root, 'test'));
  selected = [...units.sort(), ...integration.sort()];
}
process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...selected], {
  cwd: root, stdio: 'inherit', env: process.env,
});
process.exit(r.status ?? 1);

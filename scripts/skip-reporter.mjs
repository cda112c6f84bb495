// A node:test reporter that records every skipped test, one JSON line each ({ name, file, reason }),
// for the runners (scripts/run-tests.mjs, scripts/run-faults.mjs) to list after the summary:
//   node --test --test-reporter=spec --test-reporter-destination=stdout \
//     --test-reporter=./scripts/skip-reporter.mjs --test-reporter-destination=/tmp/skips.jsonl FILE...
// Node 22+ reports a skip as `test:skip`; Node 20 as `test:pass` (or `test:fail`) whose data
// carries `skip` (the reason, or true). Both are read.
import fs from 'node:fs';
import path from 'node:path';

export default async function* skipReporter(source) {
  for await (const event of source) {
    const d = event.data;
    const skipped = event.type === 'test:skip'
      || ((event.type === 'test:pass' || event.type === 'test:fail') && d && d.skip !== undefined && d.skip !== false);
    if (!skipped) continue;
    yield `${JSON.stringify({ name: d.name, file: d.file, reason: typeof d.skip === 'string' ? d.skip : '' })}\n`;
  }
}

/** Reads what the reporter wrote to `file` and prints `skipped: N` and each skip with its reason. */
export function printSkips(file, root, out = process.stdout) {
  let lines = [];
  try { lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean); } catch { /* no file: the run did not start */ }
  const skips = lines.map((l) => JSON.parse(l));
  out.write(`\nskipped: ${skips.length}\n`);
  for (const s of skips) {
    const where = s.file ? `${path.relative(root, s.file.startsWith('file:') ? new URL(s.file).pathname : s.file)}: ` : '';
    out.write(`  - ${where}${s.name}${s.reason ? ` (${s.reason})` : ''}\n`);
  }
  return skips;
}

/**
 * Writes the published event contract, docs/contract/*.schema.json, from the zod schemas the
 * code validates with (packages/contracts). test/contract.test.ts fails when they differ.
 *   node --import tsx scripts/contract-docs.ts           rewrite them
 *   node --import tsx scripts/contract-docs.ts --check   exit 1, naming them, when one differs
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contractSchemas } from '@emostream/contracts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'contract');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [name, schema] of Object.entries(contractSchemas())) {
  const file = path.join(dir, name);
  const text = JSON.stringify(schema, null, 2) + '\n';
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) continue;
  stale.push(`docs/contract/${name}`);
  if (!check) fs.writeFileSync(file, text);
}
if (check && stale.length) {
  process.stderr.write(`contract files out of date: ${stale.join(', ')}; run npm run docs:contract\n`);
  process.exit(1);
}
process.stdout.write(stale.length ? `${check ? 'stale' : 'wrote'} ${stale.join(', ')}\n` : 'contract files up to date\n');

/**
 * Writes the settings tables of the READMEs from the schemas' descriptions (one table per env
 * prefix, between `<!-- settings:<id> -->` markers; see pipeline/src/settingsDocs.ts).
 *   node --import tsx scripts/settings-docs.ts           rewrite the tables
 *   node --import tsx scripts/settings-docs.ts --check   exit 1, naming them, when a table differs
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS_DOCS, currentBlock, settingsBlock, withSettingsBlock } from '@emostream/pipeline';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const doc of SETTINGS_DOCS) {
  const file = path.join(root, doc.readme);
  const text = fs.readFileSync(file, 'utf8');
  if (currentBlock(text, doc.id) === settingsBlock(doc)) continue;
  stale.push(`${doc.readme} (settings:${doc.id})`);
  if (!check) fs.writeFileSync(file, withSettingsBlock(text, doc));
}
if (check && stale.length) {
  process.stderr.write(`settings tables out of date: ${stale.join(', ')}; run npm run docs:settings\n`);
  process.exit(1);
}
process.stdout.write(stale.length ? `rewrote ${stale.join(', ')}\n` : 'settings tables up to date\n');

/** The READMEs' settings tables are the ones generated from the schemas (`npm run docs:settings`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS_DOCS, currentBlock, settingsBlock, withSettingsBlock } from '@emostream/pipeline';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

for (const doc of SETTINGS_DOCS) {
  test(`${doc.readme}: the ${doc.prefix}* table is generated from the schema`, () => {
    const text = fs.readFileSync(path.join(ROOT, doc.readme), 'utf8');
    const block = currentBlock(text, doc.id);
    assert.ok(block, `${doc.readme} has no <!-- settings:${doc.id} --> … <!-- /settings:${doc.id} --> markers`);
    assert.equal(block, settingsBlock(doc), `${doc.readme}: the ${doc.prefix}* table differs from the schema's: run npm run docs:settings`);
  });
}

test('every settings variable is documented once, in one table', () => {
  const names = SETTINGS_DOCS.flatMap((d) => [...settingsBlock(d).matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  assert.equal(new Set(names).size, names.length, 'a variable in two tables');
  for (const d of SETTINGS_DOCS) assert.ok(names.some((n) => n.startsWith(d.prefix)), d.prefix);
});

test('a table that differs is found, and rewriting puts the generated one between the markers', () => {
  const doc = SETTINGS_DOCS[0];
  const stale = `# x\n\n<!-- settings:${doc.id} -->\n| old | table |\n<!-- /settings:${doc.id} -->\n\nafter\n`;
  assert.notEqual(currentBlock(stale, doc.id), settingsBlock(doc));
  const fixed = withSettingsBlock(stale, doc);
  assert.equal(currentBlock(fixed, doc.id), settingsBlock(doc));
  assert.ok(fixed.startsWith('# x\n\n') && fixed.endsWith('\n\nafter\n'));
  assert.throws(() => withSettingsBlock('# no markers\n', doc), /has no <!-- settings:kafka -->/);
});

// Copies a trained model directory into models/<name>/ (weights re-sharded to ≤2 MiB files for
// git) and, with --default, makes it the model the classifier loads by default.
//   node --import tsx scripts/ship-model.ts runs/best/model best [--default]
import fs from 'node:fs';
import path from 'node:path';
import { loadTf } from '@emostream/runtime';
import { loadModelDir, saveModelDir, modelsRoot } from '@emostream/model';

const [src, name, flag] = process.argv.slice(2);
if (!src || !name) { console.error('usage: ship-model.ts <model dir> <name> [--default]'); process.exit(2); }
const { tf } = await loadTf();
const m = await loadModelDir(tf, src);
const dest = path.join(modelsRoot(), name);
fs.rmSync(dest, { recursive: true, force: true });
await saveModelDir(m.model, dest, m.card);
if (flag === '--default') fs.writeFileSync(path.join(modelsRoot(), 'DEFAULT'), name + '\n');
console.log(`shipped ${m.version} to ${dest}${flag === '--default' ? ' (default)' : ''}`);

/** A model directory for tests: the shipped default when present, else an untrained model of the real architecture. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import { loadTf } from '@emostream/runtime';
import { buildModel, defaultModelDir, saveModelDir, PAPER_ARCHITECTURE } from '@emostream/model';

/** Writes an untrained paper-architecture model (real code, random weights) into a temp dir. */
export async function untrainedModelDir(version = 'untrained-test', seed = 1): Promise<string> {
  const { tf } = await loadTf();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-model-'));
  const m = buildModel(tf, PAPER_ARCHITECTURE, seed);
  await saveModelDir(m, dir, {
    name: 'paper', version, createdAt: new Date().toISOString(), architecture: PAPER_ARCHITECTURE,
    parameters: m.countParams(), labels: [...EMOTIONS], preprocessing: 'test', training: {}, evaluation: {},
  });
  m.dispose();
  return dir;
}

/** The shipped model when it exists (models/DEFAULT), else an untrained one. */
export async function testModelDir(): Promise<string> {
  const dir = defaultModelDir();
  return fs.existsSync(path.join(dir, 'model.json')) ? dir : untrainedModelDir();
}

/** Where the shared sample media live (read in place, never copied). */
export const MEDIA = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../shared/data/media');

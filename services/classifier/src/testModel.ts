/** For this package's tests: a model directory of an untrained `paper` network, as `emostream train` would write one. */
import { EMOTIONS } from '@emostream/contracts';
import { loadTf } from '@emostream/runtime';
import { buildModel, saveModelDir, PAPER_ARCHITECTURE, type ModelCard } from '@emostream/model';

/** Writes an untrained `paper` network (weights seeded by `seed`) to `dir`, its card naming `version`. */
export async function writeTestModel(dir: string, version: string, seed: number): Promise<void> {
  const { tf } = await loadTf();
  const m = buildModel(tf, PAPER_ARCHITECTURE, seed);
  const card = { name: 'paper', version, createdAt: new Date().toISOString(), architecture: PAPER_ARCHITECTURE, parameters: m.countParams(), labels: [...EMOTIONS], preprocessing: 'test', training: {}, evaluation: {} } satisfies ModelCard;
  await saveModelDir(m, dir, card);
  m.dispose();
}

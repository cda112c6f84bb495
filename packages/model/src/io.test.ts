import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import { loadTf } from '@emostream/runtime';
import { buildModel, BEST_ARCHITECTURE } from './architecture.js';
import { loadModelDir, loadWeightsAs, recordEvaluation, saveModelDir, SHARD_BYTES, type ModelCard } from './io.js';

async function saved(): Promise<{ dir: string; card: ModelCard }> {
  const { tf } = await loadTf();
  const m = buildModel(tf, BEST_ARCHITECTURE, 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-io-'));
  const card: ModelCard = {
    name: 'best', version: 'best-test-e1', createdAt: '2026-11-25T00:00:00.000Z', architecture: BEST_ARCHITECTURE,
    parameters: m.countParams(), labels: [...EMOTIONS], preprocessing: 'p', training: { seed: 7 },
    evaluation: { x: { accuracy: 0.5 } },
  };
  await saveModelDir(m, dir, card);
  m.dispose();
  return { dir, card };
}

test('a model directory round-trips: weights in small shards, labels, the card', async () => {
  const { tf } = await loadTf();
  const { dir, card } = await saved();
  const shards = fs.readdirSync(dir).filter((f) => f.endsWith('.bin'));
  assert.ok(shards.length >= 3, `7 MB of weights in ≤2 MiB shards, got ${shards}`);
  for (const f of shards) assert.ok(fs.statSync(path.join(dir, f)).size <= SHARD_BYTES);
  const loaded = await loadModelDir(tf, dir);
  assert.deepEqual(loaded.card, card);
  assert.equal(loaded.version, 'best-test-e1');
  assert.equal(loaded.model.countParams(), card.parameters);
  loaded.model.dispose();
});

test('bad model directories fail naming the file and what to do', async () => {
  const { tf } = await loadTf();
  const { dir } = await saved();
  fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify(['happy', 'sad']));
  await assert.rejects(loadModelDir(tf, dir), /labels\.json lists \[happy,sad\] but the classifier expects \[angry, .*retrain/);
  fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify(EMOTIONS));
  fs.writeFileSync(path.join(dir, 'card.json'), '{oops');
  await assert.rejects(loadModelDir(tf, dir), /card\.json is not valid JSON/);
  fs.writeFileSync(path.join(dir, 'card.json'), '{}');
  const shard = fs.readdirSync(dir).find((f) => f.endsWith('.bin'))!;
  fs.rmSync(path.join(dir, shard));
  await assert.rejects(loadModelDir(tf, dir), new RegExp(`${shard} \\(named in model.json\\) is missing`));
  fs.writeFileSync(path.join(dir, shard), Buffer.alloc(10));
  await assert.rejects(loadModelDir(tf, dir), /cannot be loaded .*corrupt/);
  await assert.rejects(loadModelDir(tf, '/nonexistent/model'), /model directory \/nonexistent\/model does not exist/);
});

test('recordEvaluation adds to the card, keeping the rest; loadWeightsAs applies a new architecture', async () => {
  const { tf } = await loadTf();
  const { dir, card } = await saved();
  await recordEvaluation(dir, 'y', { accuracy: 0.75, command: 'emostream evaluate …' });
  const after = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as ModelCard;
  assert.deepEqual(after.evaluation.x, card.evaluation.x);
  assert.equal((after.evaluation.y as { accuracy: number }).accuracy, 0.75);
  assert.ok(typeof (after.evaluation.y as { at?: string }).at === 'string');
  const { model, card: c } = await loadWeightsAs(tf, dir, { ...BEST_ARCHITECTURE, blockDropout: 0.05 });
  assert.equal(c.version, card.version);
  assert.equal((model.getLayer('block1_dropout').getConfig() as { rate: number }).rate, 0.05);
  model.dispose();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EMOTIONS } from '@emostream/contracts';
import { majorityColumn, readFerPlusVotes, voteDistribution, withFerPlusTargets } from './ferplus.js';
import { selectionScore } from './train.js';
import type { LabelledSet } from './datasets.js';

const idx = (e: string) => EMOTIONS.indexOf(e as (typeof EMOTIONS)[number]);

function fixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferplus-'));
  fs.writeFileSync(path.join(dir, 'fer2013new.csv'), [
    'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF',
    'Training,fer0.png,6,0,0,4,0,0,0,0,0,0',
    'Training,fer1.png,0,0,0,0,0,0,0,0,0,10',
    'Training,fer2.png,0,0,0,0,0,0,0,0,10,0',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'mapping.csv'), [
    'ferplus_row,usage,ferplus_image,fer2013_path,mad,second_best_mad,match',
    '0,Training,fer0.png,train/sad/Training_1.jpg,1,20,unique',
    '1,Training,fer1.png,train/angry/Training_2.jpg,1,20,unique',
    '2,Training,fer2.png,train/happy/Training_3.jpg,1,20,unique',
  ].join('\n'));
  return dir;
}

function set(): LabelledSet {
  const ids = ['train/sad/Training_1.jpg', 'train/angry/Training_2.jpg', 'train/happy/Training_3.jpg', 'train/fear/Training_4.jpg'];
  const images = new Uint8Array(ids.length * 2304);
  ids.forEach((_, k) => images.fill(k + 1, k * 2304, (k + 1) * 2304));
  return { images, labels: Int32Array.from([idx('sad'), idx('angry'), idx('happy'), idx('fear')]), ids, groups: ids.map(() => 'Training'), skippedLabels: {}, unreadable: [] };
}

test('FER+ votes join to FER-2013 paths; majority and the seven-emotion distribution', async () => {
  const dir = fixture();
  const votes = await readFerPlusVotes(path.join(dir, 'fer2013new.csv'), path.join(dir, 'mapping.csv'));
  assert.equal(votes.size, 3);
  const v = votes.get('train/sad/Training_1.jpg')!;
  assert.equal(majorityColumn(v.counts), 'neutral');
  const d = voteDistribution(v.counts)!;
  assert.ok(Math.abs(d[idx('neutral')] - 0.6) < 1e-9 && Math.abs(d[idx('sad')] - 0.4) < 1e-9);
  assert.equal(voteDistribution(votes.get('train/happy/Training_3.jpg')!.counts), undefined, 'all votes unknown: no distribution');
});

test('mixed targets: half FER-2013 label, half FER+ votes; NF-majority dropped; unvoted images keep their label', async () => {
  const dir = fixture();
  const votes = await readFerPlusVotes(path.join(dir, 'fer2013new.csv'), path.join(dir, 'mapping.csv'));
  const { set: out, mix } = withFerPlusTargets(set(), votes, 0.5);
  assert.deepEqual(mix.droppedNotFace, ['train/angry/Training_2.jpg']);
  assert.equal(mix.mixed, 1);
  assert.equal(mix.withoutVotes, 2);
  assert.deepEqual(out.ids, ['train/sad/Training_1.jpg', 'train/happy/Training_3.jpg', 'train/fear/Training_4.jpg']);
  assert.equal(out.images[2304], 3, 'images follow their ids');
  const k = EMOTIONS.length;
  const row = (j: number) => Array.from(out.soft!.subarray(j * k, (j + 1) * k));
  assert.ok(Math.abs(row(0)[idx('sad')] - (0.5 + 0.5 * 0.4)) < 1e-6);
  assert.ok(Math.abs(row(0)[idx('neutral')] - 0.3) < 1e-6);
  assert.equal(row(1)[idx('happy')], 1, 'FER+ said unknown: the FER-2013 label alone');
  assert.equal(row(2)[idx('fear')], 1);
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(row(j).reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.throws(() => withFerPlusTargets(set(), votes, 1.5), /\[0, 1\]/);
});

test('the best epoch is chosen on still and filmed validation accuracy together when both exist', () => {
  assert.equal(selectionScore({ valAccuracy: 0.7 }), 0.7);
  assert.equal(selectionScore({ valAccuracy: 0.7, valFilmedAccuracy: 0.5 }), 0.6);
  assert.equal(selectionScore({}), undefined);
});

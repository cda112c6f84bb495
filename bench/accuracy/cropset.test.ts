/**
 * The pipeline's crops of FER-2013 Training faces (cropset.ts), with the real BlazeFace and the
 * detector stage on frames rendered from ../shared/data's Training faces (read in place).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EMOTIONS } from '@emostream/contracts';
import { loadTf, mulberry32 } from '@emostream/runtime';
import { createDetector, parseDetectorConfig } from '@emostream/detector';
import { DATA_DIR } from '../lib/context.js';
import { listFerFaces, seededShuffle } from './faces.js';
import { assertSplitOnly, writePipelineCrops } from './cropset.js';

const FER = path.join(DATA_DIR, 'fer2013');
const absent = fs.existsSync(FER) ? undefined : `${FER} is absent`;

test('pipeline crops: FER-2013 Training faces through BlazeFace and the detector stage, one 48x48 PNG per detected face', { skip: absent }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-crops-'));
  try {
    const faces = seededShuffle(listFerFaces(FER, 'Training').faces, mulberry32(3)).slice(0, 12);
    const rt = await loadTf();
    const detector = await createDetector(parseDetectorConfig({}), { tf: rt });
    const r = await writePipelineCrops(detector, { faces, out, seed: 5, facesPerFrame: 3, log: () => {} });
    assert.equal(r.faces, 12);
    assert.equal(r.frames, 4);
    const written = EMOTIONS.flatMap((e) => fs.readdirSync(path.join(out, e)).map((f) => `${e}/${f}`));
    assert.equal(written.length, r.written);
    assert.ok(r.written > 0 && r.written <= 12, `${r.written} crops`);
    // Each crop sits under its face's label, named after its Training file.
    const expected = new Set(faces.map((f) => `${EMOTIONS[f.label]}/${path.basename(f.file).replace(/\.jpg$/, '.png')}`));
    for (const w of written) assert.ok(expected.has(w), w);
    const meta = await sharp(path.join(out, written[0])).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [48, 48, 1]);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest-5.json'), 'utf8'));
    assert.equal(manifest.written, r.written);
    assert.equal(Object.values(r.detectedBySize).reduce((a, b) => a + b.faces, 0), 12);
    // One row per crop: its file, label, the face's placed side and the detection's box.
    const rows = fs.readFileSync(path.join(out, 'crops-5.csv'), 'utf8').trim().split('\n');
    assert.equal(rows[0], 'file,label,placedSide,boxWidth,boxHeight,iou');
    assert.deepEqual(rows.slice(1).map((x) => x.split(',')[0]).sort(), [...written].sort());
    for (const x of rows.slice(1)) {
      const [, label, placed, w, , iou] = x.split(',');
      assert.ok(EMOTIONS.includes(label as never) && +placed >= 40 && +placed <= 200 && +w > 0 && +iou > 0, x);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('pipeline crops are made from Training (to train on) or PublicTest (to choose on), never PrivateTest', { skip: absent }, () => {
  const pub = listFerFaces(FER, 'PublicTest').faces.slice(0, 1);
  assert.throws(() => assertSplitOnly(pub), /PublicTest_\d+\.jpg is not a FER-2013 Training image: these pipeline crops are made from the Training split only/);
  assert.doesNotThrow(() => assertSplitOnly(listFerFaces(FER, 'Training').faces.slice(0, 2)));
  assert.doesNotThrow(() => assertSplitOnly(pub, 'PublicTest'));
  const priv = listFerFaces(FER, 'PrivateTest').faces.slice(0, 1);
  assert.throws(() => assertSplitOnly(priv, 'PublicTest'), /PrivateTest_\d+\.jpg is not a FER-2013 PublicTest image/);
  assert.throws(() => assertSplitOnly(priv, 'PrivateTest' as never), /not PrivateTest/);
});

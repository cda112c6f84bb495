/**
 * Integration: faceres as the detector runs it (services/detector/src/embedder.ts: one TensorFlow
 * session call, the graph cut down to its 1024-d descriptor, float16 weights widened) gives the
 * descriptors that Human's graph model gives op by op, on faces of real photos, one and several a call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Box } from '@emostream/contracts';
import { loadTf } from '@emostream/runtime';
import { createFaceEmbedder, humanModelsDir } from '@emostream/detector';
import { filesMissing, requireResource } from './helpers/resources.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MEDIA = path.resolve(root, '../shared/data/media');
const photos = ['couple.jpg', 'two_people.jpg'].map((f) => path.join(MEDIA, f));

test('faceres as one session call gives the descriptors of Human\'s graph model op by op (cosine > 0.99999)', async (t) => {
  if (!requireResource(t, 'sample media and Human\'s faceres', filesMissing(...photos, path.join(humanModelsDir(), 'faceres.json')))) return;
  const rt = await loadTf();
  const { tf } = rt;
  const embedder = await createFaceEmbedder(rt);
  const graph = await tf.loadGraphModel(pathToFileURL(path.join(humanModelsDir(), 'faceres.json')).href);
  try {
    for (const file of photos) {
      const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const rgb = new Uint8Array(data);
      const { width, height } = info;
      const boxes: Box[] = [0.2, 0.45, 0.6].map((f, i) => ({ x: width * f, y: height * (0.1 + 0.1 * i), width: 60 + 40 * i, height: 70 + 40 * i }));
      for (const set of [boxes.slice(0, 1), boxes]) {
        const ours = await embedder.embed(rgb, width, height, set);
        const theirs = tf.tidy(() => {
          const image = tf.tensor4d(rgb, [1, height, width, 3], 'int32').toFloat();
          const regions = set.map((b) => { const cx = b.x + b.width / 2, cy = b.y + b.height / 2, r = (Math.max(b.width, b.height) * 1.4) / 2; return [(cy - r) / height, (cx - r) / width, (cy + r) / height, (cx + r) / width]; });
          const crops = tf.image.cropAndResize(image as never, regions, set.map(() => 0), [224, 224]);
          const out = graph.execute(crops) as import('@tensorflow/tfjs-node').Tensor[];
          return out.find((x) => x.shape[1] === 1024)!.arraySync() as number[][];
        });
        assert.equal(ours.length, set.length);
        set.forEach((_, i) => {
          let dot = 0, na = 0, nb = 0;
          for (let k = 0; k < 1024; k++) { dot += ours[i][k] * theirs[i][k]; na += ours[i][k] ** 2; nb += theirs[i][k] ** 2; }
          const cos = dot / Math.sqrt(na * nb);
          assert.ok(cos > 0.99999, `${path.basename(file)}, face ${i} of ${set.length}: cosine ${cos}`);
          assert.ok(Math.abs(Math.sqrt(na) - Math.sqrt(nb)) < 1e-3 * Math.sqrt(nb), `${path.basename(file)}, face ${i}: norms ${Math.sqrt(na)} and ${Math.sqrt(nb)}`);
        });
      }
    }
  } finally {
    embedder.dispose();
    graph.dispose();
  }
});

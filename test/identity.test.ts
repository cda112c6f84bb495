/**
 * Identities on real media (real ffmpeg, BlazeFace, Human's faceres model): hard cuts are found
 * where the sample clip cuts and nowhere in a clip without cuts; one person's embeddings across a
 * clip are alike, two people's are not; faces under embedMinFacePx get no embedding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { lastValueFrom, toArray } from 'rxjs';
import { unpackEmbedding } from '@emostream/contracts';
import { loadTf, silentLogger } from '@emostream/runtime';
import { frameSource, parseSourceConfig } from '@emostream/ingest';
import { cosineSimilarity } from '@emostream/aggregator';
import { detectFaces, parseDetectorConfig } from '@emostream/detector';
import { openDetector } from '@emostream/pipeline';
import { MEDIA } from './helpers/model.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const HAMILTON = path.join(MEDIA, 'short_hamilton_clip.mp4');
const WOMAN = path.join(MEDIA, 'woman2.mp4');
const COUPLE = path.join(MEDIA, 'couple.jpg');

async function detected(file: string, fps: number, settings: Record<string, unknown> = {}) {
  const rt = await loadTf('auto');
  const config = parseDetectorConfig(settings);
  const parts = await openDetector(config, rt);
  try {
    const frames = frameSource(parseSourceConfig({ cameraId: 'c', url: file, fpsLimit: fps }), { logger: silentLogger });
    return await lastValueFrom(frames.pipe(detectFaces({ detector: parts.detector, embedder: parts.embedder, logger: silentLogger, config }), toArray()));
  } finally {
    await parts.dispose();
  }
}

test('scene cuts: the three hard cuts of the sample clip, none in a clip without cuts', async (t) => {
  if (!requireResource(t, 'sample media', filesMissing(HAMILTON, WOMAN))) return;
  const ham = await detected(HAMILTON, 10);
  const cuts = ham.filter((m) => m.frame.sceneCut).map((m) => Math.round(m.frame.mediaTimeMs / 100) / 10);
  // Wide shot → profile close-up (~2.3 s of media), → medium shot (~4.4 s), → the audience (~8.7 s);
  // media time starts at the video track's 0.85 s offset.
  assert.equal(cuts.length, 3, `cuts at ${cuts.join(', ')} s`);
  const woman = await detected(WOMAN, 10);
  assert.equal(woman.filter((m) => m.frame.sceneCut).length, 0);
});

test('embeddings: one woman across 15 s alike, two people in a photo not; small faces get none', async (t) => {
  if (!requireResource(t, 'sample media', filesMissing(WOMAN, COUPLE))) return;
  const woman = await detected(WOMAN, 2);
  const vectors = woman.flatMap((m) => m.faces.flatMap((f) => (f.embedding ? [unpackEmbedding(f.embedding)] : [])));
  assert.ok(vectors.length >= 3, `embedded faces: ${vectors.length}`);
  for (const v of vectors.slice(1)) assert.ok(cosineSimilarity(vectors[0], v) > 0.7, `same person ${cosineSimilarity(vectors[0], v)}`);

  const rt = await loadTf('auto');
  const config = parseDetectorConfig({});
  const parts = await openDetector(config, rt);
  try {
    const { data, info } = await sharp(COUPLE).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const boxes = await parts.detector.detect(new Uint8Array(data), info.width, info.height);
    const faces = boxes.filter((b) => b.score >= config.minScore);
    assert.equal(faces.length, 2);
    const [a, b] = await parts.embedder!.embed(new Uint8Array(data), info.width, info.height, faces.map((f) => f.box));
    assert.ok(cosineSimilarity([...a], [...b]) < 0.6, `two people ${cosineSimilarity([...a], [...b])}`);
  } finally {
    await parts.dispose();
  }
  // The wide shot's faces are 24-40 px high: embedded by default, not under embedMinFacePx 40.
  const smallFaces = (ms: Awaited<ReturnType<typeof detected>>) => ms.flatMap((m) => m.faces).filter((f) => f.box.height >= 24 && f.box.height < 40);
  const ham = smallFaces(await detected(HAMILTON, 2));
  assert.ok(config.embedMinFacePx <= 24 && ham.some((f) => f.embedding !== undefined), 'faces of 24-40 px are embedded by default');
  const strict = smallFaces(await detected(HAMILTON, 2, { embedMinFacePx: 40 }));
  assert.ok(strict.length > 0 && strict.every((f) => f.embedding === undefined), 'faces under embedMinFacePx are not embedded');
});

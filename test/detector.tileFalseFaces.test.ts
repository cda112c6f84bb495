/**
 * Integration: the tile pass on a real clip does not turn background into faces. The first shot of
 * short_hamilton_clip (640x360) shows the performer and the pianist in front of a wall with carved
 * figures; magnified in a tile, the carving scored 0.70 as a face and became a third person. A face
 * that large which the full-frame pass did not find must score `tilesLargeMinScore`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, from, toArray } from 'rxjs';
import { SCHEMA_VERSION, type Frame } from '@emostream/contracts';
import { loadTf, silentLogger } from '@emostream/runtime';
import { createDetector, detectFaces, parseDetectorConfig } from '@emostream/detector';
import { filesMissing, requireResource } from './helpers/resources.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIP = path.resolve(root, '../shared/data/media/short_hamilton_clip.mp4');
const W = 640, H = 360;

function frames(seconds: number): Frame[] {
  const buf = execFileSync('ffmpeg', ['-v', 'error', '-t', String(seconds), '-i', CLIP, '-vf', 'fps=10', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 28 });
  const size = W * H * 3;
  return Array.from({ length: buf.length / size }, (_, i) => ({
    schemaVersion: SCHEMA_VERSION, cameraId: 'ham', seq: i, mediaTimeMs: i * 100, capturedAtMs: Date.now(), width: W, height: H,
    pixels: { format: 'rgb' as const, data: buf.subarray(i * size, (i + 1) * size) },
  }));
}

async function facesOf(settings: Record<string, unknown>, input: Frame[]) {
  const rt = await loadTf();
  const config = parseDetectorConfig({ embeddings: false, ...settings });
  const detector = await createDetector(config, { tf: rt });
  try {
    return await firstValueFrom(from(input).pipe(detectFaces({ detector, logger: silentLogger, config }), toArray()));
  } finally {
    await detector.dispose();
  }
}

const onCarving = (b: { x: number; y: number; width: number; height: number }) => b.x < 480 && b.x + b.width > 420 && b.y < 290 && b.y + b.height > 235;

test('short_hamilton_clip\'s first shot: the performer and the pianist, no face on the carved wall', { timeout: 120_000 }, async (t) => {
  if (!requireResource(t, 'sample media', filesMissing(CLIP))) return;
  const input = frames(1).slice(0, 8); // 0-0.7 s: the first shot
  const now = await facesOf({}, input);
  for (const m of now) {
    assert.equal(m.faces.length, 2, `frame at ${m.frame.mediaTimeMs} ms: ${JSON.stringify(m.faces.map((f) => [f.box, f.score]))}`);
    assert.ok(!m.faces.some((f) => onCarving(f.box)), `frame at ${m.frame.mediaTimeMs} ms: a face on the carving`);
  }
  // The same frames with the large tile faces held to tilesMinScore alone: the carving is a face.
  const before = await facesOf({ tilesLargeMinScore: 0.65 }, input);
  assert.ok(before.some((m) => m.faces.some((f) => onCarving(f.box))), 'the carving was not found at all: this test no longer tests the rule');
});

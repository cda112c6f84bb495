/** Integration: real ffmpeg decoding the sample clip, a truncated copy, and bad inputs. */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync, ftruncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, lastValueFrom, take, timer, toArray, map } from 'rxjs';
import type { Frame } from '@emostream/contracts';
import { createLogger, createMetrics } from '@emostream/runtime';
import { boundedQueue, createIngestStats, createValve, dropCounter, frameSource, IngestError, probeSource } from '@emostream/ingest';
import { framesAt } from './helpers/media.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIP = path.resolve(root, '../shared/data/media/short_hamilton_clip.mp4');
/** The sample clip: skipped without it, failed under CI (test/helpers/resources.ts). */
const media = (t: TestContext) => requireResource(t, 'sample media', filesMissing(CLIP));
let tmp = '';

before(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'ingest-file-')); });
after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

/** ffmpeg processes that are children of this test process. */
function childFfmpegs(): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n').filter((l) => /ffmpeg/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
  } catch {
    return [];
  }
}

test('sample clip at 5 fps: every frame ffmpeg makes of it, monotonic seq and mediaTimeMs, scaled', { timeout: 30_000 }, async (t) => {
  if (!media(t)) return;
  const { logger } = capture();
  const stats = createIngestStats();
  const frames = await lastValueFrom(frameSource({ cameraId: 'clip', url: CLIP, fpsLimit: 5, maxWidth: 320, maxHeight: 320 }, { logger, stats }).pipe(toArray()));
  // The video track ends at 10.03 s of media time: 50 frames at 5 fps, as a separate ffmpeg run counts them.
  assert.equal(frames.length, framesAt(CLIP, 5));
  frames.forEach((f, i) => {
    assert.equal(f.seq, i);
    assert.equal(f.mediaTimeMs, i * 200);
    assert.equal(f.width, 320);
    assert.equal(f.height, 180);
    assert.equal(f.pixels.format, 'rgb');
    assert.equal(f.pixels.data.length, 320 * 180 * 3);
  });
  // Real picture content, not a blank buffer.
  const mid = frames[20].pixels.data;
  assert.ok(new Set(mid.subarray(0, 30_000)).size > 20);
  assert.equal(stats.framesDecoded, frames.length);
  assert.deepEqual(childFfmpegs(), []);
});

test('probe of the sample clip', async (t) => {
  if (!media(t)) return;
  const p = await probeSource(CLIP);
  assert.equal(p.width, 640);
  assert.equal(p.height, 360);
  assert.ok(Math.abs(p.fps! - 29.97) < 0.01);
  assert.ok(p.durationMs! > 9000 && p.durationMs! < 10_100);
});

test('truncated mp4: the frames before the cut, a warning, then completion', { timeout: 30_000 }, async (t) => {
  if (!media(t)) return;
  // The sample keeps its index (moov) at the end, so a plain cut leaves nothing decodable: move
  // it to the front first, as a recording interrupted mid-write with faststart would look.
  const full = path.join(tmp, 'faststart.mp4');
  execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-i', CLIP, '-c', 'copy', '-movflags', '+faststart', full]);
  const cut = path.join(tmp, 'cut.mp4');
  writeFileSync(cut, readFileSync(full));
  const fd = openSync(cut, 'r+');
  ftruncateSync(fd, 300_000);
  closeSync(fd);
  const { lines, logger } = capture();
  const frames = await lastValueFrom(frameSource({ url: cut, fpsLimit: 5 }, { logger }).pipe(toArray()));
  assert.ok(frames.length > 5 && frames.length < 46, `got ${frames.length} frames`);
  assert.deepEqual(frames.map((f) => f.seq), frames.map((_, i) => i));
  assert.ok(lines.some((l) => /"level":"warn".*truncated/.test(l)), 'a warning says the file was cut');
});

test('a file that is not a video: clear error naming it', { timeout: 30_000 }, async () => {
  const notVideo = path.join(tmp, 'notes.txt');
  writeFileSync(notVideo, 'this is not a video\n'.repeat(100));
  const { logger } = capture();
  await assert.rejects(lastValueFrom(frameSource({ url: notVideo }, { logger })), (e: unknown) => {
    assert.ok(e instanceof IngestError);
    assert.match(e.message, /notes\.txt is not a readable video .*pass a video file/);
    return true;
  });
});

test('a missing path: clear error naming it', async () => {
  const { logger } = capture();
  await assert.rejects(lastValueFrom(frameSource({ url: path.join(tmp, 'nope.mp4') }, { logger })), /video file not found: .*nope\.mp4; check the path/);
});

test('unsubscribing mid-file kills ffmpeg (no orphan)', { timeout: 30_000 }, async (t) => {
  if (!media(t)) return;
  const { logger } = capture();
  const frames = await firstValueFrom(frameSource({ url: CLIP, fpsLimit: 5, realtime: true }, { logger }).pipe(take(3), toArray()));
  assert.equal(frames.length, 3);
  const deadline = Date.now() + 5000;
  while (childFfmpegs().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(childFfmpegs(), []);
});

test('bounded queue with a slow async consumer: drops the oldest and counts them', { timeout: 30_000 }, async (t) => {
  if (!media(t)) return;
  const { logger } = capture();
  const metrics = createMetrics();
  const stats = createIngestStats();
  const onDrop = dropCounter('q', { metrics, stats });
  // The file decodes far faster than a 20 ms-per-frame consumer.
  const done = await lastValueFrom(frameSource({ cameraId: 'q', url: CLIP, fpsLimit: 10 }, { logger, metrics, stats }).pipe(
    boundedQueue(4, onDrop, (f: Frame) => timer(20).pipe(map(() => f.seq))),
    toArray(),
  ));
  assert.ok(stats.framesDropped > 0, 'frames were dropped');
  assert.equal(done.length + stats.framesDropped, stats.framesDecoded, 'every frame is processed or counted as dropped');
  const dropped = (await metrics.framesDropped.get()).values.find((v) => v.labels.reason === 'queue_full');
  assert.equal(dropped?.value, stats.framesDropped);
  assert.ok(done.every((s, i) => i === 0 || s > done[i - 1]), 'order kept');
});

test('with a valve, a slow consumer pauses ffmpeg instead of losing frames (files)', { timeout: 30_000 }, async (t) => {
  if (!media(t)) return;
  const { logger } = capture();
  const stats = createIngestStats();
  const valve = createValve();
  let pauses = 0;
  valve.paused$.subscribe((p) => { if (p) pauses++; });
  const done = await lastValueFrom(frameSource({ url: CLIP, fpsLimit: 5, maxWidth: 320, stallTimeoutMs: 2000 }, { logger, stats, valve }).pipe(
    boundedQueue(4, dropCounter('v', { stats }), (f: Frame) => timer(15).pipe(map(() => f.seq)), { valve }),
    toArray(),
  ));
  assert.ok(pauses > 0, 'the valve closed at least once');
  assert.equal(stats.framesDropped, 0);
  assert.deepEqual(done, done.map((_, i) => i), 'every frame, in order');
  assert.ok(done.length >= 46);
});

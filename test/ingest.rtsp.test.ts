/** Integration: real ffmpeg against a real RTSP server (GStreamer), including loss, auth and give-up. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, lastValueFrom, take, toArray, type Subscription } from 'rxjs';
import type { Frame } from '@emostream/contracts';
import { createLogger, createMetrics } from '@emostream/runtime';
import { createIngestStats, frameSource, IngestError } from '@emostream/ingest';
import { freePort, rtspServerUnavailable, startRtspServer, type RtspServer } from './helpers/rtsp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIP = path.resolve(root, '../shared/data/media/short_hamilton_clip.mp4');
const skip = !existsSync(CLIP) ? `sample media absent: ${CLIP}` : rtspServerUnavailable() ?? false;

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

test('frames arrive from a real RTSP camera over TCP', { skip, timeout: 30_000 }, async () => {
  const server = await startRtspServer({ file: CLIP });
  try {
    const { logger } = capture();
    const stats = createIngestStats();
    const frames = await firstValueFrom(frameSource({ cameraId: 'rtsp1', url: server.url, fpsLimit: 5, maxWidth: 320 }, { logger, stats }).pipe(take(10), toArray()));
    assert.equal(frames.length, 10);
    frames.forEach((f, i) => {
      assert.equal(f.seq, i);
      assert.equal(f.width, 320);
      assert.equal(f.height, 180);
      assert.equal(f.pixels.data.length, 320 * 180 * 3);
      if (i > 0) assert.ok(f.mediaTimeMs > frames[i - 1].mediaTimeMs);
    });
    // 10 frames at 5 fps span 1.8 s of media time (capture times are wall clock: a loaded
    // machine may deliver the first frames in a burst, so they are not asserted on).
    assert.equal(frames[9].mediaTimeMs - frames[0].mediaTimeMs, 1800);
  } finally {
    await server.stop();
  }
});

test('server gone longer than the stall timeout, back on the same port: reconnect counted, frames resume', { skip, timeout: 60_000 }, async () => {
  let server: RtspServer | undefined = await startRtspServer({ file: CLIP });
  const port = server.port;
  const { lines, logger } = capture();
  const metrics = createMetrics();
  const stats = createIngestStats();
  const frames: Frame[] = [];
  let failure: unknown;
  let sub: Subscription | undefined;
  try {
    sub = frameSource({
      cameraId: 'rtsp2', url: server.url, fpsLimit: 5, maxWidth: 320,
      stallTimeoutMs: 2000, readTimeoutMs: 1000, backoffInitialMs: 200, backoffMaxMs: 1000, giveUpAfterMs: 25_000,
    }, { logger, metrics, stats }).subscribe({ next: (f) => frames.push(f), error: (e) => { failure = e; } });
    await waitFor(() => frames.length >= 5, 20_000, 'first frames');
    await server.kill();
    server = undefined;
    const before = frames.length;
    await sleep(3000); // > stallTimeoutMs
    // A frame or two may still sit in the pipe when the server dies.
    assert.ok(frames.length <= before + 3, `frames while the camera was down: ${frames.length - before}`);
    assert.ok(stats.reconnects >= 1, `reconnects while down: ${stats.reconnects}`);
    server = await startRtspServer({ file: CLIP, port });
    const reconnectsAtRestart = stats.reconnects;
    await waitFor(() => frames.length >= before + 5 || failure !== undefined, 25_000, `frames after the camera came back (stats ${JSON.stringify(stats)})`);
    assert.equal(failure, undefined, String(failure));
    assert.ok(reconnectsAtRestart >= 1);
    const restarts = (await metrics.ffmpegRestarts.get()).values.filter((v) => v.labels.camera === 'rtsp2').reduce((s, v) => s + v.value, 0);
    assert.equal(restarts, stats.reconnects);
    frames.forEach((f, i) => {
      assert.equal(f.seq, i, 'seq monotonic across restarts');
      if (i > 0) assert.ok(f.mediaTimeMs > frames[i - 1].mediaTimeMs, `mediaTimeMs rises at ${i}: ${frames[i - 1].mediaTimeMs} → ${f.mediaTimeMs}`);
    });
    // The outage shows as a gap in media time of at least the 3 s the camera was down.
    const gaps = frames.slice(1).map((f, i) => f.mediaTimeMs - frames[i].mediaTimeMs);
    assert.ok(Math.max(...gaps) >= 2000, `largest media-time gap ${Math.max(...gaps)} ms`);
    assert.ok(lines.some((l) => /live source lost; restarting/.test(l)));
  } finally {
    sub?.unsubscribe();
    await server?.stop();
  }
});

test('RTSP with credentials: frames arrive; the password appears in no log line or error', { skip, timeout: 45_000 }, async () => {
  const password = 'S3cr-et_pw9';
  const server = await startRtspServer({ file: CLIP, user: 'viewer', password });
  try {
    const { lines, logger } = capture();
    assert.ok(server.url.includes(password));
    const frames = await firstValueFrom(frameSource({ cameraId: 'auth', url: server.url, fpsLimit: 5, maxWidth: 320 }, { logger }).pipe(take(5), toArray()));
    assert.equal(frames.length, 5);
    assert.ok(frames.every((f) => !JSON.stringify({ ...f, pixels: undefined }).includes(password)));

    // A wrong password: ffmpeg prints the URL in its errors; none of it may leak.
    const wrong = server.url.replace(password, 'Wr0ng-pw77');
    const bad = capture();
    await assert.rejects(lastValueFrom(frameSource({ cameraId: 'auth2', url: wrong, giveUpAfterMs: 3000, backoffInitialMs: 200, backoffMaxMs: 500, readTimeoutMs: 1000 }, { logger: bad.logger })),
      (e: unknown) => {
        assert.ok(e instanceof IngestError);
        assert.ok(!e.message.includes('Wr0ng-pw77'), e.message);
        assert.match(e.message, /rtsp:\/\/\*\*\*@127\.0\.0\.1/);
        assert.match(e.message, /401|Unauthorized|authorization/i);
        return true;
      });
    for (const l of [...lines, ...bad.lines]) {
      assert.ok(!l.includes(password) && !l.includes('Wr0ng-pw77'), `leak in: ${l}`);
    }
    assert.ok(bad.lines.length > 0, 'the failures were logged');
  } finally {
    await server.stop();
  }
});

test('an RTSP URL nobody answers: retries with backoff, then gives up with a redacted message', { skip, timeout: 30_000 }, async () => {
  // A listener that accepts and never replies: only ffmpeg's -timeout gets it out.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  const port = await freePort();
  await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
  try {
    const { lines, logger } = capture();
    const stats = createIngestStats();
    const t0 = Date.now();
    await assert.rejects(lastValueFrom(frameSource({
      cameraId: 'void', url: `rtsp://admin:n0b0dy-h0me@127.0.0.1:${port}/live`,
      readTimeoutMs: 1000, stallTimeoutMs: 2000, backoffInitialMs: 200, backoffMaxMs: 800, giveUpAfterMs: 5000,
    }, { logger, stats })), (e: unknown) => {
      assert.ok(e instanceof IngestError);
      assert.match(e.message, /camera "void": no frame from rtsp:\/\/\*\*\*@127\.0\.0\.1:\d+\/live for \d+ ms/);
      assert.match(e.message, /Check that the camera is on and reachable/);
      assert.ok(!e.message.includes('n0b0dy-h0me'));
      return true;
    });
    const took = Date.now() - t0;
    assert.ok(took >= 5000 && took < 20_000, `gave up after ${took} ms`);
    assert.ok(stats.reconnects >= 2, `retried ${stats.reconnects} times`);
    assert.ok(lines.every((l) => !l.includes('n0b0dy-h0me')));
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

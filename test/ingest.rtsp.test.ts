/** Integration: real ffmpeg against a real RTSP server (GStreamer), including loss, auth and give-up. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, lastValueFrom, take, toArray, type Subscription } from 'rxjs';
import type { Frame } from '@emostream/contracts';
import { createLogger, createMetrics } from '@emostream/runtime';
import { createIngestStats, frameSource, IngestError } from '@emostream/ingest';
import { freePort, rtspServerUnavailable, startRtspServer, type RtspServer } from './helpers/rtsp.js';
import { filesMissing, requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIP = path.resolve(root, '../shared/data/media/short_hamilton_clip.mp4');
/** The sample clip and GStreamer's RTSP server: skipped without them, failed under CI (test/helpers/resources.ts). */
const resources = (t: TestContext) => requireResource(t, 'sample media', filesMissing(CLIP)) && requireResource(t, 'GStreamer RTSP server', rtspServerUnavailable());

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

test('frames arrive from a real RTSP camera over TCP', { timeout: 30_000 }, async (t) => {
  if (!resources(t)) return;
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

test('server gone (retried while down), back on the same port: reconnects counted, no frame while down, frames resume on a media clock that kept running', { timeout: 60_000 }, async (t) => {
  if (!resources(t)) return;
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
      // The test camera's first frame takes 2-2.5 s on a loaded 2-core machine (GStreamer builds a
      // pipeline per client): a 2 s stall limit would restart every run before its first frame.
      stallTimeoutMs: 5000, readTimeoutMs: 1000, backoffInitialMs: 200, backoffMaxMs: 1000, giveUpAfterMs: 25_000,
    }, { logger, metrics, stats }).subscribe({ next: (f) => frames.push(f), error: (e) => { failure = e; } });
    await waitFor('first frames', () => frames.length >= 5, { timeoutMs: 20_000, everyMs: 50 });
    const tKill = Date.now();
    await server.kill();
    server = undefined;
    // The loss is noticed (ffmpeg ends or stalls: a restart is counted), then a retry fails
    // against the absent server (a second restart). Frames still in the pipe when the server
    // died arrive before the loss is noticed; none after it.
    const atLoss = await waitFor('the loss noticed (a restart counted)', () => stats.reconnects >= 1 && frames.length, { timeoutMs: 20_000, everyMs: 10 });
    await waitFor('a retry against the absent server', () => stats.reconnects >= 2, { timeoutMs: 20_000, everyMs: 10 });
    // A camera's clock runs with the wall clock while it is away (from the first frame on): the
    // camera comes back once that clock is 2 s past the last frame seen, so the outage must show
    // as a media-time gap of at least 2 s (the first frames may come in a burst, ahead of it).
    const lastBefore = frames[atLoss - 1].mediaTimeMs;
    await waitFor('the camera\'s clock 2 s past its last frame', () => Date.now() - frames[0].capturedAtMs >= lastBefore + 2000, { timeoutMs: 20_000, everyMs: 20 });
    assert.equal(frames.length, atLoss, 'no frame between the loss and the camera\'s return');
    assert.equal(failure, undefined, String(failure));
    server = await startRtspServer({ file: CLIP, port });
    await waitFor(`frames after the camera came back (stats ${JSON.stringify(stats)})`, () => frames.length >= atLoss + 5 || failure !== undefined, { timeoutMs: 25_000, everyMs: 50 });
    assert.equal(failure, undefined, String(failure));
    const restarts = (await metrics.ffmpegRestarts.get()).values.filter((v) => v.labels.camera === 'rtsp2').reduce((s, v) => s + v.value, 0);
    assert.equal(restarts, stats.reconnects);
    frames.forEach((f, i) => {
      assert.equal(f.seq, i, 'seq monotonic across restarts');
      if (i > 0) assert.ok(f.mediaTimeMs > frames[i - 1].mediaTimeMs, `mediaTimeMs rises at ${i}: ${frames[i - 1].mediaTimeMs} → ${f.mediaTimeMs}`);
    });
    // The outage shows on the media clock where it happened: the first frame after the return is
    // later than the wall time from the first frame to the kill, and at least 2 s after the last
    // frame before it (the camera came back only once its clock had passed that).
    const back = frames[atLoss];
    assert.ok(back.mediaTimeMs >= tKill - frames[0].capturedAtMs, `first frame after the return at ${back.mediaTimeMs} ms of media, the kill ${tKill - frames[0].capturedAtMs} ms after the first frame`);
    assert.ok(back.mediaTimeMs - lastBefore >= 2000, `media-time gap at the outage: ${lastBefore} → ${back.mediaTimeMs} ms`);
    assert.ok(lines.some((l) => /live source lost; restarting/.test(l)));
  } finally {
    sub?.unsubscribe();
    await server?.stop();
  }
});

test('RTSP with credentials: frames arrive; the password appears in no log line or error', { timeout: 45_000 }, async (t) => {
  if (!resources(t)) return;
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

/** The child processes of this one (pid, name, command line, environment), read from /proc. */
function children(): Array<{ pid: number; comm: string; cmdline: string; environ: string }> {
  const read = (f: string) => { try { return fs.readFileSync(f, 'utf8'); } catch { return ''; } };
  const pids = fs.readdirSync(`/proc/${process.pid}/task`).flatMap((t) => read(`/proc/${process.pid}/task/${t}/children`).trim().split(/\s+/).filter(Boolean).map(Number));
  return pids.map((pid) => ({ pid, comm: read(`/proc/${pid}/comm`).trim(), cmdline: read(`/proc/${pid}/cmdline`).replace(/\0/g, ' '), environ: read(`/proc/${pid}/environ`) }));
}

test('RTSP with credentials: the password is in no command line (ffprobe\'s and ffmpeg\'s /proc/<pid>/cmdline, sampled while they run) nor environment', { timeout: 45_000 }, async (t) => {
  if (!resources(t)) return;
  // A quote in the password: the input list on stdin must keep it inside the URL's entry.
  const password = "Pr0c'list-pw7";
  const server = await startRtspServer({ file: CLIP, user: 'viewer', password });
  const seen = new Map<number, { comm: string; cmdline: string; environ: string }>();
  // Every 2 ms: ffprobe lives for the probe only (a few hundred ms against a local camera).
  const sampler = setInterval(() => { for (const c of children()) if (c.pid !== server.pid && c.cmdline) seen.set(c.pid, c); }, 2);
  try {
    const { lines, logger } = capture();
    const frames = await firstValueFrom(frameSource({ cameraId: 'ps', url: server.url, fpsLimit: 5, maxWidth: 320 }, { logger }).pipe(take(5), toArray()));
    assert.equal(frames.length, 5, 'frames arrive through the input list on stdin');
    clearInterval(sampler);
    const procs = [...seen.values()];
    const ffprobe = procs.filter((p) => p.comm === 'ffprobe');
    // fluent-ffmpeg also runs `ffmpeg -formats` and `-encoders` (capability checks): the decoder is the one with an input.
    const ffmpeg = procs.filter((p) => p.comm === 'ffmpeg' && / -i /.test(p.cmdline));
    assert.ok(ffprobe.length >= 1 && ffmpeg.length >= 1, `sampled ffprobe and ffmpeg while they ran: ${procs.map((p) => p.comm).join(', ')}`);
    for (const p of [...ffprobe, ...ffmpeg]) {
      t.diagnostic(`${p.comm}: ${p.cmdline}`);
      assert.match(p.cmdline, /-f concat -safe 0 .*pipe:0/, `${p.comm} reads its input list from stdin`);
    }
    for (const p of procs) {
      assert.ok(!p.cmdline.includes(password) && !p.cmdline.includes('viewer:'), `${p.comm}'s command line holds the credentials: ${p.cmdline}`);
      assert.ok(!p.environ.includes(password), `${p.comm}'s environment holds the password`);
    }
    for (const l of lines) assert.ok(!l.includes(password), `leak in: ${l}`);
  } finally {
    clearInterval(sampler);
    await server.stop();
  }
});

// Needs no RTSP server (a TCP listener that never answers) and no sample media: it always runs.
test('an RTSP URL nobody answers: retries with backoff, then gives up with a redacted message', { timeout: 30_000 }, async () => {
  // A listener that accepts and never replies: only ffmpeg's -timeout gets it out.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  const port = await freePort();
  await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
  try {
    const { lines, logger } = capture();
    const stats = createIngestStats();
    const t0 = Date.now();
    let silentMs = NaN;
    await assert.rejects(lastValueFrom(frameSource({
      cameraId: 'void', url: `rtsp://admin:n0b0dy-h0me@127.0.0.1:${port}/live`,
      readTimeoutMs: 1000, stallTimeoutMs: 2000, backoffInitialMs: 200, backoffMaxMs: 800, giveUpAfterMs: 5000,
    }, { logger, stats })), (e: unknown) => {
      assert.ok(e instanceof IngestError);
      assert.match(e.message, /camera "void": no frame from rtsp:\/\/\*\*\*@127\.0\.0\.1:\d+\/live for \d+ ms/);
      silentMs = Number(/ for (\d+) ms/.exec(e.message)![1]);
      assert.match(e.message, /Check that the camera is on and reachable/);
      assert.ok(!e.message.includes('n0b0dy-h0me'));
      return true;
    });
    // Not before its time (a property of the give-up timer, not a speed): the silence it reports
    // and the wall time it took are both at least giveUpAfterMs.
    assert.ok(silentMs >= 5000, `gave up after ${silentMs} ms without a frame`);
    assert.ok(Date.now() - t0 >= silentMs, `gave up ${Date.now() - t0} ms after the start, reporting ${silentMs} ms of silence`);
    assert.ok(stats.reconnects >= 2, `retried ${stats.reconnects} times`);
    assert.ok(lines.every((l) => !l.includes('n0b0dy-h0me')));
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

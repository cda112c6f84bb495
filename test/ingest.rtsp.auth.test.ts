/**
 * Integration: a real RTSP camera (GStreamer's test server with basic auth) answering 401 to a
 * wrong password: ffprobe and ffmpeg are refused, the source says so naming the camera, counts
 * each refusal as ffmpeg_restarts_total{reason="auth"}, retries with a growing backoff, gives up
 * with a clear error; the password appears nowhere.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { lastValueFrom } from 'rxjs';
import { createLogger, createMetrics } from '@emostream/runtime';
import { frameSource, IngestError } from '@emostream/ingest';
import { MEDIA } from './helpers/model.js';
import { rtspServerUnavailable, startRtspServer } from './helpers/rtsp.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const CLIP = path.join(MEDIA, 'short_hamilton_clip.mp4');
const resources = (t: TestContext) => requireResource(t, 'sample media', filesMissing(CLIP)) && requireResource(t, 'GStreamer RTSP server', rtspServerUnavailable());

test('an RTSP camera answering 401: named, counted as auth, retried with a growing backoff, given up clearly; no password anywhere', { timeout: 60_000 }, async (t) => {
  if (!resources(t)) return;
  const password = 'Right-pw4';
  const server = await startRtspServer({ file: CLIP, user: 'viewer', password });
  try {
    const wrongPw = 'Wr0ng-pw55';
    const url = server.url.replace(password, wrongPw);
    const lines: string[] = [];
    const metrics = createMetrics();
    const source = frameSource({ cameraId: 'lobby', url, giveUpAfterMs: 6_000, backoffInitialMs: 250, backoffMaxMs: 2_000, readTimeoutMs: 2_000 },
      { logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }), metrics });
    const t0 = Date.now();
    const error = await lastValueFrom(source).then(() => undefined, (e: unknown) => e);
    const tookMs = Date.now() - t0;
    assert.ok(error instanceof IngestError, String(error));
    assert.match(error.message, /^camera "lobby": rtsp:\/\/\*\*\*@127\.0\.0\.1:\d+\/\S+ refused its credentials \(401 Unauthorized\) \d+ time\(s\)/);
    const refusals = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => /camera refused the credentials/.test(String(l.msg)));
    assert.ok(refusals.length >= 2, `${refusals.length} refusals in ${tookMs} ms`);
    assert.ok(refusals.every((l) => l.level === 'error' && l.camera === 'lobby'));
    const delays = refusals.map((l) => Number(l.delayMs));
    for (let i = 1; i < delays.length - 1; i++) assert.ok(delays[i] >= delays[i - 1] || delays[i] >= 1_000, `delays grow to the cap: ${delays}`);
    const auth = (await metrics.ffmpegRestarts.get()).values.filter((v) => v.labels.camera === 'lobby' && v.labels.reason === 'auth').reduce((s, v) => s + v.value, 0);
    assert.equal(auth, refusals.length);
    for (const l of [error.message, ...lines]) assert.ok(!l.includes(wrongPw) && !l.includes(password), `leak in: ${l}`);
    t.diagnostic(`${refusals.length} refusals (delays ${delays.join(', ')} ms), given up after ${tookMs} ms`);
  } finally {
    await server.stop();
  }
});

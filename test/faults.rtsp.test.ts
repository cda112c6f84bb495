// Fault suite, cameras: one of two RTSP cameras (real GStreamer servers) goes away for
// OUTAGE_MS while `serve ingest` (a real process) reads both. The frozen camera is detected as a
// stall within the configured timeout, counted in /metrics, retried, and read again soon after
// it returns; the other camera's frames keep flowing, with no stall and no restart. The cameras
// come from EMOSTREAM_SOURCES, one with credentials, which never appear in ingest's output.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureTopics, pipelineTopicSpecs } from '@emostream/kafka';
import { brokerUnavailable, randomTopics } from './helpers/kafka.js';
import { MEDIA } from './helpers/model.js';
import { rtspServerUnavailable, startRtspServer, type RtspServer } from './helpers/rtsp.js';
import {
  exitWhenDone, faultBroker, kafkaFor, outsideFaultRun, report, serviceEnv, sleep, startService, sumOf, waitFor, type Sample, type ServiceProcess,
} from './helpers/faults.js';

const CLIP = path.join(MEDIA, 'woman2.mp4');
const skip = outsideFaultRun ?? (!existsSync(CLIP) ? `sample clip ${CLIP} absent` : rtspServerUnavailable() ?? brokerUnavailable());
// The outage: 30 s (FAULTS_OUTAGE_MS to shorten it; it must stay above the stall timeout).
const OUTAGE_MS = Number(process.env.FAULTS_OUTAGE_MS ?? 30_000);
// ingest's stall timeout for this test: short, so the suite stays short; the service default is 10 s.
const STALL_TIMEOUT_MS = 4_000;
// ffmpeg's own socket timeout; a frozen server ends ffmpeg only after ~4x this (DESIGN.md), so the
// stall timer, not ffmpeg, must be what notices the frozen camera.
const READ_TIMEOUT_MS = 2_000;
// The first part of the outage the server is frozen (SIGSTOP: connection open, no data), the
// rest it is gone (killed: connection refused), then a new server starts on the same port.
const FREEZE_MS = STALL_TIMEOUT_MS + 3_000;
const FPS = 5;
const PASSWORD = 'Cam-s3cret-91';

const servers: RtspServer[] = [];
const procs: ServiceProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.stop().catch(() => {})));
  for (const s of servers) { try { process.kill(s.pid, 'SIGCONT'); } catch { /* gone */ } await s.stop().catch(() => {}); }
  exitWhenDone();
});

interface Point { t: number; decoded: Record<string, number>; stalls: Record<string, number>; restarts: Record<string, number> }

test(`RTSP camera away for ${OUTAGE_MS / 1000} s: stall detected and counted, reconnected after its return, the other camera unaffected`, { skip, timeout: OUTAGE_MS + 180_000 }, async () => {
  assert.ok(OUTAGE_MS > FREEZE_MS, `FAULTS_OUTAGE_MS must exceed ${FREEZE_MS} ms (stall timeout + margin)`);
  const broker = await faultBroker();
  const prefix = randomTopics();
  const { kafka, config } = kafkaFor(broker.brokers, prefix, 2);
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  let away = await startRtspServer({ file: CLIP, user: 'viewer', password: PASSWORD });
  const steady = await startRtspServer({ file: CLIP });
  servers.push(away, steady);
  const ingest = await startService('ingest', {
    tag: 'rtsp-ingest',
    env: serviceEnv(broker.brokers, prefix, 2, {
      EMOSTREAM_SOURCES: `away=${away.url}\nsteady=${steady.url}`,
      INGEST_FPS: String(FPS), INGEST_MAX_WIDTH: '320', INGEST_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS), INGEST_READ_TIMEOUT_MS: String(READ_TIMEOUT_MS),
    }),
  });
  procs.push(ingest);
  await ingest.ready(60_000);

  // The ingest's own /metrics, every 200 ms, as a timeline.
  const timeline: Point[] = [];
  let sampling = true;
  const by = (m: Sample[], name: string, cam: string) => sumOf(m, name, { camera: cam });
  const sampler = (async () => {
    while (sampling) {
      try {
        const m = await ingest.metrics();
        const cams = ['away', 'steady'];
        timeline.push({
          t: Date.now(),
          decoded: Object.fromEntries(cams.map((c) => [c, by(m, 'emostream_frames_decoded_total', c)])),
          stalls: Object.fromEntries(cams.map((c) => [c, by(m, 'emostream_stream_stalls_total', c)])),
          restarts: Object.fromEntries(cams.map((c) => [c, by(m, 'emostream_ffmpeg_restarts_total', c)])),
        });
      } catch { /* a scrape during a busy moment: the next one counts */ }
      await sleep(200);
    }
  })();
  const last = () => timeline[timeline.length - 1];
  await waitFor('10 frames from each camera', () => last()?.decoded.away >= 10 && last()?.decoded.steady >= 10, 60_000);

  const port = away.port;
  const tFreeze = Date.now();
  process.kill(away.pid, 'SIGSTOP');
  await sleep(FREEZE_MS);
  await away.kill();
  await sleep(OUTAGE_MS - FREEZE_MS);
  away = await startRtspServer({ file: CLIP, port, user: 'viewer', password: PASSWORD });
  servers.push(away);
  const tBack = Date.now();
  const atBack = last();
  await waitFor('frames from the camera after its return', () => last().decoded.away > atBack.decoded.away, 60_000);
  const tResumed = last().t;
  await sleep(2_000);
  sampling = false;
  await sampler;

  const at = (t: number) => timeline.filter((p) => p.t <= t).pop()!;
  const firstStall = timeline.find((p) => p.t >= tFreeze && p.stalls.away > at(tFreeze).stalls.away);
  const stallMs = firstStall ? firstStall.t - tFreeze : Infinity;
  // Frames already in flight (ffmpeg's and the RTSP client's buffers) arrive after the freeze;
  // the stall clock starts at the last of them.
  const lastFrame = timeline.filter((p) => p.t <= (firstStall?.t ?? Infinity)).reduce((acc, p, i, xs) => (i > 0 && p.decoded.away > xs[i - 1].decoded.away ? p.t : acc), tFreeze);
  const stallAfterLastMs = firstStall ? firstStall.t - lastFrame : Infinity;
  const reconnectMs = tResumed - tBack;
  const outage = timeline.filter((p) => p.t >= tFreeze && p.t <= tBack);
  const steadyFrames = at(tBack).decoded.steady - at(tFreeze).decoded.steady;
  // The longest time the steady camera's counter stood still during the outage.
  let steadyStill = 0;
  let since = outage[0]?.t ?? tFreeze;
  for (let i = 1; i < outage.length; i++) {
    if (outage[i].decoded.steady > outage[i - 1].decoded.steady) since = outage[i].t;
    steadyStill = Math.max(steadyStill, outage[i].t - since);
  }
  const end = last();

  assert.ok(firstStall, `the frozen camera is counted in emostream_stream_stalls_total (timeline end: ${JSON.stringify(end)})`);
  // A timer property, not a speed: the stall is seen when the configured timeout expires (plus
  // the 200 ms scrape interval and a busy event loop), not when ffmpeg's own 4x timeout would.
  assert.ok(stallAfterLastMs <= STALL_TIMEOUT_MS + 1_500, `stall detected ${stallAfterLastMs} ms after the camera's last frame, ${stallMs} ms after it froze (timeout ${STALL_TIMEOUT_MS} ms)`);
  assert.ok(end.restarts.away >= 2, `restarts of the lost camera counted in emostream_ffmpeg_restarts_total: ${end.restarts.away}`);
  // Bounded by serve's 3 s backoff cap plus ffmpeg's connect and first keyframe, never the 30 s
  // cap a doubling backoff reaches after a long outage (reported below against the 5 s).
  assert.ok(reconnectMs < 3_000 + 12_000, `frames again ${reconnectMs} ms after the camera came back`);
  assert.equal(end.stalls.steady, 0, 'the other camera never stalled');
  assert.equal(end.restarts.steady, 0, 'the other camera was never restarted');
  assert.ok(steadyFrames > 0 && steadyStill < STALL_TIMEOUT_MS, `the other camera kept delivering: ${steadyFrames} frames during the outage, longest pause ${steadyStill} ms`);
  for (const l of ingest.lines) assert.ok(!l.includes(PASSWORD), `the camera password leaked: ${l.slice(0, 200)}`);
  const nominal = (FPS * (tBack - tFreeze)) / 1000;
  report({
    case: `RTSP camera away ${OUTAGE_MS / 1000} s (frozen ${FREEZE_MS / 1000} s, then gone), second camera live`,
    outcome: `stall detected and counted; reconnected ${reconnectMs <= 5_000 ? 'within' : 'later than'} 5 s of its return; other camera unaffected; password never printed`,
    figures: `stall seen ${(stallAfterLastMs / 1000).toFixed(1)} s after the camera's last frame, ${(stallMs / 1000).toFixed(1)} s after the freeze (timeout ${STALL_TIMEOUT_MS / 1000} s, 200 ms scrapes); ${end.restarts.away} restarts counted; first frame ${(reconnectMs / 1000).toFixed(1)} s after the server returned; other camera ${steadyFrames} frames during the outage (${Math.round((100 * steadyFrames) / nominal)}% of ${FPS} fps), longest pause ${(steadyStill / 1000).toFixed(1)} s, 0 stalls, 0 restarts`,
  });
});

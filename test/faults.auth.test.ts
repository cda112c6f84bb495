// Fault suite, an RTSP camera answering 401 (a wrong password in its URL) beside a good camera,
// through the four services: ingest names the refused camera in an error line per attempt (never
// with a password), counts each refusal as emostream_ffmpeg_restarts_total{reason="auth"} and
// retries with a growing, capped backoff for as long as it runs (giveUpAfterMs 0, the service's
// default: the CameraStalled alert tells the operator); the good camera's frames reach the
// aggregator all along; no service exits; no password in any service's log.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineTopics } from '@emostream/kafka';
import { brokerUnavailable } from './helpers/kafka.js';
import { rtspServerUnavailable, startRtspServer } from './helpers/rtsp.js';
import { exitWhenDone, faultBroker, outsideFaultRun, report, sleep, startService, sumOf, type Collector, type ServiceProcess } from './helpers/faults.js';
import { CLIPS, setUpPipeline } from './helpers/stream.js';
import { filesMissing, requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const skip = outsideFaultRun;
const noBroker = brokerUnavailable();
const resources = (t: TestContext) => requireResource(t, 'sample media', filesMissing(CLIPS.a, CLIPS.b)) && requireResource(t, 'Kafka broker', noBroker)
  && requireResource(t, 'GStreamer RTSP server', rtspServerUnavailable());
const FPS = 5;
/** How long the refused camera is watched once the good one's frames flow. */
const WATCH_MS = 25_000;
const RIGHT = 'Right-pw4';
const WRONG = 'Wr0ng-pw55';

let env: Record<string, string>;
let prefix: string;
let collector: Collector;
const procs: ServiceProcess[] = [];

before(async () => {
  if (skip || filesMissing(CLIPS.a, CLIPS.b) || noBroker) return;
  const broker = await faultBroker();
  ({ prefix, env, collector } = await setUpPipeline(broker.brokers, { partitions: 3, fps: FPS }));
}, { timeout: 300_000 });

after(async () => {
  await Promise.all(procs.map((s) => s.stop().catch(() => {})));
  await collector?.stop().catch(() => {});
  exitWhenDone();
});

test('an RTSP camera answering 401 beside a good one: named, counted as auth, retried with a growing backoff, no password printed; the good camera flows, nothing exits', { skip, timeout: 600_000 }, async (t) => {
  if (!resources(t)) return;
  const topics = pipelineTopics(prefix);
  const stages = await Promise.all((['detector', 'classifier', 'aggregator'] as const).map((n) => startService(n, { env, tag: `auth-${n}` })));
  procs.push(...stages);
  await Promise.all(stages.map((s) => s.ready()));
  const good = await startRtspServer({ file: CLIPS.b });
  const locked = await startRtspServer({ file: CLIPS.a, user: 'viewer', password: RIGHT });
  try {
    const lockedUrl = locked.url.replace(RIGHT, WRONG);
    const ingest = await startService('ingest', { env, args: ['--source', `good=${good.url}`, '--source', `locked=${lockedUrl}`], tag: 'auth-ingest' });
    procs.push(ingest);
    const emotionsOf = (cam: string) => collector.of(topics.emotions).filter((s) => s.cameraId === cam && s.kind !== 'end');
    await waitFor('the good camera\'s frames through the classifier', () => emotionsOf('good').length >= 10, { timeoutMs: 120_000 });
    const t0 = Date.now(), goodAt0 = emotionsOf('good').length;
    await sleep(WATCH_MS);
    const goodFrames = emotionsOf('good').length - goodAt0;
    const watchedS = (Date.now() - t0) / 1000;

    type Line = { level?: string; msg?: string; camera?: string; delayMs?: number };
    const parse = (l: string): Line | undefined => { try { return JSON.parse(l) as Line; } catch { return undefined; } };
    const refusals = ingest.lines.map(parse).filter((l): l is Line => !!l && /camera refused the credentials \(401 Unauthorized\)/.test(String(l.msg)));
    assert.ok(refusals.length >= 3, `${refusals.length} refusal lines`);
    assert.ok(refusals.every((l) => l.level === 'error' && l.camera === 'locked'), 'each refusal an error line naming the camera');
    const delays = refusals.map((l) => Number(l.delayMs));
    const cap = 3_000;
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i] >= delays[i - 1] || delays[i] >= cap / 2, `delays grow to the cap: ${delays.join(', ')}`);
    assert.ok(Math.max(...delays) > delays[0], `the backoff grew: ${delays.join(', ')}`);
    const m = await ingest.metrics();
    const auth = sumOf(m, 'emostream_ffmpeg_restarts_total', { camera: 'locked', reason: 'auth' });
    assert.ok(auth >= refusals.length - 1 && auth <= refusals.length + 1, `auth restarts counted ${auth} against ${refusals.length} lines`);
    assert.equal(sumOf(m, 'emostream_ffmpeg_restarts_total', { camera: 'good', reason: 'auth' }), 0);
    assert.equal(collector.of(topics.frames).filter((s) => s.cameraId === 'locked').length, 0, 'no frame of the refused camera');
    assert.ok(goodFrames >= FPS * watchedS * 0.5, `the good camera kept flowing: ${goodFrames} frames in ${watchedS.toFixed(0)} s at ${FPS} fps`);
    for (const s of [...stages, ingest]) {
      assert.ok(s.alive(), `${s.name} still runs`);
      const leak = s.lines.find((l) => l.includes(WRONG) || l.includes(RIGHT));
      assert.equal(leak, undefined, `${s.name} printed a password: ${leak}`);
    }
    const sample = refusals[0].msg;
    report({
      case: 'an RTSP camera answering 401 (a wrong password in its URL) beside a good camera, four services',
      outcome: 'the refused camera named in an error line per attempt, counted as `ffmpeg_restarts_total{reason="auth"}`, retried with a growing backoff capped at 3 s for as long as ingest runs; the good camera\'s frames flowed throughout; no service exited; no password in any log',
      figures: `${refusals.length} refusals in ${watchedS.toFixed(0)} s after the good camera's first frames (delays ${delays.map((d) => Math.round(d)).join(', ')} ms), auth restarts counted ${auth}; the good camera ${goodFrames} frames through the classifier in the same ${watchedS.toFixed(0)} s at ${FPS} fps; 0 frames of the refused camera; the line: "${sample}"`,
    });
  } finally {
    await good.stop();
    await locked.stop();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, from, toArray } from 'rxjs';
import sharp from 'sharp';
import { SCHEMA_VERSION, type FaceBox, type Frame } from '@emostream/contracts';
import { createMetrics, silentLogger, type Logger } from '@emostream/runtime';
import { parseDetectorConfig } from './config.js';
import { detectFaces } from './detectFaces.js';
import type { FaceDetector } from './faceDetector.js';

const W = 160, H = 120;

function rgbFrame(seq: number, cameraId = 'cam'): Frame {
  const data = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) { data[i * 3] = (i * 7) % 256; data[i * 3 + 1] = (i * 3) % 256; data[i * 3 + 2] = seq; }
  return { schemaVersion: SCHEMA_VERSION, cameraId, seq, mediaTimeMs: seq * 40, capturedAtMs: 1e12 + seq, width: W, height: H, pixels: { format: 'rgb', data } };
}

/** A detector that returns the boxes scripted per call and records the sizes it saw. */
function fakeDetector(script: (call: number) => FaceBox[] | Error): FaceDetector & { seen: [number, number][] } {
  let call = 0;
  const seen: [number, number][] = [];
  return {
    name: 'fake', seen,
    async detect(rgb, width, height) {
      assert.equal(rgb.length, width * height * 3);
      seen.push([width, height]);
      // Resolve out of order in time to prove concatMap keeps the frame order.
      const r = script(call++);
      await new Promise((res) => setTimeout(res, call % 2 ? 5 : 0));
      if (r instanceof Error) throw r;
      return r;
    },
    dispose() {},
  };
}

const box = (x: number, y: number, s: number, score = 0.9): FaceBox => ({ box: { x, y, width: s, height: s }, score });

/** A metric's samples as `labels → value`, read from prom-client. */
async function counter(metric: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> }): Promise<Record<string, number>> {
  return Object.fromEntries((await metric.get()).values.map((v) => [JSON.stringify(v.labels), v.value]));
}

test('one message per frame, in order, faces [] when none; crops are 48x48; metrics by reason', async () => {
  const metrics = createMetrics();
  const detector = fakeDetector((i) => [
    [box(10, 10, 60, 0.95), box(90, 20, 50, 0.4)],
    [],
    [box(20, 20, 50, 0.8), box(100, 60, 16, 0.9)],
  ][i]);
  const out = await firstValueFrom(from([0, 1, 2].map((s) => rgbFrame(s))).pipe(
    detectFaces({ detector, logger: silentLogger, metrics, config: parseDetectorConfig({ detectEveryMs: 0 }) }), toArray()));
  assert.deepEqual(out.map((m) => m.frame.seq), [0, 1, 2]);
  assert.deepEqual(out.map((m) => m.faces.length), [1, 0, 1]);
  assert.equal((out[0].frame as Record<string, unknown>).pixels, undefined, 'pixels do not travel on');
  assert.equal(out[0].frame.mediaTimeMs, 0);
  assert.equal(out[0].faces[0].crop.length, 48 * 48);
  assert.equal(out[0].faces[0].score, 0.95);
  assert.deepEqual(await counter(metrics.facesDetected), { '{"camera":"cam"}': 2 });
  assert.deepEqual(await counter(metrics.facesSkipped), {
    '{"camera":"cam","reason":"low_score"}': 1, '{"camera":"cam","reason":"too_small"}': 1,
  });
  assert.deepEqual(await counter(metrics.framesDropped), {}, 'no frame dropped');
  const hist = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'emostream_detect_seconds');
  const count = hist?.values.find((v) => (v as { metricName?: string }).metricName === 'emostream_detect_seconds_count');
  assert.equal(count?.value, 3);
  assert.equal(count?.labels.detector, 'fake');
});

test('a corrupt JPEG or a throwing detector is counted, logged and skipped; the next frame still comes out', async () => {
  const metrics = createMetrics();
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg, f) => warnings.push(`${msg} ${JSON.stringify(f)}`), child: () => logger };
  const detector = fakeDetector((i) => (i === 1 ? new Error('boom') : [box(30, 20, 60)]));
  const good = rgbFrame(0);
  const jpeg = await sharp(good.pixels.data, { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
  const frames: Frame[] = [
    { ...rgbFrame(0), pixels: { format: 'jpeg', data: jpeg } },
    { ...rgbFrame(1), pixels: { format: 'jpeg', data: jpeg.subarray(0, 200) } }, // truncated
    { ...rgbFrame(2), pixels: { format: 'jpeg', data: Buffer.from('not a jpeg at all') } },
    rgbFrame(3), // detector call 1 throws
    rgbFrame(4),
  ];
  const out = await firstValueFrom(from(frames).pipe(
    detectFaces({ detector, logger, metrics, config: parseDetectorConfig({ detectEveryMs: 0 }) }), toArray()));
  assert.deepEqual(out.map((m) => m.frame.seq), [0, 4]);
  assert.deepEqual(out.map((m) => m.faces.length), [1, 1]);
  assert.deepEqual(detector.seen, [[W, H], [W, H], [W, H]], 'the decoded JPEG reached the detector at its size');
  assert.deepEqual(await counter(metrics.framesDropped), { '{"camera":"cam","reason":"detect_error"}': 3 });
  // The dropped frames' faces were never detected: nothing counted as detected or skipped for them.
  assert.deepEqual(await counter(metrics.facesDetected), { '{"camera":"cam"}': 2 });
  assert.deepEqual(await counter(metrics.facesSkipped), {});
  assert.equal(warnings.length, 3);
  assert.match(warnings[2], /boom/);
  assert.match(warnings[0], /"seq":1/);
});

test('with `failed` (the Kafka service), a frame whose detection throws is replaced by its verdict, in its place; still counted as detect_error', async () => {
  const metrics = createMetrics();
  const detector = fakeDetector((i) => (i === 1 ? new Error('boom') : []));
  const out = await firstValueFrom(from([rgbFrame(0), rgbFrame(1), rgbFrame(2)]).pipe(
    detectFaces({ detector, logger: silentLogger, metrics, config: parseDetectorConfig({ detectEveryMs: 0 }), failed: (f, e) => ({ deadLetter: f.seq, why: e.message }) }), toArray()));
  assert.deepEqual(out.map((m) => ('deadLetter' in m ? m : m.frame.seq)), [0, { deadLetter: 1, why: 'boom' }, 2]);
  assert.deepEqual(await counter(metrics.framesDropped), { '{"camera":"cam","reason":"detect_error"}': 1 });
});

test('an rgb frame whose buffer does not match its size is dropped as detect_error', async () => {
  const metrics = createMetrics();
  const bad = { ...rgbFrame(0), width: W + 1 };
  const detector = fakeDetector(() => []);
  const out = await firstValueFrom(from([bad, { ...rgbFrame(2), cameraId: 'door' }]).pipe(
    detectFaces({ detector, logger: silentLogger, metrics, config: parseDetectorConfig({}) }), toArray()));
  assert.deepEqual(out.map((m) => [m.frame.cameraId, m.frame.seq, m.faces.length]), [['door', 2, 0]]);
  assert.deepEqual(detector.seen, [[W, H]], 'the bad frame never reached the detector');
  assert.deepEqual(await counter(metrics.framesDropped), { '{"camera":"cam","reason":"detect_error"}': 1 });
  assert.deepEqual(await counter(metrics.facesDetected), {});
  assert.deepEqual(await counter(metrics.facesSkipped), {});
});

test('maxFaces and minFaceSizePx from the config apply, each dropped face counted by reason', async () => {
  const detector = fakeDetector(() => [box(0, 0, 40, 0.9), box(50, 0, 40, 0.8), box(100, 0, 40, 0.7)]);
  const config = parseDetectorConfig({ maxFaces: 2 });
  const metrics = createMetrics();
  const [m] = await firstValueFrom(from([rgbFrame(0)]).pipe(detectFaces({ detector, logger: silentLogger, config, metrics }), toArray()));
  assert.deepEqual(m.faces.map((f) => f.score), [0.9, 0.8]);
  assert.deepEqual(await counter(metrics.facesSkipped), { '{"camera":"cam","reason":"max_faces"}': 1 });
  assert.deepEqual(await counter(metrics.facesDetected), { '{"camera":"cam"}': 2 });
  const small = createMetrics();
  const [n] = await firstValueFrom(from([rgbFrame(0)]).pipe(
    detectFaces({ detector, logger: silentLogger, config: parseDetectorConfig({ minFaceSizePx: 41 }), metrics: small }), toArray()));
  assert.equal(n.faces.length, 0);
  assert.deepEqual(await counter(small.facesSkipped), { '{"camera":"cam","reason":"too_small"}': 3 });
  assert.deepEqual(await counter(small.facesDetected), {});
});

test('cropOffsetY from the config moves the crop: the same crop as the box moved by that fraction of its height', async () => {
  const run = async (faces: FaceBox[], cropOffsetY: number) => (await firstValueFrom(from([rgbFrame(0)]).pipe(
    detectFaces({ detector: fakeDetector(() => faces), logger: silentLogger, config: parseDetectorConfig({ cropOffsetY, sceneCuts: false, embeddings: false }) }),
    toArray())))[0].faces[0];
  const plain = await run([box(40, 40, 50)], 0);
  const up = await run([box(40, 40, 50)], -0.2);
  const moved = await run([box(40, 30, 50)], 0);
  assert.deepEqual(up.crop, moved.crop);
  assert.notDeepEqual(up.crop, plain.crop);
  assert.deepEqual(up.box, { x: 40, y: 40, width: 50, height: 50 }, 'the box itself is not moved');
});

/**
 * The embedded pipeline as analyze wires it (real ffmpeg, real BlazeFace, the shipped model):
 * each frame is counted once as processed, and a person's face crop reaches the thumbnail hook
 * on the classified face itself, only when asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { createMetrics, loadTf, silentLogger } from '@emostream/runtime';
import { createIngestStats, frameSource, parseSourceConfig } from '@emostream/ingest';
import { createDetector, parseDetectorConfig } from '@emostream/detector';
import { parseAggregatorConfig } from '@emostream/aggregator';
import { DEFAULT_CLASSIFY, createEmbeddedPipeline, openModel, valveFor } from '@emostream/pipeline';
import { MEDIA } from './helpers/model.js';

const CLIP = path.join(MEDIA, 'woman2.mp4');

async function run(withCrops: boolean) {
  const rt = await loadTf('auto');
  const model = await openModel(rt, { pollMs: 0, logger: silentLogger });
  const detectorConfig = parseDetectorConfig({});
  const detector = await createDetector(detectorConfig, { tf: rt });
  const metrics = createMetrics();
  const stats = createIngestStats();
  const src = parseSourceConfig({ cameraId: 'cam0', url: CLIP, fpsLimit: 4, maxWidth: 640, maxHeight: 360 });
  const valve = valveFor(CLIP);
  const crops: Array<{ personId: string; bytes: number }> = [];
  let emotions = 0;
  const pipeline = createEmbeddedPipeline({
    cameraId: 'cam0', detector, detectorConfig, model: model.current, classify: DEFAULT_CLASSIFY,
    aggregator: parseAggregatorConfig({}), queueMaxFrames: src.queueMaxFrames, logger: silentLogger, metrics, backend: rt.provider, stats, valve,
    onEmotions: (m) => {
      emotions++;
      for (const f of m.faces) assert.equal('crop' in f, withCrops, 'a crop is kept on a classified face only when thumbnails are asked for');
    },
    onPersonCrop: withCrops ? (_cam, personId, crop) => crops.push({ personId, bytes: crop.length }) : undefined,
  });
  const out = await lastValueFrom(pipeline.run(frameSource(src, { logger: silentLogger, metrics, stats, valve })).pipe(toArray()));
  await detector.dispose();
  model.close();
  const processed = (await metrics.framesProcessed.get()).values.reduce((a, v) => a + v.value, 0);
  return { out, processed, decoded: stats.framesDecoded, emotions, crops, aggregated: pipeline.aggregator.stats.frames };
}

test('frames_processed_total counts each frame once (it counted twice: 2 per decoded frame)', async () => {
  const r = await run(false);
  assert.ok(r.decoded >= 50, `the 15.5 s clip at 4 fps gives ~62 frames, got ${r.decoded}`);
  assert.equal(r.emotions, r.decoded, 'a file loses no frame');
  assert.equal(r.aggregated, r.decoded);
  assert.equal(r.processed, r.decoded);
  assert.equal(r.out.at(-1)?.kind, 'timelines');
});

test('thumbnails: each confirmed person\'s 48x48 crop reaches the hook on its classified face', async () => {
  const r = await run(true);
  assert.ok(r.crops.length > 0, 'crops of the confirmed person');
  assert.deepEqual([...new Set(r.crops.map((c) => c.personId))], ['p1']);
  assert.ok(r.crops.every((c) => c.bytes === 48 * 48));
});

test('a live camera keeps only its newest frame waiting behind a busy detector (as analyze does); a file loses none', async () => {
  const rt = await loadTf('auto');
  const model = await openModel(rt, { pollMs: 0, logger: silentLogger });
  const detectorConfig = parseDetectorConfig({});
  const detector = await createDetector(detectorConfig, { tf: rt });
  // Six real frames, then offered all at once: the first goes to the detector, the rest wait.
  const src = parseSourceConfig({ cameraId: 'cam0', url: CLIP, fpsLimit: 2, maxWidth: 640, maxHeight: 360 });
  const frames = (await lastValueFrom(frameSource(src, { logger: silentLogger, valve: valveFor(CLIP) }).pipe(toArray()))).slice(0, 6);
  assert.equal(frames.length, 6);
  const runWith = async (valve: ReturnType<typeof valveFor>) => {
    const stats = createIngestStats();
    const seen: number[] = [];
    const pipeline = createEmbeddedPipeline({
      cameraId: 'cam0', detector, detectorConfig, model: model.current, classify: DEFAULT_CLASSIFY,
      aggregator: parseAggregatorConfig({}), queueMaxFrames: 8, logger: silentLogger, backend: rt.provider, stats, valve,
      onEmotions: (m) => seen.push(m.frame.seq),
    });
    await lastValueFrom(pipeline.run(from(frames)).pipe(toArray()));
    return { seen, dropped: stats.framesDropped };
  };
  try {
    // No valve: a live camera. Frames 1-4 were each replaced by a newer one while they waited.
    assert.deepEqual(await runWith(undefined), { seen: [frames[0].seq, frames[5].seq], dropped: 4 });
    // A file (its valve): every frame is analysed, in order.
    assert.deepEqual(await runWith(valveFor(CLIP)), { seen: frames.map((f) => f.seq), dropped: 0 });
  } finally {
    await detector.dispose();
    model.close();
  }
});

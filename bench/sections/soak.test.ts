// The soak's pure parts: its scene (people come and go, some return, the loop point empty),
// the counters and memory read from /metrics, the log of samples read back, and the figures and
// rows made from samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Emotion } from '@emostream/contracts';
import type { FaceAsset } from '../scene/generate.js';
import { describeSoakScene, generateSoakScene } from './soakScene.js';
import { countersOf, logIssues, parseSoakLog, soakPlan, processMemory, soakFigures, soakRows, type MetricSample, type SoakSample } from './soakSamples.js';

const EMO: Emotion[] = ['angry', 'happy', 'sad', 'surprise'];
const catalogue: FaceAsset[] = Array.from({ length: 12 }, (_, s) => EMO.slice(0, 2 + (s % 3)).map((emotion) => ({
  subject: `S${s}`, emotion, path: `/nowhere/S${s}_${emotion}.png`,
}))).flat();

test('soak scene: seeded; people enter and leave at three spots, some return, never twice at once, the first and last second empty', () => {
  const a = generateSoakScene(915, catalogue);
  assert.deepEqual(generateSoakScene(915, catalogue), a, 'same seed, same scene');
  assert.notDeepEqual(generateSoakScene(916, catalogue), a);
  assert.deepEqual([a.width, a.height, a.fps, a.durationMs], [640, 360, 10, 90_000]);
  const d = describeSoakScene(a);
  assert.ok(d.visits >= 9, `${d.visits} visits in 90 s`);
  assert.ok(d.returns >= 1 && d.people > 3, `${d.people} people, ${d.returns} returns`);
  assert.ok(d.maxAtOnce >= 2 && d.maxAtOnce <= 3, `at most ${d.maxAtOnce} at once`);
  for (const f of a.faces) {
    assert.ok(f.enterMs >= 1_000 && f.leaveMs <= a.durationMs - 1_000, `${f.id} inside [1 s, end - 1 s]`);
    assert.ok(f.sizePx >= 90 && f.sizePx <= 120);
    const start = f.path[0];
    const end = f.path[f.path.length - 1];
    const outside = (p: { x: number; y: number }) => p.x < 0 || p.x > a.width || p.y < 0;
    assert.ok(outside(start) && outside(end), `${f.id} walks in from outside and out again`);
    for (const g of a.faces) {
      if (g !== f && g.subject === f.subject) assert.ok(g.leaveMs <= f.enterMs || f.leaveMs <= g.enterMs, `${f.subject} at two spots at once`);
    }
    if (f.returnOf) {
      const first = a.faces.find((g) => g.id === f.returnOf)!;
      assert.equal(first.subject, f.subject);
      assert.ok(first.leaveMs <= f.enterMs);
    }
  }
  assert.throws(() => generateSoakScene(1, catalogue.filter((c) => c.subject < 'S3')), /needs 8/);
});

test('soak plan: an hour with --long (10 min warm-up), 4.5 min by default, 90 s with --quick', () => {
  assert.deepEqual(soakPlan({ quick: false, long: true }), { durationS: 3600, everyS: 30, warmupS: 600, sceneMs: 90_000 });
  assert.equal(soakPlan({ quick: false, long: false }).durationS, 270);
  assert.equal(soakPlan({ quick: true, long: false }).durationS, 90);
});

const metric = (name: string, value: number, labels: Record<string, string> = {}): MetricSample => ({ name, labels, value });

test('processMemory and countersOf read the services\' /metrics; a failed scrape is null, not 0', () => {
  assert.deepEqual(processMemory([metric('emostream_process_resident_memory_bytes', 5e8), metric('emostream_nodejs_heap_size_used_bytes', 1e8)]), { nodeRssBytes: 5e8, heapUsedBytes: 1e8 });
  assert.deepEqual(processMemory(undefined), { nodeRssBytes: null, heapUsedBytes: null });
  assert.deepEqual(processMemory([]), { nodeRssBytes: null, heapUsedBytes: null });
  const c = countersOf({
    ingest: [metric('emostream_frames_decoded_total', 100, { camera: 'soak' }), metric('emostream_frames_dropped_total', 2, { camera: 'soak', reason: 'queue_full' })],
    detector: [metric('emostream_frames_dropped_total', 5, { camera: 'soak', reason: 'shed' }), metric('emostream_faces_detected_total', 150, { camera: 'soak' })],
    aggregator: [
      metric('emostream_events_total', 3, { camera: 'soak', type: 'person.appeared' }), metric('emostream_events_total', 4, { camera: 'soak', type: 'emotion.changed' }),
      metric('emostream_frames_processed_total', 93, { camera: 'soak' }), metric('emostream_persons_active', 2, { camera: 'soak' }),
    ],
  });
  assert.deepEqual(c, { framesDecoded: 100, framesDroppedAtIngest: 2, framesShedAtDetector: 5, facesDetected: 150, framesAtAggregator: 93, events: 7, appeared: 3, personsActive: 2 });
  assert.equal(countersOf({}).framesDecoded, null);
});

/** A sample at tS with the aggregator's RSS growing 1 MiB a minute and the detector's lag `lag`. */
function sample(tS: number, lag: number): SoakSample {
  const svc = (rss: number) => ({ alive: true, rssBytes: rss, nodeRssBytes: rss, heapUsedBytes: rss / 4 });
  return {
    tS, at: new Date(tS * 1000).toISOString(),
    services: { ingest: svc(200 * 2 ** 20), detector: svc(900 * 2 ** 20), classifier: svc(600 * 2 ** 20), aggregator: svc((300 + tS / 60) * 2 ** 20) },
    lag: { detector: lag, classifier: 0, aggregator: null }, stateBytes: 4000, stateRecords: tS, counters: countersOf({}), personsDistinct: 5, returning: 1, load1: 1.5,
  };
}

test('parseSoakLog reads every sample and counts the rest; soakFigures fits after the warm-up; soakRows names each series', () => {
  const lines = [0, 30, 60, 90, 120, 150].map((t) => JSON.stringify(sample(t, t < 60 ? 50 : 3))).join('\n');
  const { samples, badLines } = parseSoakLog(`${lines}\nnot json\n{"tS":"x"}\n{"tS": 5}\n\n`);
  assert.equal(samples.length, 6);
  assert.equal(badLines, 3);
  const f = soakFigures(samples, 60);
  assert.ok(Math.abs(f.rss.aggregator.slopePerHour! - 60 * 2 ** 20) < 1, `aggregator +60 MiB/h: ${f.rss.aggregator.slopePerHour}`);
  assert.equal(f.rss.detector.slopePerHour, 0);
  assert.equal(f.lag.detector.slopePerHour, 0, 'the warm-up\'s lag of 50 is left out of the fit');
  assert.equal(f.lag.detector.max, 50, 'but counts for the max');
  assert.equal(f.lag.aggregator.samples, 0, 'a failed lag call is no sample');
  assert.equal(f.stateBytes.slopePerHour, 0);
  assert.equal(f.spanS, 150);
  const rows = soakRows(f);
  assert.equal(rows.length, 4 + 3 + 2);
  const agg = rows.find((r) => r.figure === 'aggregator RSS slope')!;
  assert.equal(agg.value, '60 MiB/h');
  assert.match(agg.detail!, /RSS 300 → 302.5 MiB/);
  assert.match(rows.find((r) => r.figure === 'detector consumer lag slope')!.detail!, /max 50/);
});

test('logIssues: errors split at the soak\'s start, warnings counted during it, the most frequent error, stray lines errors only when they say so', () => {
  const j = (t: string, level: string, msg: string) => JSON.stringify({ t, level, msg });
  const lines = [
    j('2026-12-04T10:00:00.000Z', 'error', 'The coordinator is loading'),
    'I0000 00:00:1796427779.684261 port.cc:153] oneDNN custom operations are on ... floating-point round-off errors ...',
    j('2026-12-04T10:01:00.000Z', 'info', 'fine'),
    j('2026-12-04T10:01:10.000Z', 'warn', 'slow'),
    j('2026-12-04T10:01:20.000Z', 'error', 'broker gone'),
    'Error: unhandled thing',
    j('2026-12-04T10:01:30.000Z', 'error', 'broker gone'),
    '',
  ];
  assert.deepEqual(logIssues(lines, '2026-12-04T10:00:30.000Z'), { startErrors: 1, errors: 3, warnings: 1, mostFrequent: '2x broker gone' });
  assert.deepEqual(logIssues(lines, '2026-12-05T00:00:00.000Z'), { startErrors: 4, errors: 0, warnings: 0 });
});

// The distributed mode against a real Kafka broker (random topic names per test): the same clip
// gives the same faces, classifications and persons embedded and over Kafka, and the events are
// exactly those the classified frames on the topic imply; an aggregator restart mid-stream loses
// no frame and doubles no event; bad messages land in the dead-letter topics while good ones
// flow; two classifiers in one group share the load.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { concatMap, from, lastValueFrom, toArray, filter, map } from 'rxjs';
import { EMOTIONS, SCHEMA_VERSION, type EmotionEvent, type EmotionsMessage } from '@emostream/contracts';
import { createMetrics, loadTf, silentLogger, type TfRuntime } from '@emostream/runtime';
import { createValve, frameSource } from '@emostream/ingest';
import { createDetector, parseDetectorConfig, type FaceDetector } from '@emostream/detector';
import { loadEmotionModel, type EmotionModel } from '@emostream/classifier';
import { Aggregator, parseAggregatorConfig } from '@emostream/aggregator';
import { buildModel, saveModelDir, PAPER_ARCHITECTURE, modelsRoot, type ModelCard } from '@emostream/model';
import {
  HEADER, createKafka, createProducer, ensureTopics, header, kafkaConfigFromEnv, partitionForKey, pipelineTopicSpecs, pipelineTopics,
  encodeFrame, encodeControl, decodeControl, decodeEmotions, sendCapped, toJpegFrame, type Kafka, type KafkaConfig, type KafkaMessage, type RunningStage,
} from '@emostream/kafka';
import { embeddedPipeline, startAggregator, startClassifier, startDetector, startIngest, subscribeEvents, type ServiceDeps } from '@emostream/pipeline';
import { brokerUnavailable, ensureBroker, randomTopics } from './helpers/kafka.js';
import { framesAt } from './helpers/media.js';
import { filesMissing, requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const CLIP = path.resolve('../shared/data/media/short_hamilton_clip.mp4');
// 4 fps keeps the file under the time budget on 2 cores; one frame interval is 250 ms.
const FPS = 4;
const FRAME_MS = 1000 / FPS;
const mediaMissing = filesMissing(CLIP);
const noBroker = brokerUnavailable();
/** The sample clip and a Kafka broker: skipped without them, failed under CI (test/helpers/resources.ts). */
const resources = (t: TestContext) => requireResource(t, 'sample media', mediaMissing) && requireResource(t, 'Kafka broker', noBroker);

let brokers: string[];
let rt: TfRuntime;
let detector: FaceDetector;
let model: EmotionModel;
const detectorConfig = parseDetectorConfig({});
const aggregatorConfig = parseAggregatorConfig({});
const classify = { maxWaitMs: 20, maxBatchFrames: 16 };
let reference: EmotionEvent[] = [];
/** The embedded run's classified frames (the reference for the emotions topic). */
let referenceFrames: EmotionsMessage[] = [];
const running: Array<{ stop(): Promise<void> }> = [];

async function modelDir(): Promise<string> {
  if (existsSync(path.join(modelsRoot(), 'DEFAULT'))) return path.join(modelsRoot(), (await fs.readFile(path.join(modelsRoot(), 'DEFAULT'), 'utf8')).trim());
  // No shipped model: an untrained one of the real architecture (both modes run the same one).
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'emo-dist-model-'));
  const m = buildModel(rt.tf, PAPER_ARCHITECTURE, 7);
  const card = { name: 'paper', version: 'untrained-test', createdAt: new Date().toISOString(), architecture: PAPER_ARCHITECTURE, parameters: m.countParams(), labels: [...EMOTIONS], preprocessing: 'test', training: {}, evaluation: {} } satisfies ModelCard;
  await saveModelDir(m, dir, card);
  m.dispose();
  return dir;
}

function setup(prefix: string, partitions = 3): { kafka: Kafka; config: KafkaConfig; deps: ServiceDeps } {
  const config = kafkaConfigFromEnv({}, { brokers, topicPrefix: prefix, partitions, sessionTimeoutMs: 10_000 });
  const kafka = createKafka(config, 'test', silentLogger);
  return { kafka, config, deps: { kafka, config, logger: silentLogger, metrics: createMetrics() } };
}

const sourceSettings = { fpsLimit: FPS };
const summary = (e: EmotionEvent) => `${e.cameraId} ${e.type} ${e.personId} ${e.emotion}`;

/**
 * The events of persons seen for at least a second, persons renumbered in order of appearance.
 * Why not every event: a track confirmed on its very last frame (3 of 5 frames at 4 fps) flips
 * between runs of the same frames in different processes (observed: ~1 run in 2 on a loaded
 * 2-core machine, embedded vs distributed alike).
 */
function stable(events: EmotionEvent[]): EmotionEvent[] {
  const span = new Map<string, [number, number]>();
  for (const e of events) {
    const k = `${e.cameraId}/${e.personId}`;
    const s = span.get(k) ?? [e.mediaTimeMs, e.mediaTimeMs];
    span.set(k, [Math.min(s[0], e.mediaTimeMs), Math.max(s[1], e.mediaTimeMs)]);
  }
  const keep = events.filter((e) => { const s = span.get(`${e.cameraId}/${e.personId}`)!; return s[1] - s[0] >= 1000; });
  return renumber(keep);
}

/** Persons renumbered q1, q2, … in order of appearance, events sorted by media time. */
function renumber(events: EmotionEvent[]): EmotionEvent[] {
  const ids = new Map<string, string>();
  for (const e of events) if (e.type === 'person.appeared') ids.set(`${e.cameraId}/${e.personId}`, `q${ids.size + 1}`);
  return events.map((e) => ({ ...e, personId: ids.get(`${e.cameraId}/${e.personId}`) ?? e.personId }))
    .sort((a, b) => a.mediaTimeMs - b.mediaTimeMs || a.personId.localeCompare(b.personId) || a.type.localeCompare(b.type));
}

// Float tolerance of one probability, embedded vs distributed. The two runs batch faces
// differently, and a convolution over a batch of 16 need not round like one over a batch of 3
// (5e-7 measured here; oneDNN picks kernels by CPU and batch size). The live decision could turn such a
// difference into another emotion.changed event if two emotions tied within it, so
// events are compared with the replay of the topic's own classifications, and with the embedded
// run's only where the classifications are identical. (The CI failure that led here was not
// that: the embedded run had lost a frame, see boundedQueue's valve slack.)
const PROBABILITY_TOLERANCE = 1e-3;

/** Distinct classified frames by seq (a redelivered frame counts once; its copies must agree). */
function bySeq(frames: EmotionsMessage[]): Map<number, EmotionsMessage> {
  const m = new Map<number, EmotionsMessage>();
  for (const f of frames) if (!m.has(f.frame.seq)) m.set(f.frame.seq, f);
  return m;
}

/**
 * The classified frames of one camera over Kafka against the embedded run's: every frame once,
 * the same faces in the same boxes, the same probabilities within {@link PROBABILITY_TOLERANCE}.
 * Returns the largest probability difference.
 */
function assertSameClassifications(gotAll: EmotionsMessage[], wantAll: EmotionsMessage[], label: string): number {
  const got = bySeq(gotAll), want = bySeq(wantAll);
  assert.deepEqual([...got.keys()].sort((a, b) => a - b), [...want.keys()].sort((a, b) => a - b), `${label}: every frame classified`);
  let maxDiff = 0;
  for (const [seq, w] of want) {
    const g = got.get(seq)!;
    assert.equal(g.faces.length, w.faces.length, `${label}: frame ${seq} has ${w.faces.length} faces`);
    g.faces.forEach((f, i) => {
      for (const k of ['x', 'y', 'width', 'height'] as const) {
        assert.ok(Math.abs(f.box[k] - w.faces[i].box[k]) <= 0.01, `${label}: frame ${seq} face ${i} box ${k} ${f.box[k]} vs ${w.faces[i].box[k]}`);
      }
      for (const e of EMOTIONS) maxDiff = Math.max(maxDiff, Math.abs(f.probabilities[e] - w.faces[i].probabilities[e]));
    });
  }
  assert.ok(maxDiff <= PROBABILITY_TOLERANCE, `${label}: probabilities differ by up to ${maxDiff}`);
  return maxDiff;
}

/** The persons of the lasting tracks (appeared and left, with their times), embedded vs Kafka. */
function assertSamePersons(gotAll: EmotionEvent[], wantAll: EmotionEvent[], label: string) {
  const persons = (es: EmotionEvent[]) => stable(es).filter((e) => e.type !== 'emotion.changed');
  const got = persons(gotAll), want = persons(wantAll);
  assert.ok(want.length >= 4, `${label}: the reference has lasting persons`);
  assert.deepEqual(got.map((e) => `${e.cameraId} ${e.type} ${e.personId}`), want.map((e) => `${e.cameraId} ${e.type} ${e.personId}`), `${label}: same persons`);
  got.forEach((e, i) => assert.ok(Math.abs(e.mediaTimeMs - want[i].mediaTimeMs) <= FRAME_MS, `${label}: event ${i} at ${e.mediaTimeMs} ms vs ${want[i].mediaTimeMs} ms`));
}

/**
 * The events the aggregator service emitted are exactly (type, person, emotion, media time, in
 * that order) those a fresh in-process aggregator derives from the emotions topic read in
 * order: nothing lost, nothing doubled, whatever restarts happened in between.
 */
async function assertEventsFollowTopic(events: EmotionEvent[], topic: KafkaMessage[], cameraId: string, label: string): Promise<void> {
  const replay = new Aggregator({ config: aggregatorConfig });
  const want: EmotionEvent[] = [];
  for (const m of topic) {
    const control = decodeControl(m);
    if (control) {
      if (control.type === 'end' && control.cameraId === cameraId) want.push(...replay.end(cameraId));
      continue;
    }
    const d = decodeEmotions(m);
    if (d.ok && d.value.frame.cameraId === cameraId) want.push(...replay.push(d.value));
  }
  assert.ok(want.length > 0, `${label}: the topic's frames imply events`);
  const mine = () => events.filter((e) => e.cameraId === cameraId);
  await waitFor(`${want.length} events of ${cameraId}`, () => mine().length >= want.length, { timeoutMs: 30_000 }).catch(() => {});
  // A moment more: an event beyond the expected ones would be a doubled one.
  await new Promise((r) => setTimeout(r, 500));
  const full = (e: EmotionEvent) => `${summary(e)} @${e.mediaTimeMs}`;
  assert.deepEqual(renumber(mine()).map(full), renumber(want).map(full), `${label}: the events are exactly those of the classified frames`);
}

/** Collects the events topic (read_committed) from the beginning. */
async function collectEvents(config: KafkaConfig): Promise<{ events: EmotionEvent[]; stop(): Promise<void> }> {
  const events: EmotionEvent[] = [];
  const sub = await subscribeEvents({ config, logger: silentLogger, fromBeginning: true, onEvent: (e) => events.push(e) });
  running.push(sub);
  return { events, stop: sub.stop };
}

/** Reads a topic from the beginning until `n` messages (or `until` says so). */
async function readTopic(kafka: Kafka, topic: string, until: number | ((got: KafkaMessage[]) => boolean), timeoutMs = 60_000): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}` });
  const got: KafkaMessage[] = [];
  const done = typeof until === 'number' ? () => got.length >= until : () => until(got);
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message); } });
    await waitFor(`${typeof until === 'number' ? `${until} messages` : 'the messages'} on ${topic}`, done, { timeoutMs });
    return got;
  } finally {
    await consumer.disconnect();
  }
}

/** The emotions topic up to the end marker of every camera named (read_committed, in order). */
async function readEmotionsTopic(kafka: Kafka, config: KafkaConfig, cameras: string[]): Promise<{ messages: KafkaMessage[]; frames(cameraId: string): EmotionsMessage[] }> {
  const ended = (got: KafkaMessage[]) => cameras.every((c) => got.some((m) => { const k = decodeControl(m); return k?.type === 'end' && k.cameraId === c; }));
  const messages = await readTopic(kafka, pipelineTopics(config.topicPrefix).emotions, ended);
  return {
    messages,
    frames: (cameraId) => messages.flatMap((m) => { const d = decodeEmotions(m); return d.ok && d.value.frame.cameraId === cameraId ? [d.value] : []; }),
  };
}

before(async () => {
  if (mediaMissing || noBroker) return; // each test skips (or, under CI, fails) naming what is missing
  brokers = await ensureBroker();
  rt = await loadTf();
  detector = await createDetector(detectorConfig, { tf: rt });
  model = await loadEmotionModel(rt.tf, { model: await modelDir() });
  // The embedded reference: the same JPEG frames ingest sends, through the embedded pipeline.
  const valve = createValve();
  const frames$ = frameSource({ cameraId: 'cam0', url: CLIP, ...sourceSettings }, { logger: silentLogger, valve }).pipe(concatMap((f) => from(toJpegFrame(f))));
  const out = await lastValueFrom(embeddedPipeline(frames$, {
    cameraId: 'cam0', detector, detectorConfig, model: () => model, classify, aggregator: aggregatorConfig, queueMaxFrames: 8,
    logger: silentLogger, valve, backend: rt.provider, onEmotions: (m) => { referenceFrames.push(m); },
  }).pipe(filter((o) => o.kind === 'event'), map((o) => (o as { event: EmotionEvent }).event), toArray()));
  reference = out;
}, { timeout: 180_000 });

after(async () => {
  // In parallel: each kafkajs consumer waits out its in-flight fetch (up to 5 s) when it leaves.
  await Promise.all(running.map((r) => r.stop().catch(() => {})));
  await detector?.dispose();
  model?.dispose();
});

async function startStages(deps: ServiceDeps, opts: { classifiers?: number; maxFramePixels?: number } = {}) {
  const det = await startDetector({ ...deps, detector, detectorConfig, maxFramePixels: opts.maxFramePixels });
  running.push(det);
  const cls: RunningStage[] = [];
  for (let i = 0; i < (opts.classifiers ?? 1); i++) {
    const c = await startClassifier({ ...deps, model: () => model, classify, backend: rt.provider });
    running.push(c);
    cls.push(c);
  }
  const agg = await startAggregator({ ...deps, aggregatorConfig });
  running.push(agg);
  return { det, cls, agg };
}

test('the same clip gives the same faces, classifications and persons embedded and over Kafka; the events follow the topic', { timeout: 120_000 }, async (t) => {
  if (!resources(t)) return;
  assert.ok(reference.some((e) => e.type === 'person.appeared'), 'the reference run finds at least one person');
  const seqs = referenceFrames.map((m) => m.frame.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => i), 'the embedded run of a file classifies every frame, in order (the valve loses none)');
  const clipFrames = framesAt(CLIP, FPS);
  assert.equal(seqs.length, clipFrames, `the clip at ${FPS} fps has ${clipFrames} frames (ffmpeg's count)`);
  const { config, kafka, deps } = setup(randomTopics());
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  const { agg } = await startStages(deps);
  const events = await collectEvents(config);
  const ingest = startIngest([{ cameraId: 'cam0', url: CLIP, settings: sourceSettings }], deps);
  const s = await ingest.done;
  assert.equal(s.cameras.cam0.produced, clipFrames, `every frame of the clip produced (${clipFrames} at ${FPS} fps, ffmpeg's count)`);
  assert.equal(s.cameras.cam0.decoded, clipFrames, 'ingest decoded each frame once');
  assert.equal(s.cameras.cam0.dropped, 0, 'a file source loses no frame');
  await waitFor('the end of cam0 at the aggregator', () => agg.stats.controls >= 1);
  const topic = await readEmotionsTopic(kafka, config, ['cam0']);
  const maxDiff = assertSameClassifications(topic.frames('cam0'), referenceFrames, 'distributed vs embedded');
  t.diagnostic(`largest probability difference, distributed vs embedded: ${maxDiff}`);
  await assertEventsFollowTopic(events.events, topic.messages, 'cam0', 'distributed');
  assertSamePersons(events.events, reference, 'distributed vs embedded');
  // The classifications agree within the tolerance (maxDiff above); so do the events of the lasting persons.
  assert.deepEqual(stable(events.events).map(summary), stable(reference).map(summary), `the same events embedded and over Kafka (probabilities within ${maxDiff})`);
  assert.equal(agg.aggregator.stats.frames, s.cameras.cam0.produced, 'every produced frame reached the aggregator once');
});

test('an aggregator restart mid-stream loses no frame and doubles no event', { timeout: 120_000 }, async (t) => {
  if (!resources(t)) return;
  const { config, kafka, deps } = setup(randomTopics());
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  const { agg } = await startStages(deps);
  const events = await collectEvents(config);
  const ingest = startIngest([{ cameraId: 'cam0', url: CLIP, settings: sourceSettings }], deps);
  // Stop it once it has handled part of the clip, then start a new one: it restores the state topic.
  await waitFor('the first aggregator to process frames', () => agg.aggregator.stats.frames >= 8);
  const before = agg.aggregator.stats.frames;
  await agg.stop();
  const agg2 = await startAggregator({ ...deps, aggregatorConfig });
  running.push(agg2);
  const s = await ingest.done;
  assert.equal(s.cameras.cam0.produced, framesAt(CLIP, FPS), 'every frame of the clip produced');
  await waitFor('the end of cam0 at the restarted aggregator', () => agg2.stats.controls >= 1);
  const topic = await readEmotionsTopic(kafka, config, ['cam0']);
  assertSameClassifications(topic.frames('cam0'), referenceFrames, 'with a restart');
  await assertEventsFollowTopic(events.events, topic.messages, 'cam0', 'with a restart');
  assertSamePersons(events.events, reference, 'with a restart');
  const keys = events.events.map((e) => `${summary(e)} ${e.mediaTimeMs}`);
  assert.equal(new Set(keys).size, keys.length, 'no event twice');
  // Frames before the stop were in the restored state; the rest were processed by the new one.
  assert.equal(before + agg2.aggregator.stats.frames, s.cameras.cam0.produced, 'every frame processed exactly once across the restart');
});

test('bad messages of every kind go to the dead-letter topics with their reason; good ones keep flowing', { timeout: 120_000 }, async (tc) => {
  if (!resources(tc)) return;
  const { config, kafka, deps } = setup(randomTopics(), 1);
  const t = pipelineTopics(config.topicPrefix);
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  // EMOSTREAM_MAX_FRAME_PIXELS as serve passes it: the 64x64 frames pass, a 128x64 one does not.
  await startStages(deps, { maxFramePixels: 64 * 64 });
  const producer = createProducer(kafka);
  await producer.connect();
  running.push({ stop: () => producer.disconnect() });
  const ref = { schemaVersion: SCHEMA_VERSION, cameraId: 'bad', seq: 0, mediaTimeMs: 0, capturedAtMs: Date.now(), width: 64, height: 64 };
  const jpeg = await toJpegFrame({ ...ref, pixels: { format: 'rgb', data: Buffer.alloc(64 * 64 * 3, 128) } });
  const wide = await toJpegFrame({ ...ref, width: 128, pixels: { format: 'rgb', data: Buffer.alloc(128 * 64 * 3, 128) } });
  const good = (seq: number) => encodeFrame({ ...jpeg, cameraId: 'good', seq, mediaTimeMs: seq * 250, capturedAtMs: Date.now() + seq });
  const frameMsg = (headers: Record<string, string>, value: Buffer) => ({ key: 'bad', value, headers });
  const frames = [
    good(0),
    frameMsg({ [HEADER.frame]: '{not json' }, jpeg.pixels.data),
    frameMsg({ [HEADER.frame]: JSON.stringify({ ...ref, schemaVersion: 2 }) }, jpeg.pixels.data),
    frameMsg({ [HEADER.schema]: '7', [HEADER.frame]: JSON.stringify(ref) }, jpeg.pixels.data),
    frameMsg({ [HEADER.frame]: JSON.stringify({ ...ref, width: -1 }) }, jpeg.pixels.data),
    frameMsg({ [HEADER.frame]: JSON.stringify(ref) }, Buffer.from('not a jpeg at all')),
    frameMsg({ [HEADER.frame]: JSON.stringify(ref) }, jpeg.pixels.data.subarray(0, Math.floor(jpeg.pixels.data.length / 2))),
    frameMsg({ [HEADER.frame]: JSON.stringify({ ...ref, width: 128 }) }, wide.pixels.data),
    frameMsg({ [HEADER.frame]: JSON.stringify(ref) }, wide.pixels.data),
    frameMsg({ [HEADER.frame]: JSON.stringify({ ...ref, cameraId: 'a{b="c"}' }) }, jpeg.pixels.data),
    encodeControl({ type: 'end', cameraId: 'bad cam' }),
    good(1),
    encodeControl({ type: 'end', cameraId: 'good' }),
  ];
  const faces = [
    { key: 'bad', value: Buffer.from('garbage'), headers: {} },
    { key: 'bad', value: Buffer.concat([Buffer.from([0x45, 0x53, 1, 1, 0, 0, 0, 2]), Buffer.from('{}')]), headers: {} },
  ];
  const emotions = [
    { key: 'bad', value: Buffer.from('{"frame":'), headers: {} },
    { key: 'bad', value: Buffer.from(JSON.stringify({ frame: { ...ref, schemaVersion: 99 }, faces: [], modelVersion: 'x' })), headers: {} },
    { key: 'bad', value: Buffer.from(JSON.stringify({ frame: { ...ref, cameraId: 'x'.repeat(65) }, faces: [], modelVersion: 'x' })), headers: {} },
  ];
  await sendCapped(producer, [{ topic: t.frames, messages: frames }, { topic: t.faces, messages: faces }, { topic: t.emotions, messages: emotions }], config.maxBytesPerSend);
  const reasons = async (topic: string, n: number) => (await readTopic(kafka, topic, n)).map((m) => header(m, HEADER.dlqReason));
  assert.deepEqual(await reasons(t.dlq.frames, 10), [
    'malformed', 'schema_version', 'schema_version', 'malformed', 'undecodable_image', 'undecodable_image', 'frame_too_large', 'frame_too_large', 'malformed', 'malformed',
  ]);
  assert.deepEqual(await reasons(t.dlq.faces, 2), ['malformed', 'malformed']);
  assert.deepEqual(await reasons(t.dlq.emotions, 3), ['malformed', 'schema_version', 'malformed']);
  const dead = await readTopic(kafka, t.dlq.frames, 10);
  assert.equal(header(dead[0], HEADER.dlqStage), 'detector');
  assert.match(header(dead[0], HEADER.dlqDetail) ?? '', /not JSON/);
  assert.equal(header(dead[6], HEADER.dlqDetail), 'frame bad#0: 128x64 = 8192 pixels by its header, over the cap of 4096 pixels (EMOSTREAM_MAX_FRAME_PIXELS); not decoded');
  assert.match(header(dead[7], HEADER.dlqDetail) ?? '', /^frame bad#0: its JPEG has 128x64 = 8192 pixels \(its header says 64x64\), over the cap of 4096 pixels/);
  assert.match(header(dead[8], HEADER.dlqDetail) ?? '', /^frame header: cameraId: a camera id is 1-64 characters/);
  assert.equal(header(dead[9], HEADER.dlqDetail), 'end marker with camera id "bad cam": a camera id is 1-64 characters of A-Z a-z 0-9 . _ -');
  // The good frames around the bad ones went all the way through, and the end marker after them.
  const out = await readTopic(kafka, t.emotions, 5);
  const good0 = out.filter((m) => header(m, HEADER.kind) === 'emotions').map((m) => JSON.parse(m.value!.toString()).frame);
  assert.deepEqual(good0.filter((f) => f.cameraId === 'good').map((f) => f.seq), [0, 1]);
  assert.ok(out.some((m) => header(m, HEADER.kind) === 'end'), 'the end marker passed the detector and the classifier');
  const metrics = await (deps.metrics!.registry.getSingleMetricAsString('emostream_dead_letters_total'));
  assert.match(metrics, /stage="detector",reason="undecodable_image"} 2/);
  assert.match(metrics, /stage="detector",reason="frame_too_large"} 2/);
  assert.match(metrics, /stage="detector",reason="malformed"} 4/);
  assert.match(metrics, /stage="aggregator",reason="malformed"} 2/);
});

test('two classifiers in one group share the load and lose nothing', { timeout: 150_000 }, async (t) => {
  if (!resources(t)) return;
  const { config, kafka, deps } = setup(randomTopics(), 2);
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  // Two cameras on different partitions, so each classifier gets one.
  const cams = ['camA', 'camB', 'camC', 'camD', 'camE'];
  const a = cams.find((c) => partitionForKey(c, 2) === 0)!;
  const b = cams.find((c) => partitionForKey(c, 2) === 1)!;
  const { cls, agg } = await startStages(deps, { classifiers: 2 });
  await waitFor('both classifiers in the group', () => cls.every((c) => c.ready().ok));
  const events = await collectEvents(config);
  const half = { fpsLimit: FPS };
  await startIngest([{ cameraId: a, url: CLIP, settings: half }, { cameraId: b, url: CLIP, settings: half }], deps).done;
  await waitFor('the end of both cameras', () => agg.stats.controls >= 2, { timeoutMs: 90_000 });
  // One partition, so one camera, each (both were in the group before the first frame): its
  // frames and its end marker, each once.
  const perCamera = framesAt(CLIP, FPS) + 1;
  assert.deepEqual(cls.map((c) => c.stats.consumed), [perCamera, perCamera], `each classifier consumed one camera's ${perCamera - 1} frames and its end marker`);
  const topic = await readEmotionsTopic(kafka, config, [a, b]);
  for (const cam of [a, b]) {
    assertSameClassifications(topic.frames(cam), referenceFrames, `camera ${cam}`);
    await assertEventsFollowTopic(events.events, topic.messages, cam, `camera ${cam}`);
    assertSamePersons(events.events.filter((e) => e.cameraId === cam), reference.map((e) => ({ ...e, cameraId: cam })), `camera ${cam}`);
  }
});

test('stopping ingest ends its sources: no ffmpeg is left running, done resolves', { timeout: 60_000 }, async (t) => {
  if (!resources(t)) return;
  const { config, kafka, deps } = setup(randomTopics(), 1);
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  const ffmpegChildren = () => {
    const r = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    return r.stdout.split('\n').filter((l) => /ffmpeg/.test(l)).length;
  };
  // Read at the clip's own pace: it would run for 10 s.
  const ingest = startIngest([{ cameraId: 'stopme', url: CLIP, settings: { fpsLimit: FPS, realtime: true } }], deps);
  await waitFor('ffmpeg to run', () => ffmpegChildren() > 0, { timeoutMs: 20_000 });
  ingest.stop();
  const summary = await ingest.done;
  await waitFor('ffmpeg to end after stop()', () => ffmpegChildren() === 0, { timeoutMs: 10_000 });
  const all = framesAt(CLIP, FPS);
  assert.ok(summary.cameras.stopme.produced < all, `stopped early: ${summary.cameras.stopme.produced} of ${all} frames`);
});

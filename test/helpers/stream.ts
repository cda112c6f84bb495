/**
 * The end of a fault case that streamed files (and a live camera) through the four services:
 * waits until everything is through, then checks that every frame is accounted for (reached the
 * aggregator, or a dead letter), none was written twice, no event is doubled (by content or by
 * eventId), every person that appeared left, and no service stopped. Returns the figures.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { ensureTopics, pipelineTopicSpecs, pipelineTopics, type Kafka, type KafkaConfig } from '@emostream/kafka';
import {
  accountFrames, aggregatorLastSeq, collect, eventsOf, groupLag, groups, kafkaFor, serviceEnv, sleep, sumOf, type Collector, type ServiceProcess,
} from './faults.js';
import { randomTopics } from './kafka.js';
import { framesAt } from './media.js';
import { MEDIA, testModelDir } from './model.js';
import type { RtspServer } from './rtsp.js';
import { waitFor } from './wait.js';

/** The sample clips the cases stream as cameras. */
export const CLIPS = { a: path.join(MEDIA, 'woman2.mp4'), b: path.join(MEDIA, 'short_hamilton_clip.mp4') };

/** A case's topics (a fresh prefix, created), the services' env and a collector on every pipeline topic. */
export interface PipelineSetup {
  prefix: string;
  kafka: Kafka;
  config: KafkaConfig;
  env: Record<string, string>;
  collector: Collector;
}

/**
 * Topics under a fresh prefix on `brokers`, the services' env (the test model, `fps`, no load
 * shedding: every frame is accounted for; files read at their own pace, like cameras, so a fault
 * strikes while ingest still sends) with `extraEnv` on top, and a collector on every topic.
 */
export async function setUpPipeline(brokers: string[], o: { partitions: number; fps: number; extraEnv?: Record<string, string> }): Promise<PipelineSetup> {
  const prefix = randomTopics();
  const { kafka, config } = kafkaFor(brokers, prefix, o.partitions);
  await ensureTopics(kafka, pipelineTopicSpecs(config));
  const env = serviceEnv(brokers, prefix, o.partitions, {
    CLASSIFIER_MODEL: await testModelDir(), INGEST_FPS: String(o.fps), EMOSTREAM_SHED_AFTER_LAG: '0', INGEST_REALTIME: 'true', ...o.extraEnv,
  });
  const t = pipelineTopics(prefix);
  const collector = await collect(kafka, [t.frames, t.faces, t.emotions, t.events, t.aggregatorState, t.dlq.frames, t.dlq.faces, t.dlq.emotions]);
  return { prefix, kafka, config, env, collector };
}

/** What a case streamed, and through what. */
export interface StreamedCase {
  collector: Collector;
  prefix: string;
  kafka: Kafka;
  config: KafkaConfig;
  fps: number;
  /** File cameras and their clips, sent by `ingest` (`serve ingest --once`). */
  files: Record<string, string>;
  ingest: ServiceProcess;
  /** A live RTSP camera and its own ingest (its frames dropped and counted while the broker is away). */
  live?: { cam: string; ingest: ServiceProcess; camera: RtspServer };
  /** The detector, classifier and aggregator: their lag gauges come back to 0, and they still run. */
  stages: ServiceProcess[];
}

/** Waits until the case is through and checks it (see above); the figures, as a sentence. */
export async function settleAndAccount(c: StreamedCase): Promise<string> {
  const files = Object.keys(c.files);
  const cams = c.live ? [...files, c.live.cam] : files;
  const t = pipelineTopics(c.prefix);
  const exit = await c.ingest.exited;
  assert.equal(exit.code, 0, `ingest --once exits 0 (log ${c.ingest.logFile}): ${c.ingest.lines.slice(-3).join('\n')}`);
  let liveDropped = 0;
  let liveDecoded = 0;
  if (c.live) {
    // The camera goes; once ingest's queue has drained (every decoded frame sent or dropped:
    // after an outage its producer may still be waiting out a retry) the counters are final.
    const { cam, ingest, camera } = c.live;
    await camera.kill();
    const sent = () => c.collector.of(t.frames).filter((x) => x.cameraId === cam && x.kind === 'frame').length;
    // The counters are read before and after the topic is counted, and must not have moved: ffmpeg
    // may still hand over a last frame after the kill, and a frame decoded between the scrape and
    // the count, already on the topic, could stand in for one still in flight (145 produced against
    // 144 counted, once in CI).
    const counters = async () => {
      const m = await ingest.metrics();
      return { dropped: sumOf(m, 'emostream_frames_dropped_total', { camera: cam }), decoded: sumOf(m, 'emostream_frames_decoded_total', { camera: cam }) };
    };
    ({ dropped: liveDropped, decoded: liveDecoded } = await waitFor('the live camera\'s queue to drain', async () => {
      const before = await counters();
      const onTopic = sent();
      const after = await counters();
      return after.decoded === before.decoded && after.dropped === before.dropped && onTopic + after.dropped === after.decoded && after;
    }, { timeoutMs: 120_000 }));
    assert.ok(ingest.alive(), `the live camera's ingest kept running (log ${ingest.logFile})`);
    await ingest.stop();
  }
  // Through: the files' end markers classified, the aggregator's committed offsets at the end
  // of the emotions topic, and its state at each camera's last frame.
  await waitFor('the end markers on the emotions topic', () => files.every((f) => accountFrames(c.collector, c.prefix, files).ended[f]), { timeoutMs: 300_000 });
  await waitFor('the aggregator to commit the whole emotions topic', async () => (await groupLag(c.kafka, groups(c.config).aggregator, t.emotions)) === 0, { timeoutMs: 120_000 });
  const frameSeqs = (cam: string) => c.collector.of(t.frames).filter((x) => x.cameraId === cam && x.kind === 'frame').map((x) => x.seq!);
  await waitFor('the aggregator state at every camera\'s last frame', () => cams.every((cam) => aggregatorLastSeq(c.collector, c.prefix)[cam] === Math.max(...frameSeqs(cam))), { timeoutMs: 60_000 });
  // Persons of the files are closed by their end markers (a live camera's stay open).
  await waitFor('every person that appeared to have left', () => eventsOf(c.collector, c.prefix, files).unbalanced.length === 0 && eventsOf(c.collector, c.prefix, files).events.length > 0, { timeoutMs: 30_000 });
  // The stages' own lag gauges (emostream_consumer_lag_messages, polled every 5 s) come back to 0.
  await waitFor('every stage to report zero consumer lag', async () => {
    const ms = await Promise.all(c.stages.map((x) => x.metrics()));
    return ms.every((m) => m.some((x) => x.name === 'emostream_consumer_lag_messages') && sumOf(m, 'emostream_consumer_lag_messages') === 0);
  }, { timeoutMs: 30_000 });
  await sleep(1_000); // a late duplicate would show up here
  const a = accountFrames(c.collector, c.prefix, cams);
  const ev = eventsOf(c.collector, c.prefix, cams);
  for (const [cam, clip] of Object.entries(c.files)) assert.equal(a.produced[cam], framesAt(clip, c.fps), `${cam}: every frame of ${path.basename(clip)} at ${c.fps} fps produced (ffmpeg's count)`);
  if (c.live) assert.equal(a.produced[c.live.cam], liveDecoded - liveDropped, `${c.live.cam}: frames produced = decoded (${liveDecoded}) - dropped (${liveDropped}), as ingest counted them`);
  for (const cam of cams) {
    assert.deepEqual(a.missing[cam], [], `${cam}: frames that reached neither the aggregator nor a dead-letter topic`);
    assert.equal(a.framesTwice[cam], 0, `${cam}: no frame written twice by ingest's idempotent producer`);
  }
  for (const f of files) assert.equal(a.gaps[f], 0, `${f}: a file source loses no frame (ingest pauses instead)`);
  if (c.live) assert.equal(a.gaps[c.live.cam], liveDropped, `${c.live.cam}: the sequence numbers missing from the frames topic are the drops ingest counted`);
  assert.deepEqual(ev.duplicates, [], 'no event twice (same camera, person, type, mediaTimeMs)');
  assert.deepEqual(ev.idDuplicates, [], 'no eventId twice');
  assert.deepEqual(eventsOf(c.collector, c.prefix, files).unbalanced, [], 'every person that appeared left');
  for (const x of c.stages) assert.ok(x.alive(), `${x.name} is still running (log ${x.logFile})`);
  const frames = cams.reduce((n, cam) => n + a.produced[cam], 0);
  const redelivered = cams.reduce((n, cam) => n + a.redelivered[cam], 0);
  const live = c.live ? `, live camera: ${a.produced[c.live.cam]} frames sent, ${liveDropped} dropped while the broker was away (counted, reason queue_full)` : '';
  return `${frames} frames all accounted (0 missing, ${cams.reduce((n, cam) => n + a.deadLettered[cam], 0)} dead letters${live}), ${redelivered} frames classified twice and dropped by the aggregator, ${ev.events.length} events, 0 duplicates`;
}

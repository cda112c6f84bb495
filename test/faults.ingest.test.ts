// Fault suite, ingest killed with SIGKILL mid-stream and restarted at once, with a live RTSP
// camera and a file in the same process. What arrives downstream: each (run, seq) once on the
// frames topic (the idempotent producer; each restart is a new ingest run), every frame that
// reached the frames topic reaches the aggregator once (redeliveries dropped by (run, seq)) or a
// dead letter, and no event doubled. The live camera's gap (what it filmed while no ingest ran)
// is measured from the capture times; the file starts again from its beginning under the new run.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineTopics, type Kafka, type KafkaConfig } from '@emostream/kafka';
import { brokerUnavailable } from './helpers/kafka.js';
import { rtspServerUnavailable, startRtspServer } from './helpers/rtsp.js';
import {
  eventsOf, exitWhenDone, faultBroker, groupLag, groups, outsideFaultRun, report, sleep, startService, sumOf, type Collector, type Seen, type ServiceProcess,
} from './helpers/faults.js';
import { framesAt } from './helpers/media.js';
import { CLIPS as CLIP_FILES, setUpPipeline } from './helpers/stream.js';
import { filesMissing, requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

const CLIPS = { live: CLIP_FILES.a, file: CLIP_FILES.b };
const skip = outsideFaultRun;
const noBroker = brokerUnavailable();
const resources = (t: TestContext) => requireResource(t, 'sample media', filesMissing(CLIPS.live, CLIPS.file)) && requireResource(t, 'Kafka broker', noBroker)
  && requireResource(t, 'GStreamer RTSP server', rtspServerUnavailable());
const FPS = 5;
/** The kill comes once this many frames of each camera are on the frames topic. */
const STRIKE_AFTER_FRAMES = 12;
/** How long the live camera runs after the restart. */
const LIVE_AFTER_MS = 15_000;

let prefix: string;
let kafka: Kafka;
let config: KafkaConfig;
let env: Record<string, string>;
let collector: Collector;
const procs: ServiceProcess[] = [];

before(async () => {
  if (skip || filesMissing(CLIPS.live, CLIPS.file) || noBroker) return;
  const broker = await faultBroker();
  ({ prefix, kafka, config, env, collector } = await setUpPipeline(broker.brokers, { partitions: 3, fps: FPS }));
}, { timeout: 300_000 });

after(async () => {
  await Promise.all(procs.map((s) => s.stop().catch(() => {})));
  await collector?.stop().catch(() => {});
  exitWhenDone();
});

/** The frames of a camera on a topic, by run: run → seq → times seen. */
function byRun(seen: Seen[], cam: string): Map<string, Map<number, number>> {
  const runs = new Map<string, Map<number, number>>();
  for (const s of seen) {
    if (s.cameraId !== cam || s.seq === undefined || s.kind === 'end') continue;
    const run = s.run ?? '?';
    if (!runs.has(run)) runs.set(run, new Map());
    runs.get(run)!.set(s.seq, (runs.get(run)!.get(s.seq) ?? 0) + 1);
  }
  return runs;
}

test('ingest killed with SIGKILL mid-stream (a live camera and a file) and restarted: each (run, seq) once, every frame sent reaches the aggregator once, no event doubled; the gap reported', { skip, timeout: 900_000 }, async (t) => {
  if (!resources(t)) return;
  const topics = pipelineTopics(prefix);
  const stages = await Promise.all((['detector', 'classifier', 'aggregator'] as const).map((n) => startService(n, { env, tag: `ingestkill-${n}` })));
  procs.push(...stages);
  await Promise.all(stages.map((s) => s.ready()));
  const camera = await startRtspServer({ file: CLIPS.live });
  try {
    const live = 'kl';
    const file = 'kf';
    const args = ['--source', `${live}=${camera.url}`, '--source', `${file}=${CLIPS.file}`];
    const first = await startService('ingest', { env, args, tag: 'ingestkill-ingest-1' });
    procs.push(first);
    const onTopic = (cam: string) => collector.of(topics.frames).filter((s) => s.cameraId === cam && s.kind === 'frame');
    await waitFor(`${STRIKE_AFTER_FRAMES} frames of each camera on the frames topic`, () => onTopic(live).length >= STRIKE_AFTER_FRAMES && onTopic(file).length >= STRIKE_AFTER_FRAMES, { timeoutMs: 120_000 });
    const tKill = Date.now();
    await first.kill();
    const sentBefore = { live: onTopic(live).length, file: onTopic(file).length };
    const second = await startService('ingest', { env, args, tag: 'ingestkill-ingest-2' });
    procs.push(second);
    await second.ready(60_000);
    const tReady = Date.now();
    const runsOf = (cam: string) => [...byRun(onTopic(cam), cam).keys()];
    await waitFor('the restarted ingest\'s frames of both cameras', () => runsOf(live).length === 2 && runsOf(file).length === 2, { timeoutMs: 60_000 });
    const tFirst = Date.now();
    await sleep(LIVE_AFTER_MS);
    // The camera goes; the file has ended; once the second ingest's queue has drained its counters are final.
    await camera.kill();
    const second$ = () => onTopic(live).filter((s) => s.run === runsOf(live)[1]).length;
    const drained = () => waitFor('the live camera\'s queue to drain', async () => {
      const m = await second.metrics();
      const dropped = sumOf(m, 'emostream_frames_dropped_total', { camera: live });
      const decoded = sumOf(m, 'emostream_frames_decoded_total', { camera: live });
      return second$() + dropped === decoded && { dropped, decoded };
    }, { timeoutMs: 120_000 });
    await drained();
    await waitFor('the file\'s end marker on the emotions topic', () => collector.of(topics.emotions).some((s) => s.kind === 'end' && s.cameraId === file), { timeoutMs: 300_000 });
    // Downstream, per (run, seq): reached the emotions topic (the aggregator's input) or a dead letter.
    const missingOf = (cam: string) => {
      const emotions = byRun(collector.of(topics.emotions), cam);
      const dead = byRun([...collector.of(topics.dlq.frames), ...collector.of(topics.dlq.faces), ...collector.of(topics.dlq.emotions)], cam);
      return [...byRun(onTopic(cam), cam)].flatMap(([run, seqs]) => [...seqs.keys()].filter((q) => !emotions.get(run)?.has(q) && !dead.get(run)?.has(q)).map((q) => `${run}#${q}`));
    };
    await waitFor('every frame on the frames topic through the classifier', () => [live, file].every((c) => missingOf(c).length === 0), { timeoutMs: 300_000 }).catch(() => undefined);
    await waitFor('the aggregator to commit the whole emotions topic', async () => (await groupLag(kafka, groups(config).aggregator, topics.emotions)) === 0, { timeoutMs: 180_000 });
    // The aggregator's state: each camera's last frame processed is run 2's last.
    const lastOf = (cam: string) => {
      let last: { lastRun?: string; lastSeq?: number } | undefined;
      for (const x of collector.of(topics.aggregatorState)) last = (x.json as { cameras?: Record<string, { lastRun?: string; lastSeq?: number }> } | undefined)?.cameras?.[cam] ?? last;
      return last;
    };
    const endOf = (cam: string) => { const [, r2] = runsOf(cam); return { lastRun: r2, lastSeq: Math.max(...byRun(onTopic(cam), cam).get(r2)!.keys()) }; };
    await waitFor('the aggregator state at run 2\'s last frame of each camera', () => [live, file].every((c) => lastOf(c)?.lastRun === endOf(c).lastRun && lastOf(c)?.lastSeq === endOf(c).lastSeq), { timeoutMs: 60_000 });
    await sleep(1_000);

    // ffmpeg may still hand over a frame or two it had buffered when the camera went: read the counters again.
    const liveCounts = await drained();
    const figures: string[] = [];
    for (const cam of [live, file]) {
      const frames = byRun(onTopic(cam), cam);
      const runs = [...frames.keys()];
      assert.equal(runs.length, 2, `${cam}: two ingest runs on the frames topic (${runs.join(', ')})`);
      for (const [run, seqs] of frames) assert.deepEqual([...seqs].filter(([, n]) => n > 1).map(([q]) => q), [], `${cam}: no frame of run ${run} written twice`);
      assert.deepEqual(missingOf(cam), [], `${cam}: frames (run#seq) that reached neither the aggregator nor a dead-letter topic`);
      let copies = 0;
      for (const seqs of byRun(collector.of(topics.emotions), cam).values()) for (const n of seqs.values()) copies += n - 1;
      const [r1, r2] = runs.map((r) => [...frames.get(r)!.keys()].sort((x, y) => x - y));
      const capture = (run: string) => onTopic(cam).filter((s) => s.run === run).map((s) => s.capturedAtMs!).sort((x, y) => x - y);
      const [c1, c2] = runs.map(capture);
      const gapMs = c2[0] - c1[c1.length - 1];
      if (cam === file) {
        assert.deepEqual(r2, Array.from({ length: framesAt(CLIPS.file, FPS) }, (_, i) => i), `${file}: the restarted run sends the whole file again from its first frame`);
        figures.push(`file: run 1 sent ${r1.length} frames (seq 0-${r1[r1.length - 1]}) before the kill, run 2 the whole file again (${r2.length} frames from seq 0; its first ${r1.length} frames processed once per run)`);
      } else {
        assert.equal(r2.length, liveCounts.decoded - liveCounts.dropped, `${live}: run 2's frames on the topic = decoded - dropped, as the restarted ingest counted them`);
        const holes1 = r1[r1.length - 1] + 1 - r1.length;
        figures.push(`live camera: run 1 sent ${r1.length} frames (${holes1} seq holes: drops or frames in flight at the kill), run 2 ${r2.length} (${liveCounts.dropped} dropped and counted); `
          + `gap in capture time ${(gapMs / 1000).toFixed(1)} s between run 1's last frame on the topic and run 2's first, ~${Math.max(0, Math.round(gapMs / 1000 * FPS) - 1)} frames at ${FPS} fps never ingested`);
      }
      figures.push(`${cam}: ${copies} frame(s) classified twice and dropped by the aggregator`);
    }
    const ev = eventsOf(collector, prefix, [live, file]);
    assert.deepEqual(ev.duplicates, [], 'no event twice (same camera, person, type, mediaTimeMs)');
    assert.deepEqual(ev.idDuplicates, [], 'no eventId twice');
    for (const s of stages) assert.ok(s.alive(), `${s.name} still runs`);
    report({
      case: 'ingest `kill -9` mid-stream (a live RTSP camera and a file in one process), restarted at once',
      outcome: 'a new ingest run per camera; no (run, seq) twice on the frames topic; every frame sent reached the aggregator once or a dead letter; no duplicate event; the live camera\'s gap measured, the file sent again from its start',
      figures: `killed after ${sentBefore.live} live and ${sentBefore.file} file frames on the topic; the restarted ingest ready ${((tReady - tKill) / 1000).toFixed(1)} s after the kill, its first frames on the topic after ${((tFirst - tKill) / 1000).toFixed(1)} s; `
        + `${figures.join('; ')}; ${ev.events.length} events, 0 duplicates (content or eventId), ${ev.unbalanced.length} person(s) left open (appeared in a run that was killed, or live)`,
    });
  } finally {
    await camera.stop();
  }
});

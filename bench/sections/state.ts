/**
 * Bounded state over weeks of passers-by: persons pass one camera one after another (three frames
 * each, as the classifier's emotions messages of the wire contract: test/helpers/passersBy.ts),
 * all on a real broker's emotions topic first, then consumed by the aggregator service
 * (`startAggregator`, in this process, exactly as `serve aggregator` runs it). At each mark
 * (1,000, 5,000 and 10,000 persons; --quick: 500 and 2,000): the messages per second the
 * aggregator processed over the last 1,000 persons (500 with --quick; the first window from the
 * 200th person on) before the mark, then the
 * process's RSS, heap and buffers after a GC and the camera's record on the compacted
 * `aggregator-state` topic as read back from the broker (the aggregator goes on meanwhile: a few
 * chunks past the mark). The process also holds the bench's TensorFlow.js and model (loaded for
 * every section): the growth between marks is the aggregator's.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { randomBytes } from 'node:crypto';
import { createMetrics, silentLogger } from '@emostream/runtime';
import { parseAggregatorConfig } from '@emostream/aggregator';
import { createKafka, createProducer, encodeEmotions, ensureTopics, kafkaConfigFromEnv, pipelineTopicSpecs, pipelineTopics, readCompacted, sendCapped } from '@emostream/kafka';
import { startAggregator } from '@emostream/pipeline';
import type { BenchContext, Row } from '../lib/context.js';
import { startBroker } from '../lib/broker.js';
import { ratio, sig } from '../lib/stats.js';
import { passersBy } from '../../test/helpers/passersBy.js';
import { waitFor } from '../../test/helpers/wait.js';

const CAMERA = 'door';
const MiB = 2 ** 20;
const FRAMES = 3;
/** Persons before the first timed window. */
const WARMUP = 200;

/** One mark: what the state, the memory and the rate were after `persons` persons. */
interface Mark { persons: number; recordBytes: number; recordsWritten: number; rssMiB: number; heapMiB: number; externalMiB: number; messagesPerS: number; events: number }

/** Runs the section. */
export async function stateSection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const marks = ctx.quick ? [500, 2_000] : [1_000, 5_000, 10_000];
  const window = ctx.quick ? 500 : 1_000;
  const broker = startBroker(ctx.log);
  ctx.figures.kafkaVersion ??= broker.version;
  const running: Array<{ stop(): Promise<void> }> = [];
  try {
    const config = kafkaConfigFromEnv({}, { brokers: broker.brokers, topicPrefix: `bench${randomBytes(3).toString('hex')}.`, partitions: 1, sessionTimeoutMs: 10_000 });
    const kafka = createKafka(config, 'bench-state', silentLogger);
    const t = pipelineTopics(config.topicPrefix);
    await ensureTopics(kafka, pipelineTopicSpecs(config));
    const deps = { kafka, config, logger: silentLogger, metrics: createMetrics() };
    // Every person's frames are on the topic before the aggregator starts: this process then holds
    // nothing of them, and what is measured is the aggregator's own memory and pace.
    const last = marks[marks.length - 1];
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      for (let p = 0; p < last; p += window) {
        const msgs = passersBy({ cameraId: CAMERA, run: 'bench' }, p, Math.min(last, p + window)).map(encodeEmotions);
        await sendCapped(producer, [{ topic: t.emotions, messages: msgs }], config.maxBytesPerSend);
      }
    } finally {
      await producer.disconnect();
    }
    ctx.log(`state: ${last} persons (${last * FRAMES} frames) on the emotions topic; the aggregator starts`);
    const agg = await startAggregator({ ...deps, aggregatorConfig: parseAggregatorConfig({}) });
    running.push(agg);
    const frames = () => agg.aggregator.stats.frames;
    const out: Mark[] = [];
    for (const persons of marks) {
      // The first window leaves out the start (joining the group, the first fetch).
      const from = Math.max(persons - window, WARMUP);
      await waitFor(`${from * FRAMES} frames at the aggregator`, () => frames() >= from * FRAMES, { timeoutMs: 600_000, everyMs: 2 });
      const f0 = frames(), t0 = performance.now();
      await waitFor(`${persons * FRAMES} frames at the aggregator`, () => frames() >= persons * FRAMES, { timeoutMs: 600_000, everyMs: 2 });
      const messagesPerS = (frames() - f0) / ((performance.now() - t0) / 1000);
      // Measured while the aggregator goes on (a GC pauses it too): a few chunks past the mark.
      gc(); gc();
      const m = process.memoryUsage();
      const record = (await readCompacted(kafka, t.aggregatorState, { groupPrefix: `${config.topicPrefix}bench-state`, logger: silentLogger })).get(CAMERA);
      ctx.log(`state: ${persons} persons: record ${record?.length ?? 0} bytes, RSS ${(m.rss / MiB).toFixed(0)} MiB, ${messagesPerS.toFixed(0)} messages/s`);
      out.push({
        persons, recordBytes: record?.length ?? 0, recordsWritten: agg.state.stats.written, rssMiB: m.rss / MiB, heapMiB: m.heapUsed / MiB, externalMiB: m.external / MiB, messagesPerS,
        events: agg.stats.produced,
      });
    }
    const [a, b] = [out[0], out[out.length - 1]];
    const figures = {
      stateBytesGrowth: ratio(b.recordBytes, a.recordBytes),
      stateRssGrowth: ratio(b.rssMiB, a.rssMiB),
      stateRateRatio: ratio(b.messagesPerS, a.messagesPerS),
      state: {
        camera: CAMERA, framesPerPerson: FRAMES, window, input: 'every frame on the topic before the aggregator starts', broker: `Kafka ${broker.version} (scripts/kafka.sh, same machine)`, partitions: 1,
        marks: out.map((m) => ({ ...m, rssMiB: sig(m.rssMiB, 4), heapMiB: sig(m.heapMiB, 4), externalMiB: sig(m.externalMiB, 4), messagesPerS: sig(m.messagesPerS, 4) })),
      },
    };
    const rows: Row[] = out.map((m) => ({
      section: 'state', figure: `after ${m.persons} persons (one camera)`, value: `${m.recordBytes} B`,
      detail: `state record on aggregator-state; RSS ${sig(m.rssMiB, 4)} MiB, heap ${sig(m.heapMiB, 3)} MiB, buffers ${sig(m.externalMiB, 3)} MiB; ${sig(m.messagesPerS, 3)} messages/s over the last ${window} persons; ${m.recordsWritten} records written, ${m.events} events so far`,
    }));
    rows.push({
      section: 'state', figure: `growth ${a.persons} → ${b.persons} persons`, value: `${sig(figures.stateBytesGrowth, 3)}x`,
      detail: `record bytes; RSS ${sig(figures.stateRssGrowth, 3)}x, messages/s ${sig(figures.stateRateRatio, 3)}x`,
    });
    return { figures, rows };
  } finally {
    await Promise.all(running.map((r) => r.stop().catch(() => {})));
    broker.release();
  }
}

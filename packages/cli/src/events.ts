/** `emostream events [--camera ID] [--json]`: subscribes to `emotion-events` and prints them. */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { EmotionEvent } from '@emostream/contracts';
import { createLogger, type Logger } from '@emostream/runtime';
import { createKafka, decodeEvent, ensureTopics, kafkaConfigFromEnv, pipelineTopicSpecs, pipelineTopics, type KafkaConfig } from '@emostream/kafka';

/** Options of {@link subscribeEvents}. */
export interface EventsOptions {
  camera?: string;
  fromBeginning?: boolean;
  /** A named group resumes where it left off; default: a fresh group per run. */
  group?: string;
  config: KafkaConfig;
  logger: Logger;
  onEvent: (e: EmotionEvent) => void;
  /** Events that fail validation (counted, shown on stderr). */
  onInvalid?: (detail: string) => void;
  /** The consumer stopped for good (kafkajs gave up restarting it); default: nothing. */
  onFatal?: (error: Error) => void;
}

/** Consumes the events topic until `stop()`; events are validated against the contract. */
export async function subscribeEvents(o: EventsOptions): Promise<{ stop(): Promise<void> }> {
  const kafka = createKafka(o.config, 'events', o.logger);
  await ensureTopics(kafka, pipelineTopicSpecs(o.config), o.logger);
  const consumer = kafka.consumer({ groupId: o.group ?? `${o.config.topicPrefix}emostream-events-${randomUUID()}`, readUncommitted: false, allowAutoTopicCreation: false });
  // A broker restart is ridden out (kafkajs restarts the consumer); only a crash it does not
  // restart from is final, and a subscriber must not sit there silently printing nothing.
  consumer.on(consumer.events.CRASH, (e) => { if (!e.payload.restart) o.onFatal?.(e.payload.error); });
  await consumer.connect();
  await consumer.subscribe({ topics: [pipelineTopics(o.config.topicPrefix).events], fromBeginning: o.fromBeginning ?? false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const d = decodeEvent(message);
      if (!d.ok) { o.onInvalid?.(`${d.reason}: ${d.detail}`); return; }
      if (o.camera !== undefined && d.value.cameraId !== o.camera) return;
      o.onEvent(d.value);
    },
  });
  return { stop: () => consumer.disconnect() };
}

function formatEvent(e: EmotionEvent): string {
  return `${e.at}  ${e.cameraId} ${e.personId.padEnd(4)} ${e.type.padEnd(16)} ${e.emotion} (${e.confidence.toFixed(2)}) @${(e.mediaTimeMs / 1000).toFixed(1)}s`;
}

/** Registers `events` on the program. */
export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('print the emotion events of the distributed pipeline as they arrive (KAFKA_BROKERS, EMOSTREAM_TOPIC_PREFIX)')
    .option('--camera <id>', 'only this camera\'s events')
    .option('--json', 'one JSON object per line (the event contract)', false)
    .option('--from-beginning', 'start at the oldest retained event instead of new ones', false)
    .option('--group <id>', 'consumer group id: a named group resumes where it stopped (default: a fresh one per run)')
    .action(async (opts: { camera?: string; json: boolean; fromBeginning: boolean; group?: string }) => {
      const logger = createLogger({ level: 'warn' });
      let fatal: Error | undefined;
      let wake: () => void = () => {};
      const sub = await subscribeEvents({
        camera: opts.camera, fromBeginning: opts.fromBeginning, group: opts.group, config: kafkaConfigFromEnv(), logger,
        onEvent: (e) => process.stdout.write((opts.json ? JSON.stringify(e) : formatEvent(e)) + '\n'),
        onInvalid: (d) => process.stderr.write(`skipped an invalid event: ${d}\n`),
        onFatal: (e) => { fatal = e; wake(); },
      });
      await new Promise<void>((resolve) => { wake = resolve; process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
      await sub.stop().catch(() => {});
      if (fatal) throw new Error(`the events consumer stopped: ${fatal.message}`);
    });
}

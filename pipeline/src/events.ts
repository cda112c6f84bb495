/** A subscriber of the `emotion-events` topic, validated against the event contract. */
import { randomUUID } from 'node:crypto';
import type { EmotionEvent } from '@emostream/contracts';
import type { Logger } from '@emostream/runtime';
import { createKafka, decodeEvent, ensureTopics, pipelineTopics, userTopicSpecs, type KafkaConfig } from '@emostream/kafka';

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
  await ensureTopics(kafka, userTopicSpecs(o.config, 'subscriber'), o.logger);
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

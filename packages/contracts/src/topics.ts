/** Kafka topic names; a prefix lets tests and tenants use their own set. */

/** The default topic names of the distributed pipeline. */
export const TOPICS = {
  frames: 'frames',
  faces: 'faces',
  emotions: 'emotions',
  events: 'emotion-events',
} as const;

/** A stage's topic name. */
export type TopicKey = keyof typeof TOPICS;

/** The dead-letter topic of a topic. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** Topic names with an optional prefix (`test-1234.` for a test run). */
export function topicNames(prefix = ''): Record<TopicKey, string> {
  return {
    frames: prefix + TOPICS.frames,
    faces: prefix + TOPICS.faces,
    emotions: prefix + TOPICS.emotions,
    events: prefix + TOPICS.events,
  };
}

/** Dead letters: a message a stage cannot use goes, unchanged, to the stage's `.dlq` topic with the reason in headers. */
import type { KafkaMessage } from 'kafkajs';
import { HEADER, type DecodeReason, type OutMessage } from './codec/message.js';

/** Where a dead letter came from and why. */
export interface DeadLetterInfo {
  stage: string;
  reason: DecodeReason | string;
  detail: string;
  topic: string;
  partition: number;
  offset: string;
}

/** The dead letter of a message: its key, value and headers as they were, plus why and where from. */
export function deadLetter(m: KafkaMessage, info: DeadLetterInfo): OutMessage {
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined) headers[k] = one;
  }
  return {
    key: m.key?.toString('utf8') ?? 'unknown',
    value: m.value ?? Buffer.alloc(0),
    headers: {
      ...headers,
      [HEADER.dlqReason]: info.reason, [HEADER.dlqDetail]: info.detail.slice(0, 500), [HEADER.dlqStage]: info.stage,
      [HEADER.dlqTopic]: info.topic, [HEADER.dlqPartition]: String(info.partition), [HEADER.dlqOffset]: info.offset,
    },
  };
}

/**
 * A stage operator's verdict that one input cannot be processed (it failed after retries): emitted
 * in place of that input's outputs, it sends the input, unchanged, to the stage's dead-letter topic
 * with `reason` and `detail` (counted in `deadLetters{stage,reason}`), and its offset is committed
 * like any other: never an empty result, never a blocked partition.
 */
export interface Rejection {
  readonly rejected: true;
  reason: string;
  detail: string;
}

/** A {@link Rejection} (`detail` is cut to 300 characters, like a decode failure's). */
export function rejection(reason: string, detail: string): Rejection {
  return { rejected: true, reason, detail: detail.slice(0, 300) };
}

/** Whether a stage output is a {@link Rejection}. */
export function isRejection(x: unknown): x is Rejection {
  return typeof x === 'object' && x !== null && (x as { rejected?: unknown }).rejected === true && typeof (x as { reason?: unknown }).reason === 'string';
}

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

/**
 * Control messages that travel in order with the data, on the same key/partition: `end` says a
 * camera's stream ended (a file source reached EOF), so the aggregator closes its persons exactly
 * where the embedded pipeline does at completion. Stages pass them on after the camera's earlier
 * outputs.
 */
import { SCHEMA_VERSION, type ControlHeaders } from '@emostream/contracts';
import { HEADER, header, type InMessage, type OutMessage } from './message.js';

/** A control message. */
export interface ControlMessage {
  type: 'end';
  cameraId: string;
}

/** Encodes a control message (empty value; everything in headers: ControlHeadersSchema of @emostream/contracts). */
export function encodeControl(c: ControlMessage): OutMessage {
  const headers = { [HEADER.schema]: `${SCHEMA_VERSION}` as const, [HEADER.kind]: c.type, [HEADER.camera]: c.cameraId } satisfies ControlHeaders;
  return { key: c.cameraId, value: Buffer.alloc(0), headers };
}

/** The control message a Kafka message is, or undefined for data. */
export function decodeControl(m: InMessage): ControlMessage | undefined {
  if (header(m, HEADER.kind) !== 'end') return undefined;
  const cameraId = header(m, HEADER.camera) ?? m.key?.toString('utf8');
  return cameraId ? { type: 'end', cameraId } : undefined;
}

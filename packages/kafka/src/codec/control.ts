/**
 * Control messages that travel in order with the data, on the same key/partition: `end` says a
 * camera's stream ended (a file source reached EOF), so the aggregator closes its persons exactly
 * where the embedded pipeline does at completion. Stages pass them on after the camera's earlier
 * outputs.
 */
import { CAMERA_ID_RULE, SCHEMA_VERSION, isCameraId, type ControlHeaders } from '@emostream/contracts';
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

/** An `end` marker that names no valid camera: a dead letter (`malformed`), never passed on. */
export interface BadControl {
  type: 'bad';
  detail: string;
}

/**
 * The control message a Kafka message is, or undefined for data. An `end` marker whose camera
 * (header, else key) is missing or no valid camera id (CAMERA_ID of @emostream/contracts) is {@link BadControl}.
 */
export function decodeControl(m: InMessage): ControlMessage | BadControl | undefined {
  if (header(m, HEADER.kind) !== 'end') return undefined;
  const cameraId = header(m, HEADER.camera) ?? m.key?.toString('utf8');
  if (cameraId !== undefined && isCameraId(cameraId)) return { type: 'end', cameraId };
  const shown = cameraId ? `camera id ${JSON.stringify(cameraId.slice(0, 80))}` : 'no camera';
  return { type: 'bad', detail: `end marker with ${shown}: a camera id is ${CAMERA_ID_RULE}` };
}

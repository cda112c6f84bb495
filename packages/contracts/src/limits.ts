/**
 * The limits of the contract's inputs: what a camera id may be and how large a frame may get.
 * They hold for every producer, emostream's own or another: the message schemas refuse anything
 * beyond them, so a consumer dead-letters it instead of acting on it.
 */
import { z } from 'zod';

/** Longest camera id, in characters. */
export const CAMERA_ID_MAX_LENGTH = 64;

/**
 * A camera id: 1-64 characters of A-Z a-z 0-9 . _ -. It is the Kafka key of the camera's
 * messages, a label of the metrics and, in `analyze`, the name of the camera's output folder.
 */
export const CAMERA_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** {@link CAMERA_ID} in words, for error messages. */
export const CAMERA_ID_RULE = `1-${CAMERA_ID_MAX_LENGTH} characters of A-Z a-z 0-9 . _ -`;

/** A camera id as a schema field (see {@link CAMERA_ID}). */
export const CameraIdSchema = z.string().regex(CAMERA_ID, { error: `a camera id is ${CAMERA_ID_RULE}` });

/** Whether `v` is a valid camera id. */
export function isCameraId(v: unknown): boolean {
  return typeof v === 'string' && CAMERA_ID.test(v);
}

/**
 * Widest and tallest frame a message may declare, px (JPEG itself allows 65535). Ingest makes
 * frames of at most 7680x4320.
 */
export const MAX_FRAME_SIDE = 16384;

/**
 * The default cap on a frame's pixels (width x height) where a frame is decoded from the wire
 * (the detector, `EMOSTREAM_MAX_FRAME_PIXELS`): 4096x4096. A JPEG over the cap is a dead letter
 * before it is decoded (decoded it would take width x height x 3 bytes, 48 MiB at the cap).
 */
export const DEFAULT_MAX_FRAME_PIXELS = 4096 * 4096;

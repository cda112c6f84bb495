/** One zod schema per message that crosses a stage boundary (in memory or over Kafka). */
import { z } from 'zod';
import { EMOTIONS, EMOTION_STATES } from './labels.js';
import { CAMERA_ID_RULE, CameraIdSchema, DEFAULT_MAX_FRAME_PIXELS, MAX_FRAME_SIDE } from './limits.js';

/** Bumped when a message's shape changes incompatibly; consumers reject other versions. */
export const SCHEMA_VERSION = 1 as const;

const probabilities = z.object(
  Object.fromEntries(EMOTIONS.map((e) => [e, z.number().min(0).max(1)])) as Record<(typeof EMOTIONS)[number], z.ZodNumber>,
).describe('A probability per emotion (the seven); they sum to 1');

/** An axis-aligned box in source-frame pixels. */
export const BoxSchema = z.object({
  x: z.number(), y: z.number(), width: z.number().positive(), height: z.number().positive(),
}).describe('The face\'s box in source-frame pixels: top-left corner, width, height');
export type Box = z.infer<typeof BoxSchema>;

/** What the schema says of the pixel cap of the stage that decodes frames. */
const PIXEL_CAP = `the detector refuses, before decoding, a frame of more than EMOSTREAM_MAX_FRAME_PIXELS pixels (width x height, default 4096x4096 = ${DEFAULT_MAX_FRAME_PIXELS}): a dead letter, reason frame_too_large`;

/** Identity of one decoded frame; every later message carries it. */
export const FrameRefSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  cameraId: CameraIdSchema.describe(`The camera (or file) the frame comes from, ${CAMERA_ID_RULE}; also the message key`),
  /** Monotonic per camera and per ingest run, starting at 0. */
  seq: z.number().int().nonnegative().describe('Frame number, monotonic per camera and ingest run, from 0'),
  /**
   * Id of the ingest run that made the frame (one frame source's life, reconnects included):
   * `seq` counts within it. Lets the aggregator tell a redelivered frame from a new run's
   * without trusting any clock.
   */
  run: z.string().min(1).max(64).optional().describe('Id of the ingest run that made the frame (one source\'s life, reconnects included); seq counts within it'),
  /** Presentation time of the frame in the media, in milliseconds from the start of the stream. */
  mediaTimeMs: z.number().nonnegative().describe('Presentation time in the media, ms from the start of the stream'),
  /** Wall-clock time the frame was decoded, ms since the epoch. */
  capturedAtMs: z.number().nonnegative().describe('Wall-clock time the frame was decoded, ms since the epoch'),
  /**
   * At most MAX_FRAME_SIDE each. Where a frame is decoded from the wire (the detector) its pixels
   * are also held to a cap (EMOSTREAM_MAX_FRAME_PIXELS, default DEFAULT_MAX_FRAME_PIXELS): over
   * it, by these fields or by the JPEG's own header, the frame is a dead letter, never decoded.
   */
  width: z.number().int().positive().max(MAX_FRAME_SIDE).describe(`Frame width in pixels, at most ${MAX_FRAME_SIDE}; ${PIXEL_CAP}`),
  height: z.number().int().positive().max(MAX_FRAME_SIDE).describe(`Frame height in pixels, at most ${MAX_FRAME_SIDE}; ${PIXEL_CAP}`),
  /**
   * Set by the detector on the first frame after a hard cut (the picture changed as a whole):
   * the aggregator ends every track there and identifies the faces after it afresh.
   */
  sceneCut: z.boolean().optional().describe('Set by the detector on the first frame after a hard cut: every track ends there'),
});
export type FrameRef = z.infer<typeof FrameRefSchema>;

/**
 * A decoded frame. In memory the pixels are raw RGB (`rgb`, width*height*3 bytes); over Kafka
 * the pixels travel as JPEG bytes in the message value, never base64 inside JSON.
 */
export interface Frame extends FrameRef {
  pixels: { format: 'rgb'; data: Buffer } | { format: 'jpeg'; data: Buffer };
}

/** One detected face: where it is and its 48x48 preprocessed crop. */
export const FaceSchema = z.object({
  box: BoxSchema,
  score: z.number().min(0).max(1).describe('The detector\'s confidence that this is a face'),
  /** Eye centres in frame pixels, when the detector gives them; `left` is the one on the image's left when the face is upright. */
  eyes: z.object({ left: z.tuple([z.number(), z.number()]), right: z.tuple([z.number(), z.number()]) }).optional()
    .describe('Eye centres [x, y] in frame pixels, when the detector gives them: `left` is the eye on the image\'s left when the face is upright (the person\'s right eye), so the line from `left` to `right` gives the face\'s roll over the full circle'),
  /**
   * The face's appearance embedding (see ./embedding.ts: a unit vector, int8, base64), when the
   * detector computed one for this face. Biometric: it travels from the detector to the
   * aggregator only, never into events, state, logs or files.
   */
  embedding: z.string().max(8192).optional()
    .describe('Appearance embedding (unit vector, int8, base64) when computed for this face; biometric: detector to aggregator only'),
});
export type FaceBox = z.infer<typeof FaceSchema>;

/** A face ready for the classifier: 48*48 histogram-equalised gray bytes. */
export interface FaceCrop extends FaceBox {
  /** 2304 bytes, row-major, 8-bit gray, histogram-equalised. */
  crop: Uint8Array;
}

/** The detector's output for one frame (also for frames with no face, so time keeps moving). */
export interface FacesMessage {
  frame: FrameRef;
  faces: FaceCrop[];
}

/**
 * The JSON part of a faces message on the `faces` topic (the binary envelope of
 * @emostream/kafka's faces codec): the frame and its faces without their crops, which follow
 * the JSON as raw bytes, 2304 per face in this order. Strict: an unknown field is refused.
 */
export const FacesMetaSchema = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  frame: FrameRefSchema.strict(),
  faces: z.array(FaceSchema.strict()).max(1000)
    .describe('The faces found, in the order of their 48x48 crops after the JSON (2304 bytes each); empty for a frame without faces'),
});
export type FacesMeta = z.infer<typeof FacesMetaSchema>;

/**
 * The headers of a control message: `end` (a file source reached its end), sent by ingest on
 * `frames` after the camera's last frame and passed on in order to `faces` and `emotions`; its
 * value is empty and its key the camera id. A reader takes the key when `emostream-camera` is
 * missing.
 */
export const ControlHeadersSchema = z.object({
  'emostream-schema': z.literal(String(SCHEMA_VERSION) as `${typeof SCHEMA_VERSION}`).describe('The contracts\' schemaVersion'),
  'emostream-kind': z.literal('end').describe('end: the camera\'s stream ended (its value is empty)'),
  'emostream-camera': CameraIdSchema.describe(`The camera whose stream ended, ${CAMERA_ID_RULE} (also the message key)`),
});
export type ControlHeaders = z.infer<typeof ControlHeadersSchema>;

/** The classifier's output for one face. */
export const ClassifiedFaceSchema = FaceSchema.extend({
  probabilities,
});
export type ClassifiedFace = z.infer<typeof ClassifiedFaceSchema>;

/** The classifier's output for one frame. */
export const EmotionsMessageSchema = z.object({
  frame: FrameRefSchema,
  faces: z.array(ClassifiedFaceSchema).describe('The frame\'s faces with the classifier\'s probabilities; empty for a frame without faces'),
  modelVersion: z.string().describe('Version of the emotion model that classified the faces'),
});
export type EmotionsMessage = z.infer<typeof EmotionsMessageSchema>;

/** The kinds of event the aggregator emits. */
export const EVENT_TYPES = ['person.appeared', 'emotion.changed', 'person.left'] as const;

/**
 * A person as another camera knows them: the camera and the `personId` the person was first seen
 * as there (with the aggregator's optional linking across cameras).
 */
export const PersonLinkSchema = z.object({
  cameraId: CameraIdSchema.describe('The camera the person was first seen by'),
  personId: z.string().describe('Their personId on that camera'),
});
export type PersonLink = z.infer<typeof PersonLinkSchema>;

/** An emotion event: a value of `emotion-events` and a line of `events.jsonl`. */
export const EmotionEventSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  /**
   * Deterministic id of the event (32 hex characters): the same frames give the same id, so a
   * consumer can drop an event it has seen (at-least-once delivery, a replayed topic). Always
   * set by emostream; optional for events written before it existed.
   */
  eventId: z.string().regex(/^[0-9a-f]{32}$/).optional()
    .describe('Deterministic id (32 hex): the same frames give the same id; drop an event whose id you have seen'),
  type: z.enum(EVENT_TYPES).describe('person.appeared (a face tracked for a few frames), emotion.changed, person.left'),
  cameraId: CameraIdSchema.describe(`The camera (or file) the person was seen by, ${CAMERA_ID_RULE}`),
  personId: z.string().describe('p1, p2… per camera, never reused in a run; kept by a returning person'),
  /** ISO time: the frame's capture time. */
  at: z.string().describe('ISO 8601 wall-clock time the frame was captured'),
  mediaTimeMs: z.number().nonnegative().describe('Time in the stream (file position, or since the camera was opened), ms'),
  /** The person's emotion now, or `uncertain` when none is clear. */
  emotion: z.enum(EMOTION_STATES).describe('The person\'s emotion now (decided over their frames so far, see the aggregator\'s liveDecoding), or uncertain when none is clear'),
  /** The smoothed probability of `emotion` (of the likeliest emotion when `uncertain`). */
  confidence: z.number().min(0).max(1).describe('The smoothed probability of emotion (of the likeliest emotion when uncertain)'),
  probabilities: probabilities.describe('Smoothed probability of each of the seven emotions'),
  modelVersion: z.string().describe('Version of the emotion model that classified the faces'),
  /**
   * `person.appeared` only: the person was recognised as one who left this camera recently
   * (by appearance), and keeps the `personId` (and timeline) they had.
   */
  returning: z.boolean().optional().describe('person.appeared only: recognised as a person who left this camera recently; keeps their personId'),
  /**
   * Only with the aggregator's `reidAcrossCameras` (off by default): the person was recognised
   * (by appearance) as one who left another camera; names the camera and personId they were
   * first seen as. The person keeps this camera's own personId; every event of theirs carries it.
   */
  sameAs: PersonLinkSchema.optional().describe('With linking across cameras (reidAcrossCameras, off by default): the person was recognised as one who left another camera; the camera and personId they were first seen as. On every event of the person; personId stays this camera\'s own'),
});
export type EmotionEvent = z.infer<typeof EmotionEventSchema>;

/** One stretch of a person's timeline with one dominant emotion. */
export const SegmentSchema = z.object({
  emotion: z.enum(EMOTION_STATES),
  startMs: z.number().nonnegative(),
  endMs: z.number().nonnegative(),
  meanConfidence: z.number().min(0).max(1),
  /**
   * `uncertain` segments only: the emotion with the highest mean probability over the segment,
   * the best guess where none was clear.
   */
  likeliest: z.enum(EMOTIONS).optional().describe('uncertain segments only: the emotion with the highest mean probability over the segment (the best guess where none was clear)'),
});
export type Segment = z.infer<typeof SegmentSchema>;

/** `timelines.json`: per camera, per person, the segments. */
export const TimelinesSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  modelVersion: z.string(),
  cameras: z.record(CameraIdSchema, z.object({
    persons: z.record(z.string(), z.object({
      firstSeenMs: z.number(),
      lastSeenMs: z.number(),
      segments: z.array(SegmentSchema),
      sameAs: PersonLinkSchema.optional().describe('With linking across cameras: the camera and personId this person was first seen as'),
    })),
  })),
});
export type Timelines = z.infer<typeof TimelinesSchema>;

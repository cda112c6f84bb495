/**
 * The public contract as JSON Schema (draft 2020-12), generated from the zod schemas the code
 * validates with, so the published files (schemas/ at the repository's top, written by
 * `npm run docs:contract`) cannot drift from what emostream writes and reads.
 */
import { z } from 'zod';
import { ControlHeadersSchema, EmotionEventSchema, EmotionsMessageSchema, FacesMetaSchema, FrameRefSchema, TimelinesSchema } from './messages.js';

/** Base of the schemas' `$id`s: `<base><file name>`. */
export const SCHEMA_ID_BASE = 'https://emostream.dev/schemas/';

/**
 * The published schema files: file name → JSON Schema object. One per message that crosses a
 * topic (the frame header, the faces message's JSON, the emotions message, the emotion event,
 * the control message's headers) and `timelines.json`. The aggregator's state record has no
 * schema: it is the aggregator's own snapshot (a TypeScript interface), not a contract.
 */
export function contractSchemas(): Record<string, object> {
  const withId = (id: string, title: string, schema: z.ZodType) => ({
    $id: `${SCHEMA_ID_BASE}${id}`,
    title,
    ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }),
  });
  return {
    'frame-header.schema.json': withId('frame-header.schema.json', 'emostream frame header (the FrameRef JSON in the emostream-frame header of a frames message; the value is the JPEG)', FrameRefSchema.strict()),
    'faces-meta.schema.json': withId('faces-meta.schema.json', 'emostream faces message metadata (the JSON inside the binary envelope of a faces message; the 48x48 crops follow it as raw bytes)', FacesMetaSchema),
    'emotions.schema.json': withId('emotions.schema.json', 'emostream emotions message (a value of the emotions topic: a frame\'s faces with the classifier\'s probabilities)', EmotionsMessageSchema),
    'emotion-event.schema.json': withId('emotion-event.schema.json', 'emostream emotion event (a value of the emotion-events topic, a line of events.jsonl)', EmotionEventSchema),
    'control-headers.schema.json': withId('control-headers.schema.json', 'emostream control message headers (end of a camera\'s stream on frames, faces and emotions; the value is empty)', ControlHeadersSchema),
    'timelines.schema.json': withId('timelines.schema.json', 'emostream timelines (timelines.json, GET /api/timelines)', TimelinesSchema),
  };
}

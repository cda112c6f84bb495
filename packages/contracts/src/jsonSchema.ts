/**
 * The public contract as JSON Schema (draft 2020-12), generated from the zod schemas the code
 * validates with, so the published files cannot drift from what emostream writes and reads.
 */
import { z } from 'zod';
import { EmotionEventSchema, TimelinesSchema } from './messages.js';

/** The published schema files: name → JSON Schema object. */
export function contractSchemas(): Record<string, object> {
  const withId = (id: string, title: string, schema: z.ZodType) => ({
    $id: `https://emostream.dev/schemas/${id}`,
    title,
    ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }),
  });
  return {
    'emotion-event.schema.json': withId('emotion-event.schema.json', 'emostream emotion event (a value of the emotion-events topic, a line of events.jsonl)', EmotionEventSchema),
    'timelines.schema.json': withId('timelines.schema.json', 'emostream timelines (timelines.json, GET /api/timelines)', TimelinesSchema),
  };
}

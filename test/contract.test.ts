/**
 * The published contract (docs/contract) is what the code writes: the JSON Schemas are the ones
 * generated from the zod schemas, and real events and timelines of the pipeline's aggregator
 * validate against them with a JSON Schema validator (ajv, draft 2020-12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { EMOTIONS, SCHEMA_VERSION, contractSchemas, type Emotion, type EmotionsMessage } from '@emostream/contracts';
import { Aggregator } from '@emostream/aggregator';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(import.meta.url);
/** One frame of classified faces: squares of 80 px at (cx, 300) showing `emotion` at probability `p`. */
function emotionsMessage(seq: number, faces: Array<{ cx: number; emotion: Emotion; p?: number }>): EmotionsMessage {
  return {
    frame: { schemaVersion: SCHEMA_VERSION, cameraId: 'cam', seq, mediaTimeMs: seq * 100, capturedAtMs: 1_800_000_000_000 + seq * 100, width: 1280, height: 720 },
    faces: faces.map((f) => ({
      box: { x: f.cx - 40, y: 260, width: 80, height: 80 }, score: 0.9,
      probabilities: Object.fromEntries(EMOTIONS.map((e) => [e, e === f.emotion ? (f.p ?? 0.9) : (1 - (f.p ?? 0.9)) / 6])) as Record<Emotion, number>,
    })),
    modelVersion: 'test',
  };
}

const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };

test('docs/contract/*.schema.json are the schemas generated from the code (npm run docs:contract)', () => {
  for (const [name, schema] of Object.entries(contractSchemas())) {
    const file = path.join(ROOT, 'docs/contract', name);
    assert.equal(fs.readFileSync(file, 'utf8'), JSON.stringify(schema, null, 2) + '\n', `${name} differs: run npm run docs:contract`);
  }
});

test('the aggregator\'s events and timelines validate against the published JSON Schemas; a broken event does not', () => {
  const schemas = contractSchemas();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const event = ajv.compile(JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/contract/emotion-event.schema.json'), 'utf8')));
  const timelines = ajv.compile(schemas['timelines.schema.json']);
  const a = new Aggregator();
  const events = [];
  for (let i = 0; i < 30; i++) {
    const faces = i < 20 ? [{ cx: 300, emotion: i < 10 ? 'happy' as const : 'sad' as const }, { cx: 900, emotion: 'neutral' as const, p: 0.3 }] : [];
    events.push(...a.push(emotionsMessage(i, faces)));
  }
  events.push(...a.end());
  assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), ['emotion.changed', 'person.appeared', 'person.left']);
  assert.ok(events.some((e) => e.emotion === 'uncertain'), 'an uncertain event is in the sample');
  for (const e of events) assert.ok(event(JSON.parse(JSON.stringify(e))), JSON.stringify(event.errors));
  assert.ok(timelines(JSON.parse(JSON.stringify(a.timelines()))), JSON.stringify(timelines.errors));
  assert.equal(event({ ...events[0], emotion: 'bored' }), false, 'an unknown emotion is refused');
  assert.equal(event({ ...events[0], eventId: 'x' }), false, 'a malformed eventId is refused');
  const { personId: _p, ...noPerson } = events[0];
  assert.equal(event(noPerson), false, 'a missing personId is refused');
});

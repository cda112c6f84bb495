/**
 * The published contract (schemas/) is what the code writes: the JSON Schemas are the ones
 * generated from the zod schemas; real events and timelines of the pipeline's aggregator and
 * real messages of the Kafka codecs validate against them with a JSON Schema validator (ajv,
 * draft 2020-12); and schemas/asyncapi.yaml, which points at them, is a valid AsyncAPI 3
 * document for the AsyncAPI parser (its $refs resolved), covering every topic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Parser, fromFile, DiagnosticSeverity } from '@asyncapi/parser';
import { EMOTIONS, SCHEMA_VERSION, contractSchemas, type Emotion, type EmotionsMessage, type FacesMessage } from '@emostream/contracts';
import {
  CROP_BYTES, ENVELOPE_KIND, decodeFaces, decodeFrame, encodeControl, encodeEmotions, encodeEvent, encodeFaces, encodeFrame, pipelineTopics, unpackEnvelope,
  type InMessage, type OutMessage,
} from '@emostream/kafka';
import { Aggregator } from '@emostream/aggregator';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SCHEMAS = path.join(ROOT, 'schemas');
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

type Validate = ((d: unknown) => boolean) & { errors?: unknown };
const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => { compile(s: object): Validate };
/** A validator of one schema (a fresh ajv each: the published schemas share nothing, and a second compile of an $id would clash). */
const compile = (schema: object): Validate => new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
/** The validator of a published file, read from disk. */
const published = (name: string): Validate => compile(JSON.parse(fs.readFileSync(path.join(SCHEMAS, name), 'utf8')) as object);
const asIn = (m: OutMessage): InMessage => ({ key: Buffer.from(m.key), value: m.value, headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])) });
const headersText = (m: OutMessage) => Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, String(v)]));

test('schemas/*.schema.json are the schemas generated from the code, and nothing else (npm run docs:contract)', () => {
  const schemas = contractSchemas();
  for (const [name, schema] of Object.entries(schemas)) {
    const file = path.join(SCHEMAS, name);
    assert.ok(fs.existsSync(file), `${name} is missing: run npm run docs:contract`);
    assert.equal(fs.readFileSync(file, 'utf8'), JSON.stringify(schema, null, 2) + '\n', `${name} differs: run npm run docs:contract`);
    assert.equal((schema as { $id: string }).$id, `https://emostream.dev/schemas/${name}`, `${name}: its $id names the file`);
    assert.match((schema as { title: string }).title, /^emostream /, `${name}: titled`);
  }
  const extra = fs.readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json') && !(f in schemas));
  assert.deepEqual(extra, [], 'schemas/ holds only generated schemas (delete the others)');
});

test('the aggregator\'s events and timelines validate against the published JSON Schemas; a broken event does not', () => {
  const event = published('emotion-event.schema.json');
  const timelines = published('timelines.schema.json');
  const a = new Aggregator();
  const events = [];
  for (let i = 0; i < 30; i++) {
    const faces = i < 20 ? [{ cx: 300, emotion: i < 10 ? 'happy' as const : 'sad' as const }, { cx: 900, emotion: 'neutral' as const, p: 0.25 }] : [];
    events.push(...a.push(emotionsMessage(i, faces)));
  }
  events.push(...a.end());
  assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), ['emotion.changed', 'person.appeared', 'person.left']);
  assert.ok(events.some((e) => e.emotion === 'uncertain'), 'an uncertain event is in the sample');
  for (const e of events) {
    assert.ok(event(JSON.parse(JSON.stringify(e))), JSON.stringify(event.errors));
    assert.ok(event(JSON.parse(encodeEvent(e).value.toString('utf8'))), 'the event as it goes on the topic');
  }
  assert.ok(timelines(JSON.parse(JSON.stringify(a.timelines()))), JSON.stringify(timelines.errors));
  assert.equal(event({ ...events[0], emotion: 'bored' }), false, 'an unknown emotion is refused');
  assert.equal(event({ ...events[0], eventId: 'x' }), false, 'a malformed eventId is refused');
  const { personId: _p, ...noPerson } = events[0];
  assert.equal(event(noPerson), false, 'a missing personId is refused');
});

test('the Kafka codecs\' messages validate against the published schemas, and the schemas refuse what the decoders refuse', () => {
  const ref = { schemaVersion: SCHEMA_VERSION, cameraId: 'c1', seq: 3, run: 'r1', mediaTimeMs: 300, capturedAtMs: 1_750_000_000_000, width: 4, height: 2, sceneCut: true };
  // frames: the FrameRef JSON of the emostream-frame header.
  const frameHeader = published('frame-header.schema.json');
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  const frame = encodeFrame({ ...ref, pixels: { format: 'jpeg', data: jpeg } }, { live: true });
  const header = JSON.parse(headersText(frame)['emostream-frame']) as Record<string, unknown>;
  for (const [what, h] of [
    ['as encoded', header], ['unknown field', { ...header, extra: 1 }], ['negative seq', { ...header, seq: -1 }], ['no camera', { ...header, cameraId: '' }],
    ['a camera id outside the rule', { ...header, cameraId: 'my cam' }], ['a 65-character camera id', { ...header, cameraId: 'c'.repeat(65) }],
    ['16384 px a side', { ...header, width: 16384, height: 16384 }], ['16385 px wide', { ...header, width: 16385 }],
  ] as const) {
    const decoded = decodeFrame({ ...asIn(frame), headers: { ...asIn(frame).headers, 'emostream-frame': Buffer.from(JSON.stringify(h)) } }).ok;
    assert.equal(frameHeader(h), decoded, `frame header ${what}: schema and decoder agree (${decoded})`);
  }
  assert.ok(frameHeader(header), JSON.stringify(frameHeader.errors));

  // faces: the JSON inside the binary envelope.
  const facesMeta = published('faces-meta.schema.json');
  const crop = new Uint8Array(CROP_BYTES).fill(7);
  const msg: FacesMessage = { frame: ref, faces: [{ box: { x: 1, y: 2, width: 30, height: 30 }, score: 0.9, eyes: { left: [8, 9], right: [20, 9] }, embedding: 'AAEC', crop }] };
  const faces = encodeFaces(msg);
  const { meta } = unpackEnvelope(faces.value, ENVELOPE_KIND.faces);
  assert.ok(facesMeta(meta), JSON.stringify(facesMeta.errors));
  const m = meta as { frame: object; faces: Array<Record<string, unknown>> };
  for (const [what, bad] of [
    ['a crop inside the JSON', { ...m, faces: [{ ...m.faces[0], crop: [1, 2] }] }], ['a score above 1', { ...m, faces: [{ ...m.faces[0], score: 2 }] }],
    ['three eye coordinates', { ...m, faces: [{ ...m.faces[0], eyes: { left: [1, 2, 3], right: [1, 2] } }] }], ['no frame', { ...m, frame: undefined }],
  ] as const) {
    assert.equal(facesMeta(JSON.parse(JSON.stringify(bad))), false, `faces meta with ${what} is refused`);
    const json = Buffer.from(JSON.stringify(bad));
    const env = Buffer.concat([faces.value.subarray(0, 4), Buffer.from([0, 0, 0, 0]), json, Buffer.from(crop)]);
    env.writeUInt32BE(json.length, 4);
    assert.equal(decodeFaces({ ...asIn(faces), value: env }).ok, false, `…and by the decoder (${what})`);
  }

  // emotions: the JSON value.
  const emotions = published('emotions.schema.json');
  const em = emotionsMessage(1, [{ cx: 300, emotion: 'happy' }]);
  em.faces[0].embedding = 'AAEC';
  assert.ok(emotions(JSON.parse(encodeEmotions(em).value.toString('utf8'))), JSON.stringify(emotions.errors));
  assert.equal(emotions({ ...em, faces: [{ ...em.faces[0], probabilities: { happy: 1 } }] }), false, 'seven probabilities or none');

  // control: the headers of an end marker (its value is empty).
  const control = published('control-headers.schema.json');
  const end = encodeControl({ type: 'end', cameraId: 'c9' });
  assert.equal(end.value.length, 0);
  assert.ok(control(headersText(end)), JSON.stringify(control.errors));
  assert.equal(control({ ...headersText(end), 'emostream-kind': 'frame' }), false, 'a data message is not a control message');
});

test('schemas/asyncapi.yaml is a valid AsyncAPI 3 document (@asyncapi/parser, $refs resolved) covering every topic with the published schemas', async () => {
  const file = path.join(SCHEMAS, 'asyncapi.yaml');
  const { document, diagnostics } = await fromFile(new Parser(), file).parse();
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  assert.deepEqual(errors.map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`), [], 'no error-level diagnostic');
  assert.ok(document, 'parsed');
  assert.match(document.version(), /^3\./);

  // Every topic the services create, and nothing else (the prefix is the address parameter).
  const t = pipelineTopics('{prefix}');
  const topics = [t.frames, t.faces, t.emotions, t.events, ...Object.values(t.dlq), t.aggregatorState].sort();
  assert.deepEqual(document.channels().all().map((c) => c.address()).sort(), topics);

  // Every message schema file is referenced (timelines.json is a file, not a topic's message).
  const text = fs.readFileSync(file, 'utf8');
  const referenced = new Set([...text.matchAll(/\$ref: '\.\/([^']+)'/g)].map((x) => x[1]));
  const files = Object.keys(contractSchemas()).filter((n) => n !== 'timelines.schema.json');
  assert.deepEqual(files.filter((n) => !referenced.has(n)), [], 'every message schema is in the AsyncAPI document');
  assert.deepEqual([...referenced].filter((n) => !fs.existsSync(path.join(SCHEMAS, n))), [], 'every referenced file exists');

  // The resolved payloads are the generated schemas, and each message's examples validate against its payload and headers.
  const byName = new Map(document.messages().all().map((msg) => [msg.name(), msg]));
  const titleOf = (n: string | undefined) => (n ? (byName.get(n)?.payload()?.json() as { title?: string } | undefined)?.title : undefined);
  assert.equal(titleOf('emotionEvent'), (contractSchemas()['emotion-event.schema.json'] as { title: string }).title);
  assert.equal(titleOf('emotions'), (contractSchemas()['emotions.schema.json'] as { title: string }).title);
  let examples = 0;
  for (const msg of document.messages().all()) {
    for (const ex of msg.examples().all()) {
      examples++;
      if (ex.hasPayload()) {
        const v = compile(msg.payload()!.json());
        assert.ok(v(ex.payload()), `${msg.name()} example ${ex.name()}: ${JSON.stringify(v.errors)}`);
      }
      if (ex.hasHeaders()) {
        const v = compile(msg.headers()!.json());
        assert.ok(v(ex.headers()), `${msg.name()} example ${ex.name()} headers: ${JSON.stringify(v.errors)}`);
      }
    }
  }
  assert.ok(examples > 0, 'the examples were checked');
});

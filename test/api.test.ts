// The live API: an event stream client reads events with ids and resumes with Last-Event-ID;
// `analyze --realtime --http 0` serves the page while the clip plays and headless Chromium sees
// the woman's lane on it; `serve api` on a real broker rebuilds the same state from the events
// topic, and again after a restart.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { EMOTIONS, EmotionEventSchema, SCHEMA_VERSION, type Emotion, type EmotionEvent, type EmotionState } from '@emostream/contracts';
import { silentLogger } from '@emostream/runtime';
import { createKafka, createProducer, encodeEvent, ensureTopics, kafkaConfigFromEnv, pipelineTopicSpecs, pipelineTopics } from '@emostream/kafka';
import { LiveTimelines, startApiServer, type LivePerson } from '@emostream/pipeline';
import { testModelDir, MEDIA } from './helpers/model.js';
import { brokerUnavailable, ensureBroker, randomTopics } from './helpers/kafka.js';
import { filesMissing, requireResource } from './helpers/resources.js';
import { StopWaiting, waitFor } from './helpers/wait.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CLIP = path.join(MEDIA, 'woman2.mp4');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-api-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
const validTimelines = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/timelines.schema.json'), 'utf8')));

/** A hand-made event, `at` now. */
function event(type: EmotionEvent['type'], cameraId: string, personId: string, t: number, emotion: EmotionState, confidence: number): EmotionEvent {
  const at = new Date().toISOString();
  const probabilities = Object.fromEntries(EMOTIONS.map((e) => [e, e === emotion ? confidence : (1 - confidence) / 6])) as Record<Emotion, number>;
  return {
    schemaVersion: SCHEMA_VERSION, eventId: createHash('sha256').update(`${cameraId}/${personId}/${type}/${t}/${at}/${Math.random()}`).digest('hex').slice(0, 32),
    type, cameraId, personId, at, mediaTimeMs: t, emotion, confidence, probabilities, modelVersion: 'api-test',
  };
}

/** One Server-Sent Events message. */
interface SseMessage { id?: string; event?: string; data: string }

/** An event stream client: the messages as they come (comments and `retry:` left out). */
function sse(url: string, headers: Record<string, string> = {}) {
  const messages: SseMessage[] = [];
  let req!: http.ClientRequest;
  const opened = new Promise<http.IncomingMessage>((resolve, reject) => {
    req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        const blocks = (rest + d).split('\n\n');
        rest = blocks.pop()!;
        for (const b of blocks) {
          const m: SseMessage = { data: '' };
          for (const line of b.split('\n')) {
            const i = line.indexOf(':');
            const [k, v] = i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1).replace(/^ /, '')];
            if (k === 'id') m.id = v; else if (k === 'event') m.event = v; else if (k === 'data') m.data += v;
          }
          if (m.data || m.event) messages.push(m);
        }
      });
      resolve(res);
    });
    req.on('error', reject);
  });
  return { messages, opened, close: () => req.destroy() };
}

test('event stream: events with their eventId as id, resumed with Last-Event-ID, a reset for a lost id', async (t) => {
  const live = new LiveTimelines({ eventBuffer: 4 });
  const server = await startApiServer(live, { port: 0 });
  t.after(() => server.close());
  const url = `${server.url}api/events`;
  const first = sse(url);
  const res = await first.opened;
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type']!, /^text\/event-stream/);
  const es = [
    event('person.appeared', 'lobby', 'p1', 1000, 'neutral', 0.6), event('emotion.changed', 'lobby', 'p1', 2000, 'happy', 0.7),
    event('person.appeared', 'lobby', 'p2', 2500, 'sad', 0.5), event('person.left', 'lobby', 'p1', 3000, 'happy', 0.7),
  ];
  live.push(es[0]);
  live.push(es[1]);
  live.push({ ...es[1] }); // a duplicate: not streamed again
  await waitFor('two events', () => first.messages.length >= 2, { timeoutMs: 5000 });
  assert.deepEqual(first.messages.map((m) => m.id), [es[0].eventId, es[1].eventId]);
  assert.deepEqual(first.messages.map((m) => EmotionEventSchema.parse(JSON.parse(m.data))), es.slice(0, 2));
  first.close();

  // Missed while away: the client resumes after the last id it saw.
  live.push(es[2]);
  live.push(es[3]);
  const again = sse(url, { 'last-event-id': es[1].eventId! });
  await waitFor('the two missed events', () => again.messages.length >= 2, { timeoutMs: 5000 });
  live.push(event('person.left', 'lobby', 'p2', 4000, 'sad', 0.5));
  await waitFor('and the next one live', () => again.messages.length >= 3, { timeoutMs: 5000 });
  assert.deepEqual(again.messages.slice(0, 2).map((m) => m.id), [es[2].eventId, es[3].eventId]);
  again.close();

  // ?lastEventId= (EventSource cannot set the header on its first request) and the start.
  const fromQuery = sse(`${url}?lastEventId=${es[2].eventId}`);
  await waitFor('events after es[2]', () => fromQuery.messages.length >= 2, { timeoutMs: 5000 });
  assert.equal(fromQuery.messages[0].id, es[3].eventId);
  fromQuery.close();

  // An id no longer buffered (4 kept): a reset, then the live events.
  const lost = sse(url, { 'last-event-id': es[0].eventId! });
  await waitFor('a reset', () => lost.messages.length >= 1, { timeoutMs: 5000 });
  assert.equal(lost.messages[0].event, 'reset');
  assert.match(JSON.parse(lost.messages[0].data).reason, /no longer buffered/);
  // Closing the server ends open streams (it does not wait for the clients).
  const t0 = Date.now();
  await server.close();
  assert.ok(Date.now() - t0 < 3000, 'closed at once');
});

test('analyze --realtime --http 0: the page shows the person\'s lane while the clip plays', async (t) => {
  if (!requireResource(t, 'sample media', filesMissing(CLIP))) return;
  if (!requireResource(t, 'Chromium', fs.existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`)) return;
  const model = await testModelDir();
  const out = path.join(tmp, 'woman');
  const p = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'analyze', CLIP, '--realtime', '--http', '0', '--model', model, '--out', out, '--fps', '5', '--no-progress'], {
    cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(p);
  let stderr = '';
  p.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => p.on('close', (code) => { children.delete(p); resolve(code); }));
  const running = () => p.exitCode === null && p.signalCode === null;
  const base = await waitFor('the live API address on stderr', () => {
    if (!running()) throw new StopWaiting(`analyze exited: ${stderr}`);
    return /live API on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
  }, { timeoutMs: 60_000 });
  const stream = sse(`${base}api/events?lastEventId=0`);
  t.after(() => stream.close());

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
  const problems: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
  await page.goto(base, { waitUntil: 'load' });
  const lane = page.locator('.lane[data-person-id]').first();
  await lane.waitFor({ state: 'visible', timeout: 60_000 });
  assert.ok(running(), 'the lane is shown while the clip is still playing');
  const personId = await lane.getAttribute('data-person-id');
  assert.match(personId ?? '', /^p\d+$/);
  assert.equal(await page.locator('#camera').inputValue(), 'cam0');
  await page.locator('#status.live').waitFor({ timeout: 10_000 });
  const emotion = await lane.locator('.state').getAttribute('data-emotion');
  assert.ok((EMOTIONS as readonly string[]).includes(emotion!) || emotion === 'uncertain', `current emotion shown: ${emotion}`);
  // The lane grows with the clip (the camera's clock moves on between events).
  const width = async () => (await lane.locator('.seg').last().boundingBox())?.width ?? 0;
  const w0 = await width();
  await waitFor('the lane to grow', async () => (await width()) > w0 + 5 || (!running() && await width() > 0), { timeoutMs: 10_000 });
  assert.match(await lane.locator('.seg').first().getAttribute('style') ?? '', /background: rgb\(\d+, \d+, \d+\); opacity: 0?\.\d+/, 'segments are coloured and shaded');
  // The same state as JSON, and the timelines document valid against the contract's schema.
  const persons = await (await fetch(`${base}api/persons?camera=cam0`)).json() as LivePerson[];
  assert.ok(persons.some((x) => x.personId === personId && x.present && x.segments.length > 0));
  const tl = await (await fetch(`${base}api/timelines`)).json();
  assert.ok(validTimelines(tl), JSON.stringify(validTimelines.errors));
  const shot = path.join(tmp, 'live.png');
  await page.screenshot({ path: shot, fullPage: true });
  fs.copyFileSync(shot, path.join(os.tmpdir(), 'emostream-live-page.png'));
  console.log(`live page screenshot: ${path.join(os.tmpdir(), 'emostream-live-page.png')}`);
  // The event stream from the start carried her appearance with its id.
  const appeared = stream.messages.find((m) => m.data.includes('"person.appeared"'));
  assert.ok(appeared && appeared.id && JSON.parse(appeared.data).eventId === appeared.id, 'person.appeared with id = eventId');

  assert.equal(await exited, 0, stderr);
  assert.deepEqual(foreign, [], 'the page fetched from its own server only');
  assert.deepEqual(problems.filter((x) => !/ERR_CONNECTION_REFUSED|EventSource/.test(x)), []);
  // Every event the run wrote went out on the stream, in order, with its id.
  const written = fs.readFileSync(path.join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EmotionEvent);
  assert.deepEqual(stream.messages.filter((m) => !m.event).map((m) => m.id), written.map((e) => e.eventId));
});

for (const [name, args, pattern] of [
  ['--realtime on a camera', ['rtsp://127.0.0.1:1/cam', '--realtime'], /--realtime applies to files only \(a camera is real time already\)/],
  ['--http out of range', ['x.mp4', '--http', '70000'], /--http must be an integer from 0 to 65535, got '70000'/],
  ['--http-host without --http', ['x.mp4', '--http-host', '0.0.0.0'], /--http-host needs --http <port>/],
] as const) {
  test(`analyze: ${name} → one clear line and a non-zero exit`, async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'analyze', ...args, '--out', path.join(tmp, 'bad')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr!.on('data', (d) => { stderr += d; });
      p.on('close', (code) => resolve({ code, stderr }));
    });
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('emostream:') || l.startsWith('error:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
  });
}

test('serve api on Kafka: events from the topic (deduplicated) through the API, rebuilt after a restart', async (t) => {
  if (!requireResource(t, 'Kafka broker', brokerUnavailable())) return;
  const brokers = await ensureBroker();
  const prefix = randomTopics();
  const config = kafkaConfigFromEnv({}, { brokers, topicPrefix: prefix, partitions: 2 });
  const kafka = createKafka(config, 'api-test', silentLogger);
  await ensureTopics(kafka, pipelineTopicSpecs(config), silentLogger);
  const producer = createProducer(kafka);
  await producer.connect();
  t.after(() => producer.disconnect());
  const es = [
    event('person.appeared', 'lobby', 'p1', 1000, 'neutral', 0.6), event('person.appeared', 'door', 'p1', 500, 'sad', 0.55),
    event('emotion.changed', 'lobby', 'p1', 4000, 'happy', 0.8), event('person.appeared', 'lobby', 'p2', 5000, 'surprise', 0.5),
    event('person.left', 'lobby', 'p1', 6000, 'happy', 0.75),
  ];
  // At least once: the changed event twice.
  await producer.send({ topic: pipelineTopics(prefix).events, messages: [...es, es[2]].map(encodeEvent) });

  const start = async () => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'serve', 'api'], {
      cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KAFKA_BROKERS: brokers.join(','), EMOSTREAM_TOPIC_PREFIX: prefix, EMOSTREAM_METRICS_PORT: '0', EMOSTREAM_LOG_LEVEL: 'info', API_HTTP_PORT: '0' },
    });
    children.add(p);
    let stderr = '';
    p.stderr!.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((resolve) => p.on('close', (code) => { children.delete(p); resolve(code); }));
    const url = await waitFor('serve api to listen', () => {
      if (p.exitCode !== null) throw new StopWaiting(`serve api exited: ${stderr}`);
      const line = stderr.split('\n').find((l) => l.includes('"live API listening"'));
      return line ? (JSON.parse(line) as { url: string }).url : undefined;
    }, { timeoutMs: 60_000 });
    return { url, stop: async () => { p.kill('SIGTERM'); return exited; }, stderr: () => stderr };
  };
  const expected = {
    lobby: [
      { personId: 'p1', firstSeenMs: 1000, lastSeenMs: 6000, present: false, emotion: 'happy', segments: [['neutral', 1000, 4000, 0.6], ['happy', 4000, 6000, 0.8]] },
      { personId: 'p2', firstSeenMs: 5000, lastSeenMs: 6000, present: true, emotion: 'surprise', segments: [['surprise', 5000, 6000, 0.5]] },
    ],
    door: [{ personId: 'p1', firstSeenMs: 500, lastSeenMs: 500, present: true, emotion: 'sad', segments: [['sad', 500, 500, 0.55]] }],
  };
  const shape = (ps: LivePerson[]) => ps.map((p) => ({ personId: p.personId, firstSeenMs: p.firstSeenMs, lastSeenMs: p.lastSeenMs, present: p.present, emotion: p.emotion, segments: p.segments.map((s) => [s.emotion, s.startMs, s.endMs, s.meanConfidence]) }));
  const get = async <T>(url: string) => { const r = await fetch(url); return { status: r.status, body: await r.json() as T }; };
  type Camera = { cameraId: string; present: string[]; events: number };

  for (const round of ['first start', 'after a restart']) {
    const api = await start();
    try {
      await waitFor(`${round}: the events through the API`, async () => (await get<Camera[]>(`${api.url}api/cameras`)).body.reduce((n, c) => n + c.events, 0) >= es.length, { timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 300)); // a doubled event would arrive by now
      const cams = (await get<Camera[]>(`${api.url}api/cameras`)).body;
      assert.deepEqual(cams.map((c) => [c.cameraId, c.present, c.events]), [['door', ['p1'], 1], ['lobby', ['p2'], 4]], `${round}: the duplicate is dropped`);
      for (const cam of ['lobby', 'door'] as const) assert.deepEqual(shape((await get<LivePerson[]>(`${api.url}api/persons?camera=${cam}`)).body), expected[cam], `${round}: ${cam}`);
      const missing = await get(`${api.url}api/persons?camera=hall`);
      assert.equal(missing.status, 404);
      assert.ok(validTimelines((await get(`${api.url}api/timelines`)).body));
      const s = sse(`${api.url}api/events?lastEventId=0`);
      await waitFor('the events on the stream', () => s.messages.length >= es.length, { timeoutMs: 10_000 });
      s.close();
      assert.deepEqual(new Set(s.messages.map((m) => m.id)), new Set(es.map((e) => e.eventId)));
    } finally {
      assert.equal(await api.stop(), 0, api.stderr());
    }
  }
});

// The live API's routes through fastify's inject: JSON bodies, 400 naming the valid values, 404
// for an unknown camera or path, 405 for a method other than GET/HEAD, the page's safety headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimelinesSchema } from '@emostream/contracts';
import { LiveTimelines, START_ID } from './live.js';
import { buildApi } from './server.js';
import { T0, ev } from './testkit.js';

function api() {
  const live = new LiveTimelines({}, () => T0 + 10_000);
  live.push(ev('person.appeared', 'p1', 1000, 'neutral', 0.6));
  live.push(ev('emotion.changed', 'p1', 3000, 'happy', 0.7));
  live.push(ev('person.appeared', 'p1', 2000, 'sad', 0.5, { camera: 'door' }));
  const app = buildApi(live);
  return { live, app };
}

test('GET /api/cameras, /api/persons and /api/timelines', async (t) => {
  const { live, app } = api();
  t.after(() => app.close());
  const cams = await app.inject('/api/cameras');
  assert.equal(cams.statusCode, 200);
  assert.match(cams.headers['content-type'] as string, /^application\/json/);
  assert.deepEqual(cams.json().map((c: { cameraId: string; present: string[] }) => [c.cameraId, c.present]), [['cam0', ['p1']], ['door', ['p1']]]);
  assert.equal(cams.headers['x-last-event-id'], live.lastEventId);

  const persons = await app.inject('/api/persons?camera=cam0');
  assert.equal(persons.statusCode, 200);
  assert.deepEqual(persons.json(), [{
    cameraId: 'cam0', personId: 'p1', firstSeenMs: 1000, lastSeenMs: 3000, present: true, emotion: 'happy', confidence: 0.7,
    segments: [{ emotion: 'neutral', startMs: 1000, endMs: 3000, meanConfidence: 0.6 }, { emotion: 'happy', startMs: 3000, endMs: 3000, meanConfidence: 0.7 }],
  }]);
  assert.equal((await app.inject('/api/persons')).json().length, 2, 'no camera: every camera');
  assert.equal((await app.inject('/api/persons?camera=cam0&since=3001')).json().length, 0);
  assert.equal((await app.inject('/api/persons?camera=cam0&since=3000')).json().length, 1);

  const tl = await app.inject('/api/timelines');
  assert.equal(tl.statusCode, 200);
  assert.deepEqual(Object.keys(TimelinesSchema.parse(tl.json()).cameras), ['cam0', 'door']);

  const head = await app.inject({ method: 'HEAD', url: '/api/cameras' });
  assert.equal(head.statusCode, 200);
  assert.equal(head.body, '');
  const empty = buildApi(new LiveTimelines());
  t.after(() => empty.close());
  const none = await empty.inject('/api/cameras');
  assert.deepEqual([none.json(), none.headers['x-last-event-id']], [[], START_ID]);
});

test('an unknown camera is a 404 with a JSON reason naming the known ones', async (t) => {
  const { app } = api();
  t.after(() => app.close());
  const r = await app.inject('/api/persons?camera=lobby');
  assert.equal(r.statusCode, 404);
  assert.deepEqual(r.json(), { error: 'Not Found', reason: "unknown camera 'lobby': known cameras: cam0, door" });
  const none = buildApi(new LiveTimelines());
  t.after(() => none.close());
  assert.match((await none.inject('/api/persons?camera=cam0')).json().reason, /no camera has sent an event yet/);
});

test('bad query values are a 400 naming the valid range', async (t) => {
  const { app } = api();
  t.after(() => app.close());
  for (const [url, reason] of [
    ['/api/persons?camera=cam0&since=abc', /since must be a media time in ms from 0 to 9007199254740991, got 'abc'/],
    ['/api/persons?camera=cam0&since=-5', /since must be .* from 0 to .*, got '-5'/],
    ['/api/persons?camera=cam0&since=1e99', /since must be/],
    ['/api/persons?camera=', /camera must be a camera id of 1 to 200 characters/],
    ['/api/persons?camera=cam0&camera=door', /query parameter 'camera' given more than once/],
    ['/api/persons?cam=cam0', /unknown query parameter 'cam': valid: camera, since/],
    ['/api/cameras?x=1', /unknown query parameter 'x': this route takes none/],
    ['/api/events?from=1', /unknown query parameter 'from': valid: lastEventId/],
  ] as const) {
    const r = await app.inject(url);
    assert.equal(r.statusCode, 400, url);
    assert.equal(r.json().error, 'Bad Request');
    assert.match(r.json().reason, reason, url);
  }
});

test('GET and HEAD only: 405 with Allow on a route, 404 elsewhere', async (t) => {
  const { app } = api();
  t.after(() => app.close());
  for (const [method, url] of [['POST', '/api/persons'], ['DELETE', '/'], ['PUT', '/api/events'], ['PATCH', '/api/timelines'], ['OPTIONS', '/api/cameras']] as const) {
    const r = await app.inject({ method, url, payload: method === 'POST' ? '<x/>' : undefined, headers: { 'content-type': 'application/xml' } });
    assert.equal(r.statusCode, 405, `${method} ${url}`);
    assert.equal(r.headers.allow, 'GET, HEAD');
    assert.match(r.json().reason, new RegExp(`method ${method} not allowed on ${url.replace(/\//g, '\\/')}: use GET or HEAD`));
  }
  const missing = await app.inject('/api/nothing');
  assert.equal(missing.statusCode, 404);
  assert.match(missing.json().reason, /no route \/api\/nothing: the routes are \/, \/api\/cameras, \/api\/persons, \/api\/timelines, \/api\/events/);
  assert.equal((await app.inject({ method: 'POST', url: '/api/nothing' })).statusCode, 404);
});

test('the page: self-contained HTML that may fetch from this server only', async (t) => {
  const { app } = api();
  t.after(() => app.close());
  const r = await app.inject('/');
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /^text\/html/);
  assert.match(r.headers['content-security-policy'] as string, /default-src 'none'.*connect-src 'self'/);
  assert.doesNotMatch(r.body, /(src|href)=["']?(https?:)?\/\//, 'no external resource');
  assert.match(r.body, /"happy":"#f2b701"/, "the report's colours");
  const head = await app.inject({ method: 'HEAD', url: '/api/events' });
  assert.equal(head.statusCode, 200, 'HEAD of the event stream answers at once');
  assert.match(head.headers['content-type'] as string, /^text\/event-stream/);
});

test('bound to loopback: a request for another host name is refused (DNS rebinding)', async (t) => {
  const app = buildApi(new LiveTimelines(), { loopbackHostsOnly: true });
  t.after(() => app.close());
  for (const host of ['localhost:8080', '127.0.0.1:39000', '[::1]:8080', 'LOCALHOST']) {
    assert.equal((await app.inject({ url: '/api/cameras', headers: { host } })).statusCode, 200, host);
  }
  const r = await app.inject({ url: '/api/cameras', headers: { host: 'evil.example:8080' } });
  assert.equal(r.statusCode, 403);
  assert.match(r.json().reason, /host evil\.example:8080 not allowed: this API answers on this machine only/);
});

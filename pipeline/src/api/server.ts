/**
 * The live API over HTTP (fastify): the same routes for `analyze --http` and `serve api`, on one
 * {@link LiveTimelines}. Read-only: GET and HEAD, 405 for another method on a route, 404 (JSON)
 * elsewhere; bad query values get 400 naming the valid values, an unknown camera 404.
 *
 *   GET /                 the live page (self-contained, no external fetch)
 *   GET /api/cameras      cameras, persons present now, counts
 *   GET /api/persons      ?camera=ID&since=MS: persons with their current emotion and segments
 *   GET /api/timelines    the timelines.json document of what is kept now
 *   GET /api/events       Server-Sent Events, `id:` = eventId, resumable with Last-Event-ID
 */
import type { AddressInfo } from 'node:net';
import { fastify, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { silentLogger, type Logger } from '@emostream/runtime';
import { START_ID, type LiveTimelines, type StreamedEvent } from './live.js';
import { livePage } from './page.js';

/** Options of {@link buildApi} and {@link startApiServer}. */
export interface ApiServerOptions {
  /** Event stream clients at once (one more gets 503); default 100. */
  maxStreams?: number;
  /** A comment line on idle event streams this often, ms; default 15 s. */
  heartbeatMs?: number;
  /**
   * Answer only requests whose Host is this machine (localhost, 127.0.0.1, [::1]): a web page
   * elsewhere cannot read a loopback-bound API through DNS rebinding. Set by
   * {@link startApiServer} when it binds a loopback address.
   */
  loopbackHostsOnly?: boolean;
  logger?: Logger;
}

/** A listening API server. */
export interface ApiServer {
  /** `http://host:port/`. */
  url: string;
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

const ROUTES = ['/', '/api/cameras', '/api/persons', '/api/timelines', '/api/events'];
const ALLOW = 'GET, HEAD';
const MAX_SINCE = Number.MAX_SAFE_INTEGER;
/** An event stream whose client reads slower than this many buffered bytes is ended (it resumes with Last-Event-ID). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;
const STATUS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 503: 'Service Unavailable' };
/** The page may talk to this server only. */
const PAGE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

class HttpError extends Error {
  constructor(readonly status: number, readonly reason: string) { super(reason); }
}

const fail = (reply: FastifyReply, status: number, reason: string) =>
  reply.code(status).header('cache-control', 'no-store').send({ error: STATUS[status] ?? 'Error', reason });

/** The query of a route as single strings; unknown or repeated parameters are a 400. */
function queryOf(req: FastifyRequest, allowed: readonly string[]): Record<string, string> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (!allowed.includes(k)) throw new HttpError(400, `unknown query parameter '${k}': ${allowed.length ? `valid: ${allowed.join(', ')}` : 'this route takes none'}`);
    if (typeof v !== 'string') throw new HttpError(400, `query parameter '${k}' given more than once`);
    out[k] = v;
  }
  return out;
}

function cameraOf(live: LiveTimelines, q: Record<string, string>): string | undefined {
  if (q.camera === undefined) return undefined;
  if (q.camera === '' || q.camera.length > 200) throw new HttpError(400, 'camera must be a camera id of 1 to 200 characters');
  if (!live.hasCamera(q.camera)) {
    const known = live.cameras().map((c) => c.cameraId);
    throw new HttpError(404, `unknown camera '${q.camera.slice(0, 200)}': ${known.length ? `known cameras: ${known.join(', ')}` : 'no camera has sent an event yet'}`);
  }
  return q.camera;
}

function sinceOf(q: Record<string, string>): number {
  if (q.since === undefined) return 0;
  const n = Number(q.since);
  if (!/^\d+(\.\d+)?$/.test(q.since) || !Number.isFinite(n) || n > MAX_SINCE) {
    throw new HttpError(400, `since must be a media time in ms from 0 to ${MAX_SINCE}, got '${q.since.slice(0, 40)}'`);
  }
  return n;
}

/** The fastify app of the live API (not listening; `app.inject` drives it in tests). */
export function buildApi(live: LiveTimelines, o: ApiServerOptions = {}): FastifyInstance {
  const log = o.logger ?? silentLogger;
  const maxStreams = o.maxStreams ?? 100;
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const streams = new Set<() => void>();
  const app = fastify({ logger: false, return503OnClosing: true });

  // Read-only: refused before any body is read.
  app.addHook('onRequest', async (req, reply) => {
    if (o.loopbackHostsOnly && !LOOPBACK.test(req.headers.host ?? '')) {
      return fail(reply, 403, `host ${String(req.headers.host ?? '(none)').slice(0, 100)} not allowed: this API answers on this machine only (use --http-host / API_HTTP_HOST to serve others)`);
    }
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const path = req.url.split('?')[0];
    if (ROUTES.includes(path)) return fail(reply.header('allow', ALLOW), 405, `method ${req.method} not allowed on ${path}: use GET or HEAD`);
    return fail(reply, 404, `no route ${path}: the routes are ${ROUTES.join(', ')}`);
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, `no route ${req.url.split('?')[0].slice(0, 200)}: the routes are ${ROUTES.join(', ')}`));
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof HttpError) return fail(reply, err.status, err.reason);
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) log.error('live API request failed', { error: err });
    return fail(reply, status, status >= 500 ? 'internal error' : (err as Error).message);
  });
  app.addHook('preClose', async () => { for (const end of [...streams]) end(); });

  // x-last-event-id: the state's position in the event stream (GET /api/events?lastEventId=… goes on from it).
  const json = (reply: FastifyReply, body: () => unknown) => reply.header('x-last-event-id', live.lastEventId ?? START_ID)
    .header('cache-control', 'no-store').type('application/json; charset=utf-8').send(body());

  app.get('/', async (req, reply) => {
    queryOf(req, ['camera']);
    return reply.header('content-security-policy', PAGE_CSP).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(livePage());
  });
  app.get('/api/cameras', async (req, reply) => { queryOf(req, []); return json(reply, () => live.cameras()); });
  app.get('/api/persons', async (req, reply) => {
    const q = queryOf(req, ['camera', 'since']);
    const since = sinceOf(q);
    const camera = cameraOf(live, q);
    return json(reply, () => live.persons(camera, since));
  });
  app.get('/api/timelines', async (req, reply) => { queryOf(req, []); return json(reply, () => live.timelines()); });

  app.get('/api/events', async (req, reply) => {
    const q = queryOf(req, ['lastEventId']);
    const header = req.headers['last-event-id'];
    const last = (typeof header === 'string' && header !== '' ? header : undefined) ?? (q.lastEventId || undefined);
    if (streams.size >= maxStreams) return fail(reply, 503, `too many event streams (${maxStreams}): try again later`);
    const head = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'x-last-event-id': live.lastEventId ?? START_ID };
    if (req.method === 'HEAD') return reply.headers(head).send();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...head, connection: 'keep-alive' });
    let open = true;
    const write = (text: string) => {
      if (!open) return;
      res.write(text);
      if (res.writableLength > MAX_BUFFERED_BYTES) end();
    };
    const send = (s: StreamedEvent) => write(`id: ${s.id}\ndata: ${JSON.stringify(s.event)}\n\n`);
    write('retry: 2000\n\n');
    const backlog = last === undefined ? [] : live.eventsAfter(last);
    if (backlog === undefined) {
      // Events were missed: the client reloads the state (GET /api/persons) and streams on from there.
      write(`event: reset\ndata: ${JSON.stringify({ reason: `event ${last!.slice(0, 64)} is no longer buffered: reload the state and resume from its x-last-event-id` })}\n\n`);
    } else for (const b of backlog) send(b);
    // Synchronous from the backlog to here: no event can come in between.
    const unsubscribe = live.subscribe(send);
    const ping = setInterval(() => write(': ping\n\n'), heartbeatMs);
    ping.unref();
    const end = () => {
      if (!open) return;
      open = false;
      clearInterval(ping);
      unsubscribe();
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    res.on('close', end);
    res.on('error', end);
  });
  return app;
}

/** Starts the live API on `host` (127.0.0.1 by default) and `port` (0: a free one). */
export async function startApiServer(live: LiveTimelines, o: ApiServerOptions & { port: number; host?: string }): Promise<ApiServer> {
  const host = o.host ?? '127.0.0.1';
  const app = buildApi(live, { loopbackHostsOnly: /^(localhost|127(\.\d{1,3}){3}|::1)$/i.test(host), ...o });
  try {
    await app.listen({ port: o.port, host });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code === 'EADDRINUSE' ? `live API port ${o.port} on ${host} is already in use: pick another` : `live API could not listen on ${host}:${o.port}: ${err.message}`);
  }
  const port = (app.server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shown}:${port}/`, port, app, close: () => app.close() };
}

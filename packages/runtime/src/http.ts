/** The HTTP endpoint of every service: `/metrics` (Prometheus), `/healthz` (liveness), `/readyz` (readiness). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A readiness check: ok, or the reasons why not (model not loaded, broker unreachable, no frames). */
export type ReadinessCheck = () => { ok: boolean; reasons: string[] };

/** A running metrics/health server. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

const PATHS = new Set(['/metrics', '/healthz', '/readyz']);

/**
 * Starts the server on 127.0.0.1 (or `host`); port 0 picks a free one. It answers GET and HEAD
 * on its three paths, 405 (with `Allow: GET, HEAD`) to any other method there, 404 elsewhere.
 */
export function startMetricsServer(opts: { port: number; host?: string; registry: Registry; ready?: ReadinessCheck; healthy?: ReadinessCheck }): Promise<MetricsServer> {
  const server = http.createServer(async (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    try {
      if (!PATHS.has(url)) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found: try /metrics, /healthz or /readyz\n');
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        // read-only endpoints: nothing to DELETE, POST or PUT (HEAD gets GET's headers, no body)
        res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
        res.end(`method ${req.method} not allowed: use GET or HEAD\n`);
      } else if (url === '/metrics') {
        const body = await opts.registry.metrics();
        res.writeHead(200, { 'content-type': opts.registry.contentType });
        res.end(body);
      } else if (url === '/healthz') {
        // Alive unless `healthy` says the process cannot go on (it should be restarted), and why.
        const h = opts.healthy ? opts.healthy() : { ok: true, reasons: [] };
        if (h.ok) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('ok\n');
        } else {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify(h) + '\n');
        }
      } else if (url === '/readyz') {
        const r = opts.ready ? opts.ready() : { ok: true, reasons: [] };
        res.writeHead(r.ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(r) + '\n');
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${(err as Error).message}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `metrics port ${opts.port} is already in use: pick another with --metrics-port` : e.message)));
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

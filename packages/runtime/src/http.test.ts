import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Registry } from 'prom-client';
import { startMetricsServer } from './http.js';

/** One real request; status, headers and body. */
function request(port: number, method: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET and HEAD answer on /metrics, /healthz and /readyz; other methods get 405 with Allow; unknown paths 404', async (t) => {
  const registry = new Registry();
  const server = await startMetricsServer({ port: 0, registry, ready: () => ({ ok: true, reasons: [] }) });
  t.after(() => server.close());
  assert.ok(server.port > 0);

  for (const path of ['/metrics', '/healthz', '/readyz', '/metrics?x=1']) {
    const get = await request(server.port, 'GET', path);
    assert.equal(get.status, 200, `GET ${path}`);
    const head = await request(server.port, 'HEAD', path);
    assert.equal(head.status, 200, `HEAD ${path}`);
    assert.equal(head.body, '', `HEAD ${path} has no body`);
    assert.equal(head.headers['content-type'], get.headers['content-type'], `HEAD ${path} content-type`);
    for (const method of ['DELETE', 'POST', 'PUT', 'PATCH', 'OPTIONS']) {
      const r = await request(server.port, method, path);
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.allow, 'GET, HEAD', `${method} ${path}: Allow`);
    }
  }
  assert.equal((await request(server.port, 'GET', '/healthz')).body, 'ok\n');
  assert.deepEqual(JSON.parse((await request(server.port, 'GET', '/readyz')).body), { ok: true, reasons: [] });

  for (const method of ['GET', 'HEAD', 'DELETE']) {
    const r = await request(server.port, method, '/nope');
    assert.equal(r.status, 404, `${method} /nope`);
  }
});

test('readiness failures still answer 503 to GET and HEAD', async (t) => {
  const server = await startMetricsServer({ port: 0, registry: new Registry(), ready: () => ({ ok: false, reasons: ['model not loaded'] }) });
  t.after(() => server.close());
  const get = await request(server.port, 'GET', '/readyz');
  assert.equal(get.status, 503);
  assert.deepEqual(JSON.parse(get.body), { ok: false, reasons: ['model not loaded'] });
  assert.equal((await request(server.port, 'HEAD', '/readyz')).status, 503);
  assert.equal((await request(server.port, 'DELETE', '/readyz')).status, 405);
});

test('/healthz answers 503 with the reasons while the liveness check fails, 200 again once it passes', async (t) => {
  let broken = true;
  const server = await startMetricsServer({
    port: 0, registry: new Registry(), ready: () => ({ ok: true, reasons: [] }),
    healthy: () => (broken ? { ok: false, reasons: ['circuit breaker open'] } : { ok: true, reasons: [] }),
  });
  t.after(() => server.close());
  const get = await request(server.port, 'GET', '/healthz');
  assert.equal(get.status, 503);
  assert.deepEqual(JSON.parse(get.body), { ok: false, reasons: ['circuit breaker open'] });
  assert.equal((await request(server.port, 'HEAD', '/healthz')).status, 503);
  assert.equal((await request(server.port, 'GET', '/readyz')).status, 200, 'readiness is its own check');
  broken = false;
  const ok = await request(server.port, 'GET', '/healthz');
  assert.equal(ok.status, 200);
  assert.equal(ok.body, 'ok\n');
});

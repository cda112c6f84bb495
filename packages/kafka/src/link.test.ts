import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { BrokerLink, SILENT_MS, brokerDownReason, brokerLinkOf } from './link.js';
import { createKafka } from './client.js';
import { kafkaConfigFromEnv } from './config.js';
import { recordingLogger } from './stage/fakes.js';

const listen = (port = 0) => new Promise<net.Server>((resolve) => {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  srv.listen(port, '127.0.0.1', () => resolve(Object.assign(srv, { dropAll: () => { for (const s of sockets) s.destroy(); } })));
}) as Promise<net.Server & { dropAll?: () => void }>;
const portOf = (srv: net.Server) => (srv.address() as net.AddressInfo).port;
const closed = (s: net.Socket) => new Promise<void>((r) => s.once('close', () => r()));
/** Connects through the link's socket factory; resolves once connected or closed. */
function connect(link: BrokerLink, port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = link.socketFactory()({ host: '127.0.0.1', port, ssl: null as never, onConnect: () => resolve(s) }) as net.Socket;
    s.on('error', () => {});
    s.once('close', () => resolve(s));
  });
}

test('real sockets: open connections keep it up; a broker that closes them and refuses new ones turns it down at the first failed attempt; a new connection turns it up again', async () => {
  const srv = await listen();
  const port = portOf(srv);
  let now = 10_000;
  const link = new BrokerLink(() => now);
  assert.equal(link.down(), undefined, 'nothing tried yet');
  const a = await connect(link, port);
  const b = await connect(link, port);
  assert.equal(link.open, 2);
  // The broker goes: it drops its connections (the clients see them close) and stops listening.
  const stopped = new Promise<void>((r) => srv.close(() => r()));
  const gone = [closed(a), closed(b)];
  (srv as net.Server & { dropAll: () => void }).dropAll();
  await Promise.all([...gone, stopped]);
  assert.equal(link.open, 0);
  assert.equal(link.down(), undefined, 'connections closed, but nothing has failed yet (e.g. a clean shutdown of the client)');
  now = 12_000;
  await connect(link, port);
  assert.deepEqual(link.down(), { since: 12_000, error: `connect ECONNREFUSED 127.0.0.1:${port}`, kind: 'refused' });
  now = 20_000;
  await connect(link, port);
  assert.equal(link.down()?.since, 12_000, 'down since the first failure');
  // Back on the same port.
  const again = await listen(port);
  const c = await connect(link, port);
  assert.equal(link.open, 1);
  assert.equal(link.down(), undefined);
  c.destroy();
  await closed(c);
  await new Promise<void>((r) => again.close(() => r()));
});

test('a connection that breaks with an error counts as a failure', () => {
  const link = new BrokerLink(() => 5);
  link.connected();
  link.failed('read ECONNRESET', true);
  assert.equal(link.open, 0);
  assert.deepEqual(link.down(), { since: 5, error: 'read ECONNRESET', kind: 'refused' });
});

test('createKafka\'s client reports through its link: a closed port is a reason on /readyz', async () => {
  const srv = await listen();
  const port = portOf(srv);
  await new Promise<void>((r) => srv.close(() => r()));
  const kafka = createKafka(kafkaConfigFromEnv({}, { brokers: [`127.0.0.1:${port}`], connectionTimeoutMs: 1000 }), 'link-test', recordingLogger(), { retries: 0 });
  const admin = kafka.admin();
  await assert.rejects(admin.connect());
  assert.equal(brokerLinkOf(kafka)?.open, 0);
  assert.match(brokerDownReason(kafka) ?? '', new RegExp(`^no connection to the Kafka broker for \\d+ s \\(last attempt: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`));
});

test('real sockets: a broker that keeps the connection open and answers nothing (a black hole) is down once requests wait SILENT_MS with not a byte back; an answer ends it', async () => {
  const answering = { on: false };
  const srv = net.createServer((s) => { s.on('data', (d) => { if (answering.on) s.write(d); }); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  let now = 1_000_000;
  const link = new BrokerLink(() => now);
  const sock = await connect(link, portOf(srv));
  answering.on = true;
  sock.write('ping');
  await new Promise<void>((r) => sock.once('data', () => r()));
  now += 60_000;
  assert.equal(link.down(), undefined, 'idle, nothing waiting: a quiet connection is not a silent broker');
  answering.on = false;
  sock.write('request');
  const sentAt = now;
  now += SILENT_MS - 1;
  assert.equal(link.down(), undefined, 'not yet');
  now += 1;
  assert.deepEqual(link.down(), { since: sentAt, error: '1 connection(s) open, requests unanswered', kind: 'silent' });
  sock.write('another');
  assert.equal(link.down()?.since, sentAt, 'waiting since the first unanswered request');
  answering.on = true;
  sock.write('hello?');
  await new Promise<void>((r) => sock.once('data', () => r()));
  assert.equal(link.down(), undefined);
  sock.destroy();
  await closed(sock);
  await new Promise<void>((r) => srv.close(() => r()));
});

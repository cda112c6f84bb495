/**
 * A TCP proxy the fault suite puts between a service and the broker, to make network
 * partitions: `cut('reset')` drops every connection and refuses new ones (the port closes, as a
 * host that went away with its firewall rejecting), `cut('blackhole')` keeps every connection
 * open but forwards nothing either way and holds new ones unanswered (packets lost, nothing
 * closed); `heal()` lets traffic through again (a black-holed connection resumes with what TCP
 * had buffered, as after a real partition shorter than TCP's retransmission limit).
 */
import net from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Connections open now (client side). */
  readonly open: number;
  /** Connections accepted since the start. */
  readonly accepted: number;
  /** Connections refused or dropped by `cut`. */
  readonly dropped: number;
  cut(mode: 'reset' | 'blackhole'): Promise<void>;
  heal(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy on `port` (0: a free one) to `target`. */
export async function startTcpProxy(o: { target: { host: string; port: number }; port?: number }): Promise<TcpProxy> {
  type Pair = { client: net.Socket; upstream: net.Socket };
  const pairs = new Set<Pair>();
  const flow = (p: Pair) => { p.client.pipe(p.upstream); p.upstream.pipe(p.client); };
  // Unpiped as well as paused: a pipe resumes its source when the other side drains.
  const hold = (p: Pair) => { p.client.unpipe(p.upstream); p.upstream.unpipe(p.client); p.client.pause(); p.upstream.pause(); };
  let mode: 'open' | 'reset' | 'blackhole' = 'open';
  let accepted = 0;
  let dropped = 0;
  const onConnection = (client: net.Socket) => {
    accepted++;
    if (mode === 'reset') { dropped++; client.destroy(); return; }
    const upstream = net.connect(o.target);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    if (mode === 'blackhole') hold(pair);
    else flow(pair);
  };
  let server = net.createServer(onConnection);
  const listen = (port: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve((server.address() as net.AddressInfo).port); });
  });
  const port = await listen(o.port ?? 0);
  const stopListening = () => new Promise<void>((r) => { if (!server.listening) { r(); return; } server.close(() => r()); });
  return {
    port,
    get open() { return pairs.size; },
    get accepted() { return accepted; },
    get dropped() { return dropped; },
    async cut(m) {
      mode = m;
      if (m === 'reset') {
        const closing = stopListening();
        for (const p of [...pairs]) { dropped++; p.client.destroy(); p.upstream.destroy(); }
        await closing;
      } else {
        for (const p of pairs) hold(p);
      }
    },
    async heal() {
      const was = mode;
      mode = 'open';
      if (was === 'reset') {
        server = net.createServer(onConnection);
        await listen(port);
      } else {
        for (const p of pairs) flow(p);
      }
    },
    async close() {
      for (const p of [...pairs]) { p.client.destroy(); p.upstream.destroy(); }
      await stopListening();
    },
  };
}

/**
 * Whether a client reaches its brokers right now, from its sockets: kafkajs's own socket factory
 * (the same net/tls connect, the same keep-alive), counting the connections open and remembering
 * the last failed one. A stage's consumer and producer keep connections open while the broker is
 * there (fetches, heartbeats), so "no connection open, and the last attempt failed" says within
 * a second that the broker went away, where a crash of the consumer may take a minute; /readyz
 * shows it. A connection that stays open but is black-holed (a partition that drops packets) is
 * seen by its silence: requests written and not a byte from the broker on any connection for
 * {@link SILENT_MS} (a healthy consumer gets a fetch answer at least every 5 s).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory, Kafka } from 'kafkajs';

/** kafkajs's keep-alive delay on its sockets. */
const KEEP_ALIVE_DELAY_MS = 60_000;

/** How long requests may go unanswered, with not a byte from the broker, before it counts as away: under kafkajs's 30 s request timeout. */
export const SILENT_MS = 20_000;

/** Why the broker looks away: `refused` (no connection, the last attempt failed) or `silent` (connections open, nothing answered). */
export interface BrokerDown { since: number; error: string; kind: 'refused' | 'silent' }

/** The connections of one kafkajs client (all its consumers, producers and admins). */
export class BrokerLink {
  private openNow = 0;
  private lastConnectAt = 0;
  private lastReadAt = 0;
  private failure: { at: number; error: string } | undefined;
  private downSince: number | undefined;
  /** Open connections: since when each has a request written and no answer (undefined: none waiting). */
  private readonly waiting = new Map<object, number | undefined>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Connections open now. */
  get open(): number {
    return this.openNow;
  }

  /** The broker looks away, since when and why (see {@link BrokerDown}). */
  down(): BrokerDown | undefined {
    if (this.openNow === 0) {
      if (!this.failure || this.failure.at < this.lastConnectAt) return undefined;
      return { since: this.downSince ?? this.failure.at, error: this.failure.error, kind: 'refused' };
    }
    const now = this.now();
    const oldest = Math.min(...[...this.waiting.values()].map((t) => t ?? Infinity));
    if (!Number.isFinite(oldest) || now - oldest < SILENT_MS || now - this.lastReadAt < SILENT_MS) return undefined;
    return { since: Math.max(oldest, this.lastReadAt), error: `${this.openNow} connection(s) open, requests unanswered`, kind: 'silent' };
  }

  /** A request was written on connection `id`. */
  wrote(id: object): void {
    if (this.waiting.get(id) === undefined) this.waiting.set(id, this.now());
  }

  /** Bytes came from the broker on connection `id`. */
  read(id: object): void {
    this.lastReadAt = this.now();
    this.waiting.set(id, undefined);
  }

  /** Connection `id` is gone. */
  forget(id: object): void {
    this.waiting.delete(id);
  }

  /** A connection was established. */
  connected(): void {
    this.openNow++;
    this.lastConnectAt = this.now();
    this.downSince = undefined;
  }

  /** A connection attempt failed, or an open connection broke (`wasOpen`). */
  failed(error: string, wasOpen: boolean): void {
    if (wasOpen) this.openNow = Math.max(0, this.openNow - 1);
    const at = this.now();
    this.failure = { at, error: error.split('\n')[0] };
    if (this.openNow === 0) this.downSince ??= at;
  }

  /** An open connection was closed cleanly (by either side). */
  closed(): void {
    this.openNow = Math.max(0, this.openNow - 1);
  }

  /** kafkajs's socket factory, reporting to this link. */
  socketFactory(): ISocketFactory {
    return ({ host, port, ssl, onConnect }) => {
      let open = false;
      let ended = false;
      let error: Error | undefined;
      const connect = () => { open = true; this.connected(); this.waiting.set(socket, undefined); onConnect(); };
      const socket = ssl
        ? tls.connect(Object.assign({ host, port }, !net.isIP(host) ? { servername: host } : {}, ssl), connect)
        : net.connect({ host, port }, connect);
      socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
      const end = (failure: string | undefined) => {
        if (ended) return;
        ended = true;
        this.forget(socket);
        if (failure === undefined) this.closed();
        else this.failed(failure, open);
      };
      // What goes out and what comes back: a connection that only ever waits is a silent broker.
      const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
      socket.write = ((...a: unknown[]) => { if (open) this.wrote(socket); return write(...a); }) as typeof socket.write;
      socket.on('data', () => this.read(socket));
      // An error counts at once (kafkajs rejects on it, before the socket's close).
      socket.on('error', (e) => { error = e; end(e.message); });
      socket.once('close', (hadError) => {
        end(open && !hadError ? undefined : error?.message ?? (open ? 'connection lost' : `connection to ${host}:${port} closed before it was established`));
      });
      return socket;
    };
  }
}

const links = new WeakMap<Kafka, BrokerLink>();

/** Records the link of a client made with its socket factory. */
export function setBrokerLink(kafka: Kafka, link: BrokerLink): void {
  links.set(kafka, link);
}

/** The link of a client made by createKafka (undefined for others, e.g. test fakes). */
export function brokerLinkOf(kafka: Kafka): BrokerLink | undefined {
  return links.get(kafka);
}

/** A readiness reason while the client's broker looks away, else undefined. */
export function brokerDownReason(kafka: Kafka, now = Date.now()): string | undefined {
  const down = links.get(kafka)?.down();
  if (!down) return undefined;
  const secs = Math.round((now - down.since) / 1000);
  return down.kind === 'refused'
    ? `no connection to the Kafka broker for ${secs} s (last attempt: ${down.error})`
    : `no answer from the Kafka broker for ${secs} s (${down.error})`;
}

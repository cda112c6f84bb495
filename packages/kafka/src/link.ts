/**
 * Whether a client reaches its brokers right now, from its sockets: kafkajs's own socket factory
 * (the same net/tls connect, the same keep-alive), counting the connections open and remembering
 * the last failed one. A stage's consumer and producer keep connections open while the broker is
 * there (fetches, heartbeats), so "no connection open, and the last attempt failed" says within
 * a second that the broker went away, where a crash of the consumer may take a minute; /readyz
 * shows it. A black-holed connection that stays open is not seen here (the consumer's crashes
 * and the producer's waits are).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory, Kafka } from 'kafkajs';

/** kafkajs's keep-alive delay on its sockets. */
const KEEP_ALIVE_DELAY_MS = 60_000;

/** The connections of one kafkajs client (all its consumers, producers and admins). */
export class BrokerLink {
  private openNow = 0;
  private lastConnectAt = 0;
  private failure: { at: number; error: string } | undefined;
  private downSince: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Connections open now. */
  get open(): number {
    return this.openNow;
  }

  /** The broker looks away: no connection open and the latest attempt failed; since when, and why. */
  down(): { since: number; error: string } | undefined {
    if (this.openNow > 0 || !this.failure || this.failure.at < this.lastConnectAt) return undefined;
    return { since: this.downSince ?? this.failure.at, error: this.failure.error };
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
      const connect = () => { open = true; this.connected(); onConnect(); };
      const socket = ssl
        ? tls.connect(Object.assign({ host, port }, !net.isIP(host) ? { servername: host } : {}, ssl), connect)
        : net.connect({ host, port }, connect);
      socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
      const end = (failure: string | undefined) => {
        if (ended) return;
        ended = true;
        if (failure === undefined) this.closed();
        else this.failed(failure, open);
      };
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
  return down && `no connection to the Kafka broker for ${Math.round((now - down.since) / 1000)} s (last attempt: ${down.error})`;
}

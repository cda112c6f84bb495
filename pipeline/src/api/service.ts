/**
 * `emostream serve api`: the live API on the `emotion-events` topic. It reads the topic from the
 * beginning of what the broker retains (a fresh consumer group per start), so a restart rebuilds
 * the same state; the bounds of {@link LiveTimelines} keep it to the recent past.
 */
import type { Logger } from '@emostream/runtime';
import type { KafkaConfig } from '@emostream/kafka';
import { subscribeEvents } from '../events.js';
import { LiveTimelines } from './live.js';
import { startApiServer } from './server.js';
import type { ApiSettings } from './settings.js';

/** A running `serve api`. */
export interface ApiService {
  /** Where the API listens (`http://host:port/`). */
  url: string;
  port: number;
  live: LiveTimelines;
  ready(): { ok: boolean; reasons: string[] };
  /** Rejects when the events consumer stopped for good (the process exits to be restarted). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Starts the API server, then consumes the events topic into it. */
export async function startApiService(o: { config: KafkaConfig; settings: ApiSettings; logger: Logger }): Promise<ApiService> {
  const s = o.settings;
  const live = new LiveTimelines({ maxAgeMs: s.maxAgeMs, maxPersonsPerCamera: s.maxPersonsPerCamera, eventBuffer: s.eventBuffer });
  const server = await startApiServer(live, { port: s.httpPort, host: s.httpHost, maxStreams: s.maxStreams, logger: o.logger });
  o.logger.info('live API listening', { url: server.url, port: server.port });
  let fatal: (e: Error) => void = () => {};
  const done = new Promise<void>((_resolve, reject) => { fatal = reject; });
  done.catch(() => {});
  let invalid = 0;
  let sub: { stop(): Promise<void> };
  try {
    sub = await subscribeEvents({
      config: o.config, logger: o.logger, fromBeginning: true,
      onEvent: (e) => { live.push(e); },
      onInvalid: (detail) => { if (invalid++ < 10) o.logger.warn('invalid event skipped', { detail }); },
      onFatal: (e) => fatal(e),
    });
  } catch (e) {
    await server.close();
    throw e;
  }
  return {
    url: server.url, port: server.port, live, done,
    ready: () => ({ ok: true, reasons: [] }),
    stop: async () => {
      await sub.stop().catch((e: Error) => o.logger.warn('events consumer did not stop cleanly', { error: e }));
      await server.close();
    },
  };
}

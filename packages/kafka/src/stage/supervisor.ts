/**
 * Keeps a stage's consumer running through a broker outage of any length. kafkajs restarts a
 * crashed consumer itself only when it deems the error retriable; some outages end in one it
 * does not (`KafkaJSGroupCoordinatorNotFound` when the broker goes while the consumer rejoins,
 * kafkajs issue #1630), which left the consumer stopped for good. Such a crash, when it is the
 * broker being away ({@link brokerAway}), is answered here: the consumer is run again after a
 * growing, capped backoff, for as long as the stage runs. What no wait can cure (the stage's own
 * operator broken, credentials, ACLs, a bug) stays fatal: `done` rejects and the process exits.
 * Meanwhile the outage (since when, how many crashes, the last error) is there for /readyz.
 */
import { backoffDelayMs, type BackoffPolicy, type Logger } from '@emostream/runtime';
import { brokerAway } from '../client.js';
import { StageError, errorChain } from '../errors.js';

/** Restarts of a consumer kafkajs gave up on: 0.5 s, doubling (with jitter) up to 15 s, as the start-up wait. */
export const CONSUMER_RESTART: BackoffPolicy = { backoffInitialMs: 500, backoffMaxMs: 15_000 };

/** What a consumer crash means for the stage. */
export type CrashVerdict = 'fatal' | 'kafkajs restarts' | 'restart';

/** The consumer is out of its group since `since` (ms since the epoch) after `crashes` crashes, the last one `error`. */
export interface Outage {
  since: number;
  crashes: number;
  error: string;
}

/** Options of {@link ConsumerSupervisor}. */
export interface SupervisorOptions {
  stage: string;
  log: Logger;
  /** Runs the consumer again (kafkajs stopped it). */
  restart: () => Promise<void>;
  /** The stage cannot go on: reject its `done`. */
  fail: (e: StageError) => void;
  policy?: BackoffPolicy;
  random?: () => number;
  /** Schedules a restart (default: a timer); returns its cancel. */
  schedule?: (fn: () => void, ms: number) => () => void;
  now?: () => number;
}

/** Whether an error chain holds a non-retriable {@link StageError}: the stage itself is broken. */
export function stageBroken(e: unknown): boolean {
  return errorChain(e).some((x) => x instanceof StageError && !x.retriable);
}

/** Watches the consumer's crashes and joins; restarts it where kafkajs would not. */
export class ConsumerSupervisor {
  private outage: Outage | undefined;
  private attempts = 0;
  private cancel: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly o: SupervisorOptions) {}

  /** The outage in progress (out of the group after a crash), if any. */
  get current(): Outage | undefined {
    return this.outage;
  }

  /** A CRASH event: `restart` is kafkajs's own decision. */
  crashed(error: Error, restart: boolean): CrashVerdict {
    const now = this.o.now?.() ?? Date.now();
    const msg = String(error?.message ?? error).split('\n')[0];
    this.outage = { since: this.outage?.since ?? now, crashes: (this.outage?.crashes ?? 0) + 1, error: msg };
    if (this.stopped) return 'fatal';
    if (stageBroken(error) || (!restart && !brokerAway(error))) {
      this.o.fail(new StageError(`${this.o.stage}: consumer stopped: ${msg}`, false, {}, { cause: error }));
      return 'fatal';
    }
    if (restart) return 'kafkajs restarts';
    const retryInMs = backoffDelayMs(this.attempts++, this.o.policy ?? CONSUMER_RESTART, this.o.random);
    this.o.log.warn('consumer stopped by the Kafka client while the broker is away; restarting it', {
      attempt: this.attempts, retryInMs, outageMs: now - this.outage.since, error: msg,
    });
    const schedule = this.o.schedule ?? ((fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); });
    this.cancel?.();
    this.cancel = schedule(() => {
      this.cancel = undefined;
      if (this.stopped) return;
      this.o.restart().catch((e: Error) => {
        // kafkajs reports a failed start as another crash; a throw here is not kafkajs's.
        this.o.log.warn('restarting the consumer failed', { error: e.message });
        if (!this.stopped) this.crashed(e, false);
      });
    }, retryInMs);
    return 'restart';
  }

  /** A GROUP_JOIN: the outage, if any, is over. */
  joined(): void {
    if (this.outage) {
      const now = this.o.now?.() ?? Date.now();
      this.o.log.info('back in the consumer group', { outageMs: now - this.outage.since, crashes: this.outage.crashes });
    }
    this.outage = undefined;
    this.attempts = 0;
  }

  /** The stage stops: no restart from now on. */
  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }
}

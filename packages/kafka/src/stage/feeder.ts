/**
 * Output matching: feeds a stage's RxJS operator one input at a time and tells when that input
 * is done and which outputs it caused (a commit needs to know when an input is done). Pure RxJS.
 */
import { Subject, lastValueFrom, of, toArray, type OperatorFunction, type Subscription } from 'rxjs';
import type { Logger } from '@emostream/runtime';
import { StageError } from '../errors.js';

/**
 * How outputs are matched to the input that caused them (a commit needs to know when an input is done).
 * - `each`: the operator is subscribed once per input, which is done when that subscription
 *   completes (0..n outputs). For stateless stages (the detector; it is applied per frame in the
 *   embedded pipeline too).
 * - `keyed`: one long-lived subscription; exactly one output per input, matched by key (the
 *   classifier: its `bufferTime` batches inputs from every partition fed concurrently).
 * - `sync`: one long-lived subscription whose outputs for an input are emitted synchronously while
 *   it is pushed (the aggregator: a stateful state machine, 0..n events per input).
 */
export type Correlation<In, Out> =
  | { mode: 'each' }
  | { mode: 'keyed'; inputKey: (input: In) => string; outputKey: (output: Out) => string }
  | { mode: 'sync' };

/** Pushes inputs through a stage's operator. */
export interface Feed<In, Out> {
  /** The outputs of one input, once it is done. */
  feed(item: In): Promise<Out[]>;
  /**
   * The long-lived operator subscription ended (an error, or it completed): no later input can
   * be processed in this process. Always false for `each`, which subscribes anew per input.
   */
  readonly broken: boolean;
  /** Unsubscribes a long-lived operator subscription. */
  close(): void;
}

/** A keyed input awaiting its output: settled once, by its output or by the operator's failure. */
interface Waiter<Out> {
  resolve: (o: Out) => void;
  reject: (e: unknown) => void;
}

/** `each`: one subscription per input, done when it completes. */
class EachFeed<In, Out> implements Feed<In, Out> {
  readonly broken = false;
  constructor(private readonly operator: OperatorFunction<In, Out>) {}

  feed(item: In): Promise<Out[]> {
    return lastValueFrom(of(item).pipe(this.operator, toArray()));
  }

  close(): void {}
}

/** Feeds a long-lived operator subscription and matches outputs to inputs. */
export class Feeder<In, Out> implements Feed<In, Out> {
  private readonly input = new Subject<In>();
  private readonly sub: Subscription;
  /** Inputs awaiting their output, by key, first in first out; each entry settles its feed once. */
  private readonly waiting = new Map<string, Array<Waiter<Out>>>();
  private syncOut: Out[] | undefined;
  private error: unknown;

  constructor(operator: OperatorFunction<In, Out>, private readonly c: Correlation<In, Out>, private readonly log: Logger) {
    this.sub = this.input.pipe(operator).subscribe({
      next: (o) => this.onOutput(o),
      error: (e) => this.fail(e),
      complete: () => this.fail(new StageError('the stage operator completed while the consumer runs', false)),
    });
  }

  get broken(): boolean {
    return this.error !== undefined;
  }

  /** How many keyed inputs await their output (what a failure would reject); 0 for sync. */
  get pending(): number {
    let n = 0;
    for (const list of this.waiting.values()) n += list.length;
    return n;
  }

  /** The outputs of one input (keyed: exactly one; sync: those emitted during the push). */
  feed(item: In): Promise<Out[]> {
    if (this.error) return Promise.reject(this.error);
    if (this.c.mode === 'sync') {
      this.syncOut = [];
      this.input.next(item);
      const outs = this.syncOut;
      this.syncOut = undefined;
      return this.error ? Promise.reject(this.error) : Promise.resolve(outs);
    }
    if (this.c.mode !== 'keyed') throw new StageError('Feeder is for keyed or sync stages', false);
    const key = this.c.inputKey(item);
    return new Promise<Out[]>((resolve, reject) => {
      let list = this.waiting.get(key);
      if (!list) this.waiting.set(key, (list = []));
      list.push({ resolve: (o) => resolve([o]), reject });
      this.input.next(item);
    });
  }

  private onOutput(o: Out): void {
    if (this.c.mode === 'sync') {
      if (this.syncOut) this.syncOut.push(o);
      else this.log.error('stage emitted an output outside a push: dropped (the sync operator must be synchronous)');
      return;
    }
    if (this.c.mode !== 'keyed') return;
    const key = this.c.outputKey(o);
    const list = this.waiting.get(key);
    const waiter = list?.shift();
    if (list && list.length === 0) this.waiting.delete(key);
    if (waiter) waiter.resolve(o);
    else this.log.warn('stage emitted an output no input is waiting for: dropped', { key });
  }

  private fail(e: unknown): void {
    this.error = e;
    // Only inputs still awaiting an output: an answered one left the map with its rejection.
    const waiters = [...this.waiting.values()].flat();
    this.waiting.clear();
    for (const w of waiters) w.reject(e);
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

/** The feed for a correlation mode: `each` subscribes per input, `keyed` and `sync` share one subscription. */
export function createFeed<In, Out>(operator: OperatorFunction<In, Out>, c: Correlation<In, Out>, log: Logger): Feed<In, Out> {
  return c.mode === 'each' ? new EachFeed(operator) : new Feeder(operator, c, log);
}

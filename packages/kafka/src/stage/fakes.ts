/**
 * Test helpers (not a test file): in-memory fakes of the few kafkajs methods runStage calls, a
 * recording logger, and synthetic batches to drive `eachBatch` directly. The real broker is
 * covered by the integration tests in test/.
 */
import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import type { Batch, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '@emostream/runtime';
import { HEADER } from '../codec/message.js';

/** One logged line. */
export interface LogLine { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }

/** A logger that keeps its lines (its children write to the same list). */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (msg: string, fields?: Record<string, unknown>) => { lines.push(fields ? { level, msg, fields } : { level, msg }); };
  const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

/** A kafkajs message at `offset`. */
export function message(offset: number | string, key: string | null, value: string, headers: Record<string, string> = {}, timestamp = '0'): KafkaMessage {
  return { offset: String(offset), key: key === null ? null : Buffer.from(key), value: Buffer.from(value), headers, timestamp, attributes: 0 } as unknown as KafkaMessage;
}

/** An `end` control message for a camera. */
export function endMessage(offset: number | string, cameraId: string): KafkaMessage {
  return message(offset, cameraId, '', { [HEADER.kind]: 'end', [HEADER.camera]: cameraId });
}

/** A batch of one partition; `offsetLag()` answers `lag`; `highWatermark` if given. */
export function batchOf(topic: string, partition: number, messages: KafkaMessage[], lag = 0, highWatermark?: string): Batch {
  return { topic, partition, messages, offsetLag: () => String(lag), highWatermark } as unknown as Batch;
}

/** What runStage's eachBatch is handed (the parts it uses). */
export interface BatchPayload {
  batch: Batch;
  resolveOffset: (o: string) => void;
  heartbeat: () => Promise<void>;
  commitOffsetsIfNecessary: () => Promise<void>;
  isRunning: () => boolean;
  isStale: () => boolean;
}

/** Failures to inject into a producer's transactions (each: thrown by that step of every transaction). */
export interface TxFailures { begin?: Error; send?: Error; sendOffsets?: Error; commit?: Error; abort?: Error }

/** A sent batch (`sendBatch`'s topicMessages) and whether it went through a transaction. */
export interface Sent { via: 'producer' | 'transaction'; topicMessages: Array<{ topic: string; messages: Array<{ key: string; value: Buffer; headers: Record<string, string | Buffer> }> }> }

/** A fake producer: records what it is asked, in `kafka.calls` too. */
export class FakeProducer {
  readonly sent: Sent[] = [];
  readonly offsetsSent: unknown[] = [];
  readonly fail: TxFailures = {};
  /** Set to make `sendBatch` (plain or in a transaction) wait for this promise first. */
  gate: Promise<void> | undefined;
  commits = 0;
  aborts = 0;
  constructor(readonly kafka: FakeKafka, readonly id: number, readonly config: Record<string, unknown>) {}

  readonly events = { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' } as const;
  private readonly listeners = new Map<string, Array<() => void>>();
  private call(what: string): void { this.kafka.calls.push(`producer${this.id}.${what}`); }

  on(event: string, listener: () => void): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => {};
  }
  private emit(event: string): void { for (const l of this.listeners.get(event) ?? []) l(); }

  async connect(): Promise<void> { this.call('connect'); this.emit(this.events.CONNECT); }
  async disconnect(): Promise<void> { this.call('disconnect'); this.emit(this.events.DISCONNECT); }

  async sendBatch(b: { topicMessages: Sent['topicMessages'] }): Promise<void> {
    if (this.gate) await this.gate;
    this.call('sendBatch');
    this.sent.push({ via: 'producer', topicMessages: b.topicMessages });
  }

  async transaction() {
    this.call('transaction');
    if (this.fail.begin) throw this.fail.begin;
    const step = async (what: keyof TxFailures) => {
      this.call(`tx.${what}`);
      if (this.fail[what]) throw this.fail[what];
    };
    return {
      sendBatch: async (b: { topicMessages: Sent['topicMessages'] }) => {
        if (this.gate) await this.gate;
        await step('send');
        this.sent.push({ via: 'transaction', topicMessages: b.topicMessages });
      },
      sendOffsets: async (o: unknown) => { await step('sendOffsets'); this.offsetsSent.push(o); },
      commit: async () => { await step('commit'); this.commits++; },
      abort: async () => { this.aborts++; await step('abort'); },
    };
  }
}

/** A fake consumer: keeps its listeners and run config; `drive` calls eachBatch like kafkajs's runner. */
export class FakeConsumer {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;
  private readonly listeners = new Map<string, Array<(e: { payload: unknown }) => void>>();
  readonly seeks: Array<{ topic: string; partition: number; offset: string }> = [];
  subscribed: unknown;
  runConfig: { eachBatch: (p: BatchPayload) => Promise<void>; [k: string]: unknown } | undefined;
  /** kafkajs's runner.running: false once `disconnect` was called. */
  running = true;
  private inFlight: Promise<void> | undefined;

  constructor(readonly kafka: FakeKafka, readonly config: Record<string, unknown>) {}

  async connect(): Promise<void> { this.kafka.calls.push('consumer.connect'); }
  async subscribe(s: unknown): Promise<void> { this.kafka.calls.push('consumer.subscribe'); this.subscribed = s; }
  async run(c: NonNullable<FakeConsumer['runConfig']>): Promise<void> { this.kafka.calls.push('consumer.run'); this.runConfig = c; }
  /** kafkajs's stop: the runner stops (the client stays). */
  async stop(): Promise<void> { this.kafka.calls.push('consumer.stop'); }
  seek(s: { topic: string; partition: number; offset: string }): void { this.kafka.calls.push(`consumer.seek ${s.partition}@${s.offset}`); this.seeks.push(s); }

  /** Like kafkajs: stops the runner, then waits for the batch in progress to finish. */
  async disconnect(): Promise<void> {
    this.kafka.calls.push('consumer.disconnect');
    this.running = false;
    await this.inFlight?.catch(() => {});
    this.kafka.calls.push('consumer.disconnected');
  }

  on(event: string, listener: (e: { payload: unknown }) => void): () => void {
    let list = this.listeners.get(event);
    if (!list) this.listeners.set(event, (list = []));
    list.push(listener);
    return () => {};
  }

  emit(event: string, payload: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l({ payload });
  }

  /** Emits GROUP_JOIN with `memberAssignment`. */
  join(memberAssignment: Record<string, number[]>): void {
    this.emit(this.events.GROUP_JOIN, { memberAssignment, groupId: 'g', memberId: 'm', leaderId: 'm', isLeader: true, groupProtocol: 'RoundRobin', duration: 1 });
  }

  /** Emits CRASH. */
  crash(error: Error, restart: boolean): void {
    this.emit(this.events.CRASH, { error, groupId: 'g', restart });
  }

  /**
   * Calls eachBatch with a synthetic batch. Offsets resolved, commits and heartbeats are
   * recorded; `isRunning` reads `running` (so `disconnect` during the batch is seen).
   */
  drive(batch: Batch, o: { isStale?: () => boolean; heartbeat?: () => Promise<void>; commit?: () => Promise<void> } = {}): { done: Promise<void>; resolved: string[]; commits: number; heartbeats: number } {
    const r = { resolved: [] as string[], commits: 0, heartbeats: 0, done: Promise.resolve() };
    const payload: BatchPayload = {
      batch,
      resolveOffset: (off) => { this.kafka.calls.push(`resolve ${off}`); r.resolved.push(off); },
      heartbeat: async () => { r.heartbeats++; await o.heartbeat?.(); },
      commitOffsetsIfNecessary: async () => { this.kafka.calls.push('commitOffsetsIfNecessary'); r.commits++; await o.commit?.(); },
      isRunning: () => this.running,
      isStale: o.isStale ?? (() => false),
    };
    if (!this.runConfig) throw new Error('consumer.run was not called');
    r.done = this.runConfig.eachBatch(payload);
    this.inFlight = r.done;
    return r;
  }
}

/** A fake admin: committed offsets and watermarks of the input topic. */
export class FakeAdmin {
  committed: Array<{ partition: number; offset: string }> = [];
  ends: Array<{ partition: number; offset: string; high: string; low: string }> = [];
  fail: Error | undefined;
  readonly queries: unknown[] = [];
  constructor(readonly kafka: FakeKafka) {}
  async connect(): Promise<void> { this.kafka.calls.push('admin.connect'); }
  async disconnect(): Promise<void> { this.kafka.calls.push('admin.disconnect'); }
  async fetchOffsets(q: { groupId: string; topics: string[] }) {
    this.kafka.calls.push('admin.fetchOffsets');
    this.queries.push(q);
    if (this.fail) throw this.fail;
    return [{ topic: q.topics[0], partitions: this.committed.map((p) => ({ ...p, metadata: null })) }];
  }
  async fetchTopicOffsets(topic: string) {
    this.kafka.calls.push('admin.fetchTopicOffsets');
    this.queries.push(topic);
    return this.ends;
  }
}

/** A fake Kafka client: `producers` in creation order, one consumer, one admin. */
export class FakeKafka {
  /** Every call, in order (`producer<N>.<method>`, `consumer.<method>`, `admin.<method>`, `resolve <offset>`, and what tests add). */
  readonly calls: string[] = [];
  readonly producers: FakeProducer[] = [];
  consumerInstance: FakeConsumer | undefined;
  readonly adminInstance = new FakeAdmin(this);
  /** Failures given to every producer created from now on. */
  producerFailures: TxFailures = {};

  producer(config: Record<string, unknown>): FakeProducer {
    const p = new FakeProducer(this, this.producers.length, config);
    Object.assign(p.fail, this.producerFailures);
    this.producers.push(p);
    return p;
  }

  consumer(config: Record<string, unknown>): FakeConsumer {
    this.consumerInstance = new FakeConsumer(this, config);
    return this.consumerInstance;
  }

  admin(): FakeAdmin { return this.adminInstance; }

  /** As the kafkajs type runStage takes. */
  get asKafka(): Kafka { return this as unknown as Kafka; }

  /** The consumer runStage created. */
  get theConsumer(): FakeConsumer {
    if (!this.consumerInstance) throw new Error('no consumer yet');
    return this.consumerInstance;
  }
}

/** A promise with its resolve, to hold a step until the test lets it go. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void, reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run (a few macrotask turns). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/**
 * An operator the test drives by hand: inputs pushed into it are kept in `inputs`; `emit`,
 * `complete` and `error` act on its output. `unsubscribed` turns true when its subscriber leaves.
 */
export function controlledOperator<In, Out>() {
  const c = {
    inputs: [] as In[],
    subscriptions: 0,
    unsubscribed: false,
    out: undefined as Subscriber<Out> | undefined,
    operator: ((src: Observable<In>) => new Observable<Out>((sub) => {
      c.subscriptions++;
      c.out = sub;
      const s = src.subscribe((x) => { c.inputs.push(x); });
      return () => { c.unsubscribed = true; s.unsubscribe(); };
    })) as OperatorFunction<In, Out>,
    emit: (o: Out) => c.out!.next(o),
    complete: () => c.out!.complete(),
    error: (e: unknown) => c.out!.error(e),
  };
  return c;
}

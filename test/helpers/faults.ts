/**
 * Helpers of the fault and load suite (`npm run test:faults`): the suite's own restartable broker,
 * the services as real child processes (`node bin/emostream.mjs serve …`) with their /metrics,
 * collectors that record what reaches each topic (and when), the frame accounting, and the
 * results table the runner writes to bench/FAULTS.md.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { silentLogger } from '@emostream/runtime';
import {
  HEADER, createKafka, groupIdFor, header, kafkaConfigFromEnv, pipelineTopics, type Kafka, type KafkaConfig, type KafkaMessage,
} from '@emostream/kafka';
import { freePort } from './rtsp.js';
import { startTcpProxy, type TcpProxy } from './tcpProxy.js';
import { StopWaiting, explainWaits, waitFor } from './wait.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KAFKA_SH = path.join(ROOT, 'scripts/kafka.sh');
const run = promisify(execFile);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The suite takes minutes of both cores: it runs under `npm run test:faults` (which sets
 * EMOSTREAM_FAULTS=1), not as part of `npm test`'s sweep of test/.
 */
export const outsideFaultRun: string | undefined = process.env.EMOSTREAM_FAULTS === '1' ? undefined : 'the fault and load suite runs with `npm run test:faults`';

// ---------------------------------------------------------------------------------------------
// the broker

/** The suite's broker. */
export interface FaultBroker {
  brokers: string[];
  /** False for an external cluster (KAFKA_BROKERS): the suite does not restart what it does not own. */
  restartable: boolean;
  /** Clean stop (SIGTERM, data kept); resolves when the process is gone. */
  stop(): Promise<void>;
  /** A crash: SIGKILL, no clean shutdown (the next start recovers its logs); resolves when gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data; resolves once the port answers. */
  start(): Promise<void>;
}

/**
 * Its own broker, on KAFKA_FAULTS_PORT (default 31392), not the other tests' 39092: the suite
 * restarts it. `scripts/kafka.sh stop --port 31392` stops it (the runner does, at the end). The port
 * is below Linux's ephemeral range (32768-60999): while the broker is away the services keep
 * dialling it, and a dial that happens to get the target as its own local port connects to itself
 * and holds the port against the broker's restart.
 */
export async function faultBroker(): Promise<FaultBroker> {
  if (process.env.KAFKA_BROKERS) {
    const brokers = process.env.KAFKA_BROKERS.split(',');
    const no = () => Promise.reject(new Error('the broker is external (KAFKA_BROKERS): the suite does not restart it'));
    return { brokers, restartable: false, stop: no, start: no, kill: no };
  }
  const port = process.env.KAFKA_FAULTS_PORT ?? '31392';
  const start = async () => {
    const { stdout } = await run('bash', [KAFKA_SH, 'start', '--port', port], { encoding: 'utf8', timeout: 180_000 });
    if (!/KAFKA_BROKERS=/.test(stdout)) throw new Error(`scripts/kafka.sh start printed no KAFKA_BROKERS: ${stdout}`);
  };
  await start();
  return {
    brokers: [`127.0.0.1:${port}`],
    restartable: true,
    stop: async () => { await run('bash', [KAFKA_SH, 'stop', '--port', port], { timeout: 60_000 }); },
    kill: async () => {
      const pid = Number(fs.readFileSync(path.join(ROOT, `.cache/kafka/run-${port}/broker.pid`), 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      await waitFor('the broker process to be gone', () => { try { process.kill(pid, 0); return false; } catch { return true; } }, { timeoutMs: 30_000 });
    },
    start,
  };
}

/** A broker with a second listener that only a TCP proxy reaches (the network partition case). */
export interface ProxiedBroker {
  /** The direct address (everything but the services under test). */
  brokers: string[];
  /** The proxy's address: the services given it reach the broker only through the proxy. */
  proxied: string[];
  proxy: TcpProxy;
  stop(): Promise<void>;
}

/**
 * A broker of its own on KAFKA_PARTITION_PORT (default 39692, fresh data) whose extra listener
 * (port + 2) advertises the proxy's port, and the proxy in front of it: a client bootstrapped at
 * the proxy is told the broker is at the proxy, so all its traffic goes through it.
 */
export async function proxiedBroker(): Promise<ProxiedBroker> {
  const port = Number(process.env.KAFKA_PARTITION_PORT ?? '39692');
  const proxyPort = await freePort();
  const { stdout } = await run('bash', [KAFKA_SH, 'start', '--port', String(port), '--fresh', '--extra-listener', `${port + 2}:${proxyPort}`], { encoding: 'utf8', timeout: 180_000 });
  if (!/KAFKA_BROKERS=/.test(stdout)) throw new Error(`scripts/kafka.sh start printed no KAFKA_BROKERS: ${stdout}`);
  const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: port + 2 }, port: proxyPort });
  return {
    brokers: [`127.0.0.1:${port}`],
    proxied: [`127.0.0.1:${proxyPort}`],
    proxy,
    stop: async () => {
      await proxy.close();
      await run('bash', [KAFKA_SH, 'stop', '--port', String(port)], { timeout: 60_000 });
    },
  };
}

/** A Kafka config and client for one test's topic prefix (the same settings the services get). */
export function kafkaFor(brokers: string[], prefix: string, partitions: number): { config: KafkaConfig; kafka: Kafka } {
  const config = kafkaConfigFromEnv({}, { brokers, topicPrefix: prefix, partitions, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  return { config, kafka: createKafka(config, 'faults', silentLogger) };
}

/**
 * The services' consumer session timeout: the broker's minimum (group.min.session.timeout.ms),
 * so the partitions of a killed member move to its replacement after 6 s, not 30 s.
 */
export const SESSION_TIMEOUT_MS = 6_000;

// ---------------------------------------------------------------------------------------------
// service processes

/** One sample of a Prometheus text exposition. */
export interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses the Prometheus text format (what /metrics returns). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric's samples whose labels include `match`. */
export function sumOf(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** A service running as its own process. */
export interface ServiceProcess {
  name: string;
  proc: ChildProcess;
  metricsPort: number;
  /** stdout and stderr lines (the JSON log), newest last. */
  lines: string[];
  /** Where every line is also written. */
  logFile: string;
  /** Resolves when the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** GET /metrics, parsed. */
  metrics(): Promise<Sample[]>;
  /** Resolves once /readyz answers 200. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once gone. */
  stop(graceMs?: number): Promise<void>;
  /** `kill -9`. */
  kill(): Promise<void>;
  /** Resident set size of the process and its children (ffmpeg), bytes; 0 once gone. */
  rssBytes(): number;
  /** For a failure message: running or how it exited, and its last `n` warnings and errors (kafkajs's included), shortened. */
  trail(n?: number): string;
}

/**
 * The log lines a failure message carries: the service's own last `n` warnings and errors, then
 * kafkajs's last 3 (its connection errors would crowd the service's out), each cut to 300 characters.
 */
export function trailOf(name: string, lines: string[], state: string, n = 12): string {
  const notable = lines.filter((l) => /"level":"(warn|error|fatal)"/.test(l) || !l.startsWith('{'));
  const fromKafkajs = (l: string) => l.includes('"component":"kafkajs"');
  const own = notable.filter((l) => !fromKafkajs(l));
  const client = notable.filter(fromKafkajs);
  const cut = (l: string) => `  ${l.length > 300 ? `${l.slice(0, 300)}…` : l}`;
  return `${name} (${state}), last ${Math.min(n, own.length)} of ${own.length} warnings/errors:\n${own.slice(-n).map(cut).join('\n')}`
    + (client.length ? `\n  and kafkajs's last ${Math.min(3, client.length)} of ${client.length}:\n${client.slice(-3).map(cut).join('\n')}` : '');
}

const live = new Set<ChildProcess>();
/** Every service this test file started, in order: a wait that times out shows the last ones' trails. */
const started: ServiceProcess[] = [];
explainWaits(() => started.length === 0 ? '' : `the last ${Math.min(6, started.length)} of ${started.length} service(s) this file started:\n${started.slice(-6).map((s) => s.trail(8)).join('\n')}`);
// A crashed test must not leave services running.
process.once('exit', () => { for (const p of live) p.kill('SIGKILL'); });

let logFolder: string | undefined;
/** The folder of the suite's process logs (kept after the run; the path is printed), made on first use. */
export function logDir(): string {
  if (!logFolder) {
    logFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'emostream-faults-'));
    process.stdout.write(`fault suite: service logs in ${logFolder}\n`);
  }
  return logFolder;
}

function rssOfTree(pid: number): number {
  const status = (p: number) => { try { return fs.readFileSync(`/proc/${p}/status`, 'utf8'); } catch { return ''; } };
  const rss = (p: number) => Number(/VmRSS:\s+(\d+) kB/.exec(status(p))?.[1] ?? 0) * 1024;
  const children = (p: number): number[] => {
    try {
      return fs.readdirSync(`/proc/${p}/task`).flatMap((t) => fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch { return []; }
  };
  let total = 0;
  const stack = [pid];
  const seen = new Set<number>();
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    total += rss(p);
    stack.push(...children(p));
  }
  return total;
}

/** Starts `emostream serve <name>` as a child process with `env` on top of the test's own. */
export async function startService(name: string, o: { env: Record<string, string>; args?: string[]; tag?: string }): Promise<ServiceProcess> {
  const metricsPort = await freePort();
  const logFile = path.join(logDir(), `${o.tag ?? name}-${Date.now()}.log`);
  const log = fs.createWriteStream(logFile);
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'serve', name, '--metrics-port', String(metricsPort), ...(o.args ?? [])], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', EMOSTREAM_METRICS_HOST: '127.0.0.1', ...o.env },
  });
  live.add(proc);
  const lines: string[] = [];
  const onData = (buf: { rest: string }) => (d: Buffer) => {
    const parts = (buf.rest + d.toString('utf8')).split('\n');
    buf.rest = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      log.write(l + '\n');
    }
    if (lines.length > 20_000) lines.splice(0, lines.length - 20_000);
  };
  proc.stdout!.on('data', onData({ rest: '' }));
  proc.stderr!.on('data', onData({ rest: '' }));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => {
    live.delete(proc);
    // Let the last stdout/stderr chunks arrive before the log closes.
    setTimeout(() => { log.end(); resolve({ code, signal }); }, 50);
  }));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const get = async (p: string) => {
    const r = await fetch(`http://127.0.0.1:${metricsPort}${p}`);
    return { status: r.status, text: await r.text() };
  };
  const svc: ServiceProcess = {
    name, proc, metricsPort, lines, logFile, exited, alive,
    metrics: async () => parseMetrics((await get('/metrics')).text),
    ready: async (timeoutMs = 120_000) => {
      await waitFor(`${name} to be ready (log: ${logFile})`, async () => {
        if (!alive()) throw new StopWaiting(`${name} exited before it was ready: ${lines.slice(-5).join('\n')}`);
        return (await get('/readyz')).status === 200;
      }, { timeoutMs });
    },
    stop: async (graceMs = 10_000) => {
      if (!alive()) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    kill: async () => {
      if (!alive()) return;
      proc.kill('SIGKILL');
      await exited;
    },
    rssBytes: () => (alive() ? rssOfTree(proc.pid!) : 0),
    trail: (n) => trailOf(name, lines, alive() ? 'running' : `exited: code ${proc.exitCode}, signal ${proc.signalCode}`, n),
  };
  started.push(svc);
  return svc;
}

// ---------------------------------------------------------------------------------------------
// what reaches the topics

/** A message as the collector keeps it (frames without their JPEG). */
export interface Seen {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  kind: string | undefined;
  /** Camera and sequence number of the frame it is about, when it is about one. */
  cameraId?: string;
  seq?: number;
  /** The ingest run of that frame, when its identity carries one. */
  run?: string;
  /** Its capture time (ms since the epoch), from a frame's identity header. */
  capturedAtMs?: number;
  /** Parsed JSON value (emotions, events, state), when JSON. */
  json?: unknown;
  /** Dead letters: why. */
  dlqReason?: string;
  /** When this process received it (ms since the epoch). */
  at: number;
}

function describe(topic: string, partition: number, m: KafkaMessage): Seen {
  const kind = header(m, HEADER.kind);
  const s: Seen = { topic, partition, offset: m.offset, key: m.key?.toString('utf8') ?? '', kind, at: Date.now(), dlqReason: header(m, HEADER.dlqReason) };
  const frame = header(m, HEADER.frame);
  if (frame) {
    try {
      const f = JSON.parse(frame) as { cameraId: string; seq: number; run?: string; capturedAtMs?: number };
      Object.assign(s, { cameraId: f.cameraId, seq: f.seq, run: f.run, capturedAtMs: f.capturedAtMs });
    } catch { /* a bad frame header (dead letter) */ }
  } else if (kind === 'end') {
    s.cameraId = header(m, HEADER.camera) ?? s.key;
  } else if (m.value && m.value.length > 8 && m.value[0] === 0x45 && m.value[1] === 0x53 /* "ES": the faces envelope */) {
    try {
      const meta = JSON.parse(m.value.subarray(8, 8 + m.value.readUInt32BE(4)).toString('utf8')) as { frame?: { cameraId?: string; seq?: number; run?: string } };
      if (meta.frame && typeof meta.frame.seq === 'number') { s.cameraId = meta.frame.cameraId; s.seq = meta.frame.seq; s.run = meta.frame.run; }
    } catch { /* garbage (dead letter) */ }
  } else if (m.value && m.value.length > 0 && (m.value[0] === 0x7b /* { */)) {
    try {
      s.json = JSON.parse(m.value.toString('utf8'));
      const f = (s.json as { frame?: { cameraId?: string; seq?: number; run?: string } }).frame;
      if (f && typeof f.seq === 'number') { s.cameraId = f.cameraId; s.seq = f.seq; s.run = f.run; }
    } catch { /* garbage (dead letter) */ }
  }
  return s;
}

/** Consumers that record every message of the pipeline's topics as it arrives (read_committed). */
export interface Collector {
  seen: Seen[];
  of(topic: string): Seen[];
  stop(): Promise<void>;
}

/**
 * Starts collecting `topics` from the beginning. A message is kept once per topic, partition and
 * offset: the collector's own redelivery after a broker outage is not a duplicate of the
 * pipeline's. A consumer kafkajs stops for good during an outage is run again every 2 s.
 */
export async function collect(kafka: Kafka, topics: string[]): Promise<Collector> {
  const seen: Seen[] = [];
  const offsets = new Set<string>();
  const consumer = kafka.consumer({ groupId: `faults-collector-${Date.now()}-${Math.random().toString(36).slice(2)}`, readUncommitted: false, maxBytesPerPartition: 8 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const config: Parameters<typeof consumer.run>[0] = {
    partitionsConsumedConcurrently: 4,
    eachMessage: async ({ topic, partition, message }) => {
      const at = `${topic}\u0000${partition}\u0000${message.offset}`;
      if (offsets.has(at)) return;
      offsets.add(at);
      seen.push(describe(topic, partition, message));
    },
  };
  let stopped = false;
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart && !stopped) setTimeout(() => { if (!stopped) void consumer.stop().then(() => consumer.run(config)).catch(() => {}); }, 2_000);
  });
  await consumer.run(config);
  return { seen, of: (t) => seen.filter((s) => s.topic === t), stop: async () => { stopped = true; await Promise.race([consumer.disconnect(), sleep(10_000)]); } };
}

/**
 * Ends a test file's process once its work is done: kafkajs clients that went through a broker
 * restart can keep a reconnect timer alive after `disconnect()`, and node:test waits for the
 * event loop to empty. Call last in `after`; the timer is unref'd, so a clean file exits at once.
 */
export function exitWhenDone(graceMs = 5_000): void {
  setTimeout(() => {
    process.stderr.write(`fault suite: still running ${graceMs} ms after the last test; open resources: ${process.getActiveResourcesInfo().join(', ')}; exiting\n`);
    process.exit(process.exitCode ?? 0);
  }, graceMs).unref();
}

/** Committed offset minus end offset of a group on a topic, summed over partitions (admin). */
export async function groupLag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    let lag = 0;
    for (const e of ends) {
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
      lag += Number(BigInt(e.high) - (BigInt(c) < 0n ? BigInt(e.low) : BigInt(c)));
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/** What happened to every frame of some cameras. */
export interface Accounting {
  /** Per camera: frames on the frames topic. */
  produced: Record<string, number>;
  /** Sequence numbers on the frames topic that never reached the emotions topic nor a dead-letter topic. */
  missing: Record<string, number[]>;
  /** Gaps in the frames topic's sequence numbers (frames ingest dropped before sending). */
  gaps: Record<string, number>;
  /** Frames that reached the emotions topic more than once (at-least-once redelivery; the aggregator drops the copies). */
  redelivered: Record<string, number>;
  deadLettered: Record<string, number>;
  /** Frames written twice to the frames topic (the idempotent producer must prevent it). */
  framesTwice: Record<string, number>;
  ended: Record<string, boolean>;
}

/** Frames topic → emotions topic (or a dead letter) per camera, from a collector. */
export function accountFrames(c: Collector, prefix: string, cameras: string[]): Accounting {
  const t = pipelineTopics(prefix);
  const a: Accounting = { produced: {}, missing: {}, gaps: {}, redelivered: {}, deadLettered: {}, framesTwice: {}, ended: {} };
  for (const cam of cameras) {
    const frames = c.of(t.frames).filter((s) => s.cameraId === cam && s.kind === 'frame').map((s) => s.seq!);
    const uniq = [...new Set(frames)].sort((x, y) => x - y);
    const emotions = c.of(t.emotions).filter((s) => s.cameraId === cam && s.seq !== undefined).map((s) => s.seq!);
    const dead = new Set([...c.of(t.dlq.frames), ...c.of(t.dlq.faces), ...c.of(t.dlq.emotions)].filter((s) => s.cameraId === cam).map((s) => s.seq!));
    const reached = new Set(emotions);
    a.produced[cam] = uniq.length;
    a.framesTwice[cam] = frames.length - uniq.length;
    a.missing[cam] = uniq.filter((q) => !reached.has(q) && !dead.has(q));
    a.gaps[cam] = uniq.length ? uniq[uniq.length - 1] + 1 - uniq.length : 0;
    a.redelivered[cam] = emotions.length - reached.size;
    a.deadLettered[cam] = dead.size;
    a.ended[cam] = c.of(t.emotions).some((s) => s.kind === 'end' && s.cameraId === cam);
  }
  return a;
}

/**
 * Events of some cameras from a collector, with the duplicates (same camera, person, type,
 * mediaTimeMs) and the eventIds seen more than once (`idDuplicates`).
 */
export function eventsOf(c: Collector, prefix: string, cameras: string[]) {
  const t = pipelineTopics(prefix);
  const events = c.of(t.events).map((s) => s.json as { cameraId: string; personId: string; type: string; mediaTimeMs: number; eventId?: string })
    .filter((e) => e && cameras.includes(e.cameraId));
  const keys = events.map((e) => `${e.cameraId}|${e.personId}|${e.type}|${e.mediaTimeMs}`);
  const duplicates = keys.filter((k, i) => keys.indexOf(k) !== i);
  const ids = events.map((e) => e.eventId).filter((x): x is string => x !== undefined);
  const idDuplicates = ids.filter((k, i) => ids.indexOf(k) !== i);
  const unbalanced: string[] = [];
  for (const cam of cameras) {
    const ofCam = events.filter((e) => e.cameraId === cam);
    const appeared = new Set(ofCam.filter((e) => e.type === 'person.appeared').map((e) => e.personId));
    const left = new Set(ofCam.filter((e) => e.type === 'person.left').map((e) => e.personId));
    for (const p of appeared) if (!left.has(p)) unbalanced.push(`${cam}/${p} appeared but never left`);
    for (const p of left) if (!appeared.has(p)) unbalanced.push(`${cam}/${p} left but never appeared`);
  }
  return { events, duplicates, idDuplicates, unbalanced };
}

/** The aggregator's last processed sequence number per camera, from its compacted state topic (as collected). */
export function aggregatorLastSeq(c: Collector, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of c.of(pipelineTopics(prefix).aggregatorState)) {
    const snap = s.json as { cameras?: Record<string, { lastSeq?: number }> } | undefined;
    for (const [cam, st] of Object.entries(snap?.cameras ?? {})) if (typeof st.lastSeq === 'number') out[cam] = st.lastSeq;
  }
  return out;
}

/** The consumer group ids of the services for a prefix. */
export function groups(config: KafkaConfig) {
  return { detector: groupIdFor(config, 'detector'), classifier: groupIdFor(config, 'classifier'), aggregator: groupIdFor(config, 'aggregator') };
}

// ---------------------------------------------------------------------------------------------
// results

/** One row of bench/FAULTS.md. */
export interface FaultResult {
  case: string;
  outcome: string;
  figures: string;
}

/**
 * Records a case's result: printed, and appended (one JSON line) to FAULTS_RESULTS_FILE when the
 * runner set it, which turns the lines into bench/FAULTS.md.
 */
export function report(r: FaultResult): void {
  process.stdout.write(`# FAULTS | ${r.case} | ${r.outcome} | ${r.figures}\n`);
  const file = process.env.FAULTS_RESULTS_FILE;
  if (file) fs.appendFileSync(file, JSON.stringify(r) + '\n');
}

/** The services' common env for a test prefix. */
export function serviceEnv(brokers: string[], prefix: string, partitions: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers.join(','), EMOSTREAM_TOPIC_PREFIX: prefix, EMOSTREAM_TOPIC_PARTITIONS: String(partitions),
    KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS), ...extra,
  };
}

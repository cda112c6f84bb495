/**
 * A real Kafka broker for integration tests: `KAFKA_BROKERS` when set (an existing cluster),
 * else testcontainers' Kafka when a Docker engine answers, else the local KRaft broker of
 * scripts/kafka.sh (started once on port KAFKA_TEST_PORT, default 39092, and left running so the
 * next test file and the next run reuse it: `scripts/kafka.sh stop --port 39092` stops it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(ROOT, 'scripts/kafka.sh');

let brokers: Promise<string[]> | undefined;

async function dockerBroker(): Promise<string[] | undefined> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return undefined;
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const port = 9092;
    const c = await new GenericContainer(process.env.KAFKA_TEST_IMAGE ?? 'apache/kafka:3.9.1')
      .withExposedPorts(port)
      .withEnvironment({
        KAFKA_NODE_ID: '1', KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER', KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1', KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1', KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_MESSAGE_MAX_BYTES: '16777216', KAFKA_REPLICA_FETCH_MAX_BYTES: '16777216',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
    // The advertised listener must be the mapped port: a Kafka image reads it at start, so
    // containers that need it fixed use a fixed host port; here the mapped one is handed out.
    return [`${c.getHost()}:${c.getMappedPort(port)}`];
  } catch {
    return undefined;
  }
}

/** The brokers to test against (starting one when needed; once per process, reused across runs). */
export function ensureBroker(): Promise<string[]> {
  brokers ??= (async () => {
    if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS.split(',');
    const docker = await dockerBroker();
    if (docker) return docker;
    // 39092 unless taken by a process this checkout did not start (another checkout's broker):
    // then the next free pair of ports (kafka.sh needs port and port+1).
    const first = Number(process.env.KAFKA_TEST_PORT ?? '39092');
    let lastError: unknown;
    for (let port = first; port < first + 1000; port += 100) {
      try {
        const out = execFileSync('bash', [SCRIPT, 'start', '--port', String(port)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const m = /KAFKA_BROKERS=(\S+)/.exec(out);
        if (!m) throw new Error(`scripts/kafka.sh start did not print KAFKA_BROKERS: ${out}`);
        return m[1].split(',');
      } catch (err) {
        lastError = err;
        const stderr = String((err as { stderr?: unknown }).stderr ?? '');
        if (!/already in use/.test(stderr)) break;
      }
    }
    throw lastError;
  })();
  return brokers;
}

/** Why no broker can be had here (no Java, no Maven and no jars), or undefined. */
export function brokerUnavailable(): string | undefined {
  if (process.env.KAFKA_BROKERS) return undefined;
  try { execFileSync('java', ['-version'], { stdio: 'ignore' }); } catch { return 'java not found (apt-get install openjdk-17-jre-headless), and KAFKA_BROKERS is not set'; }
  return undefined;
}

/** A fresh topic prefix per test: `t<time>-<random>.` */
export function randomTopics(): string {
  return `t${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
}

/**
 * A Kafka broker for the benchmark: `KAFKA_BROKERS` when set, else the local KRaft broker of
 * scripts/kafka.sh on its own port (BENCH_KAFKA_PORT, default 39292, so a test run's broker on
 * 39092 is neither disturbed nor shared), started fresh and stopped at the end; a broker that is
 * already running on that port (another run's) is used and left running.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(ROOT, 'scripts/kafka.sh');

/** A broker to use, and how to let it go. */
export interface BenchBroker {
  brokers: string[];
  version: string;
  /** Stops the broker if this run started it. */
  release(): void;
}

/** Starts (or finds) the broker. Throws with the script's reason when Java/Maven/jars are missing. */
export function startBroker(log: (m: string) => void): BenchBroker {
  const version = process.env.KAFKA_VERSION ?? '3.9.1';
  if (process.env.KAFKA_BROKERS) {
    return { brokers: process.env.KAFKA_BROKERS.split(','), version: `${version} (KAFKA_BROKERS, not started here)`, release() {} };
  }
  const port = process.env.BENCH_KAFKA_PORT ?? '39292';
  // A broker already running on the port (another run's) is used as it is and left running.
  let running = false;
  try { execFileSync('bash', [SCRIPT, 'status', '--port', port], { stdio: 'ignore' }); running = true; } catch { /* not running */ }
  if (running) {
    log(`distributed: using the Kafka broker already running on 127.0.0.1:${port} (left running afterwards)`);
    return { brokers: [`127.0.0.1:${port}`], version: `${version} (already running, not started here)`, release() {} };
  }
  log(`distributed: starting Kafka ${version} on 127.0.0.1:${port} (scripts/kafka.sh)`);
  const out = execFileSync('bash', [SCRIPT, 'start', '--port', port, '--fresh', '--version', version], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  const m = /KAFKA_BROKERS=(\S+)/.exec(out);
  if (!m) throw new Error(`scripts/kafka.sh start did not print KAFKA_BROKERS: ${out}`);
  return {
    brokers: m[1].split(','),
    version,
    release() {
      try { execFileSync('bash', [SCRIPT, 'stop', '--port', port], { stdio: 'ignore' }); } catch { /* already gone */ }
    },
  };
}

/** `emostream serve ingest|detector|classifier|aggregator|api`: one service of the distributed mode. */
import type { Command } from 'commander';
import { runService, SERVICES, type ServiceName } from '@emostream/pipeline';
import { intOption } from './options.js';

/** Registers `serve` on the program. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run one service of the distributed pipeline over Kafka (KAFKA_BROKERS, see packages/kafka/README.md); api: the live API on the events topic (API_*, see pipeline/README.md)')
    .argument('<service>', SERVICES.join(' | '))
    .option('--source <cameraId=url>', 'ingest: a camera id and its file or rtsp:// URL (repeatable; also read from EMOSTREAM_SOURCES)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--once', 'ingest: exit when the file sources end, after their last frame is acknowledged by the broker', false)
    .option('--metrics-port <port>', 'port of /metrics, /healthz and /readyz (default env EMOSTREAM_METRICS_PORT or 9464)', intOption('--metrics-port', 0, 65535))
    .action(async (service: string, opts: { source: string[]; once: boolean; metricsPort?: number }) => {
      if (!(SERVICES as readonly string[]).includes(service)) throw new Error(`unknown service '${service}': use one of ${SERVICES.join(', ')}`);
      await runService(service as ServiceName, opts);
    });
}

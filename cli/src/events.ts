/** `emostream events [--camera ID] [--json]`: subscribes to `emotion-events` and prints them. */
import type { Command } from 'commander';
import type { EmotionEvent } from '@emostream/contracts';
import { createLogger } from '@emostream/runtime';
import { kafkaConfigFromEnv } from '@emostream/kafka';
import { subscribeEvents } from '@emostream/pipeline';

function formatEvent(e: EmotionEvent): string {
  return `${e.at}  ${e.cameraId} ${e.personId.padEnd(4)} ${e.type.padEnd(16)} ${e.emotion} (${e.confidence.toFixed(2)}) @${(e.mediaTimeMs / 1000).toFixed(1)}s`;
}

/** Registers `events` on the program. */
export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('print the emotion events of the distributed pipeline as they arrive (KAFKA_BROKERS, EMOSTREAM_TOPIC_PREFIX)')
    .option('--camera <id>', 'only this camera\'s events')
    .option('--json', 'one JSON object per line (the event contract)', false)
    .option('--from-beginning', 'start at the oldest retained event instead of new ones', false)
    .option('--group <id>', 'consumer group id: a named group resumes where it stopped (default: a fresh one per run)')
    .action(async (opts: { camera?: string; json: boolean; fromBeginning: boolean; group?: string }) => {
      const logger = createLogger({ level: 'warn' });
      let fatal: Error | undefined;
      let wake: () => void = () => {};
      const sub = await subscribeEvents({
        camera: opts.camera, fromBeginning: opts.fromBeginning, group: opts.group, config: kafkaConfigFromEnv(), logger,
        onEvent: (e) => process.stdout.write((opts.json ? JSON.stringify(e) : formatEvent(e)) + '\n'),
        onInvalid: (d) => process.stderr.write(`skipped an invalid event: ${d}\n`),
        onFatal: (e) => { fatal = e; wake(); },
      });
      await new Promise<void>((resolve) => { wake = resolve; process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
      await sub.stop().catch(() => {});
      if (fatal) throw new Error(`the events consumer stopped: ${fatal.message}`);
    });
}

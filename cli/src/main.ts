/** The `emostream` command line. */
import { Command } from 'commander';
import { redactText, widenHeapGrowth } from '@emostream/runtime';
import { registerAnalyze } from './analyze.js';
import { registerTrain, registerCrossval, registerInterpolate } from './train.js';
import { registerEvaluate } from './evaluate.js';
import { registerFitHead } from './fitHead.js';
import { registerServe } from './serve.js'; import { registerEvents } from './events.js';

// Every command streams frames or faces: V8's heap gets its headroom before any work (@emostream/runtime's heap.ts).
try {
  widenHeapGrowth();
} catch (e) {
  process.stderr.write(`emostream: ${(e as Error).message}\n`);
  process.exit(1);
}

const program = new Command('emostream')
  .description('facial emotion timelines from camera streams and video files')
  .showHelpAfterError(false);
registerAnalyze(program);
registerTrain(program);
registerCrossval(program);
registerInterpolate(program);
registerFitHead(program);
registerEvaluate(program);
registerServe(program); registerEvents(program);

program.parseAsync(process.argv).then(() => {
  // tfjs-node and ffprobe can keep handles open; the work is done.
  process.exit(0);
}, (err: Error) => {
  process.stderr.write(`emostream: ${redactText(err.message.split('\n')[0])}\n`);
  process.exit(1);
});

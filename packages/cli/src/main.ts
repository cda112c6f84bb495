/** The `emostream` command line. */
import { Command } from 'commander';
import { registerTrain } from './train.js';
import { registerEvaluate } from './evaluate.js';

const program = new Command('emostream')
  .description('facial emotion timelines from camera streams and video files')
  .showHelpAfterError(false);
registerTrain(program);
registerEvaluate(program);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`emostream: ${err.message}\n`);
  process.exit(1);
});

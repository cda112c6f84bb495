/** `emostream train` and `emostream evaluate`: the retrain job's commands. */
import type { Command } from 'commander';
import { loadTf, type BackendChoice } from '@emostream/runtime';
import { runTrainJob } from '@emostream/retrain';
import { parseLabelMap, intOption } from './options.js';

/** Registers `train` on the program. */
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the emotion CNN on labelled faces and write a versioned model directory')
    .requiredOption('--data <dir>', 'FER-2013 folder (train/ test/), CK+ folder (with index.csv) or <label>/<image> folders')
    .option('--config <name>', 'paper (the paper\'s recipe) or best (the shipped recipe)', 'best')
    .option('--out <dir>', 'output folder (checkpoint/ and model/)', 'runs/train')
    .option('--split <protocol>', 'official (FER-2013 Training/PublicTest/PrivateTest, CK+ by subject) or paper (random 75:25 / 80:20)', 'official')
    .option('--epochs <n>', 'number of epochs (default: the config\'s)', intOption('--epochs', 1, 10_000))
    .option('--batch-size <n>', 'batch size (default: the config\'s)', intOption('--batch-size', 1, 4096))
    .option('--max-epochs-this-run <n>', 'stop after this many epochs; continue later with --resume', intOption('--max-epochs-this-run', 0, 10_000))
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--label-map <pairs>', 'extra label synonyms, e.g. contempt=disgust,joy=happy')
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .action(async (o) => {
      if (!['paper', 'best'].includes(o.config)) throw new Error(`--config must be paper or best, got '${o.config}'`);
      if (!['official', 'paper'].includes(o.split)) throw new Error(`--split must be official or paper, got '${o.split}'`);
      const rt = await loadTf(o.backend as BackendChoice);
      if (rt.backend === 'wasm') throw new Error('the wasm backend cannot train (no Conv2DBackpropFilter kernel): run `bash scripts/install.sh` to build tfjs-node');
      process.stderr.write(`backend: ${rt.provider}\n`);
      await runTrainJob({
        tf: rt.tf, backend: rt.provider, data: o.data, config: o.config, out: o.out, split: o.split, epochs: o.epochs,
        batchSize: o.batchSize, maxEpochsThisRun: o.maxEpochsThisRun, resume: o.resume, labelMap: parseLabelMap(o.labelMap),
        log: (l) => process.stderr.write(l + '\n'),
      });
    });
}

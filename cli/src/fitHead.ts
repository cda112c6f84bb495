/** `emostream fit-head`: a second softmax head (FER+'s votes) on a trained model's frozen features. */
import type { Command } from 'commander';
import { loadTf, type BackendChoice } from '@emostream/runtime';
import { HEAD_FIT_DEFAULTS, runFitHeadJob } from '@emostream/retrain';
import { intOption, numberOption } from './options.js';

/** Registers `fit-head` on the program. */
export function registerFitHead(program: Command): void {
  program
    .command('fit-head')
    .description('fit a second softmax head of a model to FER+\'s crowd votes on its frozen features, epoch chosen on FER+\'s majority of PublicTest; written to the model directory\'s heads.json, chosen with --head')
    .requiredOption('--model <dir>', 'the model directory (its network and own head are not changed)')
    .requiredOption('--data <dir>', 'the FER-2013 folder (train/ test/)')
    .requiredOption('--ferplus <dir>', 'the FER+ folder (fer2013new.csv, mapping.csv)')
    .option('--name <name>', 'the head\'s name', 'ferplus')
    .option('--epochs <n>', 'epochs over the Training faces', intOption('--epochs', 1, 1000), HEAD_FIT_DEFAULTS.epochs)
    .option('--lr <rate>', 'Adam learning rate', numberOption('--lr', 1e-7, 1), HEAD_FIT_DEFAULTS.learningRate)
    .option('--no-filmed', 'do not also fit on each Training face filmed once as a camera and the detector would (blur, noise, JPEG, light, box noise)')
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .action(async (o) => {
      const rt = await loadTf(o.backend as BackendChoice);
      await runFitHeadJob({
        tf: rt.tf, model: o.model, data: o.data, ferplus: o.ferplus, name: o.name,
        config: { ...HEAD_FIT_DEFAULTS, epochs: o.epochs, learningRate: o.lr, filmed: o.filmed }, log: (l) => process.stderr.write(l + '\n'),
      });
    });
}

/** `emostream train` and `emostream evaluate`: the retrain job's commands. */
import path from 'node:path';
import type { Command } from 'commander';
import { loadTf, type BackendChoice } from '@emostream/runtime';
import { runTrainJob, runInterpolateJob, CONFIG_NAMES } from '@emostream/retrain';
import { parseLabelMap, intOption, numberOption, autoOrNumberOption, facePxOption, filtersOption } from './options.js';

/** Registers `train` on the program. */
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the emotion CNN on labelled faces and write a versioned model directory')
    .requiredOption('--data <dir>', 'FER-2013 folder (train/ test/), CK+ folder (with index.csv) or <label>/<image> folders')
    .option('--config <name>', 'paper (the paper\'s recipe), best (the staged recipe that fine-tunes on CPU), best-gpu (the 153-epoch recipe, for a GPU) or video (fine-tuning for video: filmed faces, FER+ votes; with --init and --ferplus)', 'best')
    .option('--out <dir>', 'output folder (checkpoint/ and model/)', 'runs/train')
    .option('--split <protocol>', 'official (FER-2013 Training/PublicTest/PrivateTest, CK+ by subject) or paper (random 75:25 / 80:20)', 'official')
    .option('--epochs <n>', 'number of epochs (default: the config\'s)', intOption('--epochs', 1, 10_000))
    .option('--batch-size <n>', 'batch size (default: the config\'s)', intOption('--batch-size', 1, 4096))
    .option('--lr <rate>', 'peak learning rate (default: the config\'s)', numberOption('--lr', 1e-7, 1))
    .option('--min-class-share <f>', 'oversample each class under this share of the largest one up to it (e.g. 0.25; default: the config\'s, off for best)', numberOption('--min-class-share', 0, 1))
    .option('--logit-adjustment <tau>', 'after training, shift the softmax bias by −τ·log(class prior) for the rare classes\' sake: auto (τ chosen on the validation split, FER-2013 PublicTest) or a number (default: none)', autoOrNumberOption('--logit-adjustment', 0, 5))
    .option('--max-epochs-this-run <n>', 'stop after this many epochs; continue later with --resume', intOption('--max-epochs-this-run', 0, 10_000))
    .option('--resume', 'continue from the checkpoint in --out', false)
    .option('--no-final-test', 'do not score FER-2013\'s PrivateTest (the final test split) after training, as the scheduled retrain does: it is scored once per shipped model (`emostream evaluate --split PrivateTest`)')
    .option('--init <dir>', 'start from this model directory\'s weights (e.g. models/best) instead of a fresh network')
    .option('--ferplus <dir>', 'FER+ folder (fer2013new.csv, mapping.csv): its votes are mixed into the training targets by the recipe\'s weight (the video recipe: 0.5)')
    .option('--ferplus-weight <w>', 'weight of the FER+ votes in the targets, 0..1 (default: the config\'s; 0 for paper, best, best-gpu)', numberOption('--ferplus-weight', 0, 1))
    .option('--select-on <labels>', 'labels of the validation split that choose the epoch and τ: fer2013 (PublicTest\'s own) or ferplus (FER+\'s majority vote of PublicTest, for a run trained on FER+\'s votes; needs --ferplus)', 'fer2013')
    .option('--video-augment <p>', 'share of training faces filmed as a camera and the detector would (size, light, blur, noise, JPEG, box noise), 0..1 (default: the config\'s; 0.7 for video, off otherwise)', numberOption('--video-augment', 0, 1))
    .option('--video-face-px <min,max>', 'height range of the filmed faces in frame pixels, drawn log-uniformly (default: the config\'s, 24,200), e.g. 24,80 to train on small faces', facePxOption)
    .option('--pipeline-crops <dir>', 'also train on FER-2013 Training faces as the pipeline cropped them (a folder written by `npm run crops`), not filmed again')
    .option('--teacher <dir>', 'a trained model directory (e.g. models/video) whose probabilities on each clean training face are mixed into the targets: with --video-augment, the network learns to answer on filmed faces as the teacher does on clean ones')
    .option('--teacher-weight <w>', 'weight of the teacher\'s probabilities in the targets, 0..1 (default 0.5; needs --teacher)', numberOption('--teacher-weight', 0, 1))
    .option('--filters <a,b,c,d>', 'the four conv blocks\' filters instead of the recipe\'s 32,64,128,256, e.g. 24,48,96,192 for a network of about half the work; with --init a wider model, each conv starts from its strongest channels', filtersOption)
    .option('--no-flip-tta', 'no mirror TTA: one pass per face at evaluation and in the classifier (the card records it), half the work, for a model trained to answer alone (e.g. with --teacher)')
    .option('--label-map <pairs>', 'extra label synonyms, e.g. contempt=disgust,joy=happy')
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .action(async (o) => {
      if (o.teacherWeight !== undefined && !o.teacher) throw new Error('--teacher-weight weighs a teacher\'s probabilities: add --teacher <model dir>');
      if (!(CONFIG_NAMES as readonly string[]).includes(o.config)) throw new Error(`--config must be ${CONFIG_NAMES.join(', ')}; got '${o.config}'`);
      if (!['fer2013', 'ferplus'].includes(o.selectOn)) throw new Error(`--select-on must be fer2013 or ferplus, got '${o.selectOn}'`);
      if (!['official', 'paper'].includes(o.split)) throw new Error(`--split must be official or paper, got '${o.split}'`);
      const rt = await loadTf(o.backend as BackendChoice);
      if (rt.backend === 'wasm') throw new Error('the wasm backend cannot train (no Conv2DBackpropFilter kernel): run `bash scripts/install.sh` to build tfjs-node');
      process.stderr.write(`backend: ${rt.provider}\n`);
      await runTrainJob({
        tf: rt.tf, backend: rt.provider, data: o.data, config: o.config, out: o.out, split: o.split, epochs: o.epochs,
        batchSize: o.batchSize, learningRate: o.lr, minClassShare: o.minClassShare, logitAdjustment: o.logitAdjustment, maxEpochsThisRun: o.maxEpochsThisRun, resume: o.resume, labelMap: parseLabelMap(o.labelMap), init: o.init,
        finalTest: o.finalTest, ferplus: o.ferplus, ferPlusWeight: o.ferplusWeight, videoP: o.videoAugment, videoFacePx: o.videoFacePx, pipelineCrops: o.pipelineCrops, selectOn: o.selectOn,
        teacher: o.teacher, teacherWeight: o.teacherWeight, filters: o.filters, flipTta: o.flipTta === false ? false : undefined,
        log: (l) => process.stderr.write(l + '\n'),
      });
    });
}

/** Registers `interpolate` (a fine-tuned model blended with the one it came from, λ chosen on PublicTest) on the program. */
export function registerInterpolate(program: Command): void {
  program
    .command('interpolate')
    .description('blend a fine-tuned model with the model it was fine-tuned from, weight by weight: (1 − λ)·base + λ·tuned, λ chosen on FER-2013 PublicTest, still and filmed')
    .requiredOption('--base <dir>', 'the model fine-tuned from (λ = 0), e.g. models/best')
    .requiredOption('--tuned <dir>', 'its fine-tuned descendant (λ = 1), e.g. runs/video/model')
    .requiredOption('--data <dir>', 'the FER-2013 folder (train/ test/): its PublicTest chooses λ')
    .option('--out <dir>', 'output folder (model/ is written in it)', 'runs/interpolate')
    .option('--lambda <x>', 'a fixed λ in [0, 1] instead of choosing one', numberOption('--lambda', 0, 1))
    .option('--max-still-loss <points>', 'most PublicTest still accuracy the chosen λ may lose against the base, in points', numberOption('--max-still-loss', 0, 100), 0.5)
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .action(async (o) => {
      const rt = await loadTf(o.backend as BackendChoice);
      await runInterpolateJob({
        tf: rt.tf, base: o.base, tuned: o.tuned, data: o.data, out: o.out, lambda: o.lambda, maxStillLoss: o.maxStillLoss / 100,
        log: (l) => process.stderr.write(l + '\n'),
      });
    });
}

/** Registers `crossval` (subject-independent k-fold, CK+'s protocol) on the program. */
export function registerCrossval(program: Command): void {
  program
    .command('crossval')
    .description('subject-independent k-fold cross-validation (no subject in both train and test), e.g. on CK+')
    .requiredOption('--data <dir>', 'CK+ folder (index.csv with subject ids) or <label>/<image> folders named S<subject>_…')
    .option('--folds <k>', 'number of folds', intOption('--folds', 2, 100), 10)
    .option('--config <name>', 'paper, best or best-gpu', 'best')
    .option('--init <dir>', 'fine-tune from this model directory in every fold (default: train from scratch)')
    .option('--epochs <n>', 'epochs per fold', intOption('--epochs', 1, 10_000), 12)
    .option('--lr <rate>', 'learning rate (default: the config\'s; lower it when fine-tuning)', numberOption('--lr', 1e-7, 1))
    .option('--batch-size <n>', 'batch size (default: the config\'s)', intOption('--batch-size', 1, 4096))
    .option('--balance', 'oversample every class to the largest one in each fold\'s training set', false)
    .option('--out <dir>', 'work folder for the folds\' checkpoints', 'runs/crossval')
    .option('--json', 'print the result as one JSON object', false)
    .option('--record', 'store the result in the --init model directory\'s card.json (evaluation.ckplus-subject-<k>fold-finetuned)', false)
    .option('--label-map <pairs>', 'extra label synonyms, e.g. contempt=disgust')
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .action(async (o) => {
      if (o.record && !o.init) throw new Error('--record stores the result in the card of the model given with --init: add --init <model dir>');
      const rt = await loadTf(o.backend as BackendChoice);
      const { configByName, crossValidate, loadCkFolder, classCounts } = await import('@emostream/retrain');
      const { loadWeightsAs, recordEvaluation } = await import('@emostream/model');
      const cfg = configByName(o.config);
      cfg.epochs = o.epochs;
      if (o.lr !== undefined) { cfg.learningRate = o.lr; }
      if (o.batchSize !== undefined) cfg.batchSize = o.batchSize;
      if (o.balance) cfg.balance = true;
      if (o.init) cfg.warmupEpochs = 0;
      const log = (l: string) => process.stderr.write(l + '\n');
      const set = await loadCkFolder(o.data, { cacheDir: '.cache/datasets', labelMap: parseLabelMap(o.labelMap), warn: (m) => log(`warning: ${m}`) });
      log(`${set.labels.length} images, ${new Set(set.groups).size} subjects, classes ${JSON.stringify(classCounts(set))}`);
      // Weights only: the config's architecture settings (dropout rates) apply, as in `train --init`.
      const init = o.init ? async () => (await loadWeightsAs(rt.tf, o.init, cfg.architecture, cfg.seed)).model : undefined;
      const r = await crossValidate({ tf: rt.tf, set, k: o.folds, config: cfg, init, workDir: o.out, name: o.init ? `finetune(${o.init})` : cfg.name, log });
      if (o.record) {
        const command = `emostream crossval --data ${o.data} --folds ${o.folds} --init ${o.init} --epochs ${o.epochs}${o.lr !== undefined ? ` --lr ${o.lr}` : ''}${o.batchSize !== undefined ? ` --batch-size ${o.batchSize}` : ''}${o.balance ? ' --balance' : ''}`;
        const cardFile = await recordEvaluation(o.init, `ckplus-subject-${o.folds}fold-finetuned`, {
          ...r, command,
          protocol: `subject-independent ${o.folds}-fold cross-validation on ${path.basename(path.resolve(o.data))} (no subject in both train and test); each fold fine-tunes this model for ${o.epochs} epochs on the other folds' subjects and is scored on its own`,
        });
        log(`recorded in ${cardFile}`);
      }
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(`${o.folds}-fold subject-independent: accuracy ${(r.meanAccuracy * 100).toFixed(2)}% ± ${(r.stdAccuracy * 100).toFixed(2)}, balanced ${(r.meanBalancedAccuracy * 100).toFixed(2)}% (${r.subjects} subjects)\n`);
    });
}

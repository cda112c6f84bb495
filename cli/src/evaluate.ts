/**
 * `emostream evaluate`: scores a model (ours or Human's) on any labelled folder, as JSON and as a report;
 * `emostream publish-decision`: the scheduled retrain's decision from `evaluate --json` results on PublicTest.
 */
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { loadTf, type BackendChoice } from '@emostream/runtime';
import { loadEmotionModel } from '@emostream/classifier';
import { evaluateModel, publishDecision, type EvaluationResult } from '@emostream/retrain';
import { OWN_HEAD, recordEvaluation, recordHeadEvaluation } from '@emostream/model';
import { numberOption, parseLabelMap } from './options.js';

/** Registers `evaluate` and `publish-decision` on the program. */
export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('score a model on a labelled folder: accuracy, balanced accuracy, per-class P/R/F1, confusion matrix, calibration')
    .requiredOption('--data <dir>', 'FER-2013 folder (train/ test/), CK+ folder, or <label>/<image> folders')
    .option('--model <dir>', 'model directory, or `human` for Human\'s emotion model (default: the shipped model)')
    .option('--split <name>', 'FER-2013 split: PrivateTest (default), PublicTest or Training')
    .option('--json', 'print one JSON object on stdout', false)
    .option('--report <file>', 'write the HTML report here (default: evaluation.html in the current folder)')
    .option('--label-map <pairs>', 'extra label synonyms, e.g. contempt=disgust')
    .option('--ferplus <dir>', 'score against FER+ majority votes (folder with fer2013new.csv and mapping.csv); --data is the FER-2013 folder')
    .option('--head <name>', 'which softmax head of the model directory answers: fer2013 (its own) or one of its heads.json (e.g. ferplus)', OWN_HEAD)
    .option('--record', 'also store the result in the model directory\'s card.json (evaluation.<test set>), or for another --head in its heads.json entry', false)
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu', 'auto')
    .action(async (o) => {
      // The classifier as analyze runs it: one session call (oneDNN at AVX2); Human's model op by op.
      const rt = await loadTf(o.backend as BackendChoice, { sessions: o.model !== 'human' });
      const model = await loadEmotionModel(rt.tf, { model: o.model, head: o.head });
      if (o.record && !model.dir) throw new Error('--record needs a model directory (--model DIR), not a built-in model');
      const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
      // Human's model was trained on plain gray faces; ours on equalised ones: each gets its own input.
      const { name, main, extra, result, report } = await evaluateModel(model, {
        data: o.data, split: o.split, equalize: o.model !== 'human', labelMap: parseLabelMap(o.labelMap), warn, ferplus: o.ferplus, backend: rt.provider,
      });
      const reportFile = o.report ?? 'evaluation.html';
      if (o.record && model.dir) {
        const command = `emostream evaluate --model ${o.model ?? model.dir}${o.head !== OWN_HEAD ? ` --head ${o.head}` : ''} --data ${o.data}${o.split ? ` --split ${o.split}` : ''}${o.ferplus ? ` --ferplus ${o.ferplus}` : ''}`;
        await (o.head === OWN_HEAD ? recordEvaluation(model.dir, name, { ...result, command }) : recordHeadEvaluation(model.dir, o.head, name, { ...result, command }));
      }
      await fs.writeFile(reportFile, report);
      if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(`${model.version} on ${name}: accuracy ${(main.accuracy * 100).toFixed(2)}%, balanced ${(main.balancedAccuracy * 100).toFixed(2)}%, ECE ${main.ece.toFixed(3)} (n=${main.n})\n`);
        for (const [k, v] of Object.entries(extra)) process.stdout.write(`  ${k}: ${JSON.stringify(v)}\n`);
        process.stdout.write(`report: ${reportFile}\n`);
      }
      model.dispose();
    });

  program
    .command('publish-decision')
    .description('the scheduled retrain\'s decision: publish the candidate when its `evaluate --json` accuracy on the validation split (FER-2013 PublicTest) reaches --min-accuracy; an evaluation on PrivateTest is an error')
    .requiredOption('--candidate <file>', 'the candidate\'s `emostream evaluate --json` output (FER-2013: --split PublicTest)')
    .option('--current <file>', 'the current model\'s `evaluate --json` output on the same set: also require the candidate not to be below it')
    .requiredOption('--min-accuracy <f>', 'the accuracy the candidate must reach', numberOption('--min-accuracy', 0, 1))
    .option('--json', 'print the decision as one JSON object instead of a line', false)
    .action(async (o) => {
      const read = async (f: string) => JSON.parse(await fs.readFile(f, 'utf8')) as EvaluationResult;
      const d = publishDecision(await read(o.candidate), o.current ? await read(o.current) : undefined, { minAccuracy: o.minAccuracy });
      process.stdout.write(o.json ? JSON.stringify(d) + '\n' : `${d.publish ? 'publish' : 'keep'}: ${d.reason}\n`);
    });
}

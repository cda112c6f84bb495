#!/usr/bin/env python3
"""Trains emostream's `best` network (packages/model/src/architecture.ts, layer for layer) with
PyTorch on a CUDA GPU, for machines where tfjs-node-gpu cannot run (see README.md beside this
file). Reads the file export-data.ts writes (FER-2013 Training + PublicTest, never PrivateTest),
chooses the epoch on PublicTest (mirror TTA, like `emostream evaluate`), and writes the weights in
tfjs's layout and names (`<run>.bin` + `<run>.json`), which import-weights.ts turns into a model
directory.

Two recipes; every flag overrides the recipe's value:
- `still` (the default; stage 7's `best-gpu` with the flags README.md gives): faces equalised
  first, then mirror, rotation, zoom, shift, random erasing; the epoch with the best mean of
  PublicTest accuracy and balanced accuracy.
- `video` (`emostream train --config video`, configs.ts VIDEO_CONFIG): faces filmed before
  equalisation (film.py, the port of video.ts), FER+ votes mixed half and half into the targets
  (the export needs --ferplus), random erasing 0.25, every class drawn up to 60% of the largest,
  Adam 2e-4, label smoothing 0.05; the epoch with the best mean of PublicTest accuracy still and
  filmed once (seeded), as the TS trainer chooses.

  python3 jobs/retrain/torch/train.py --data .gpu/fer2013.bin.xz --out out/ --name v1 \\
      --recipe video --init models/best --epochs 30

Several runs can share one GPU (the network is small: one run leaves it mostly idle).
"""
import argparse, os, sys, time

import numpy as np
import torch
import torch.nn.functional as F

import emodata, film, steps
from net import Best, TfjsModelError, load_tfjs, save

RECIPES = {
    'still': dict(epochs=200, opt='sgd', lr=0.02, wd=5e-4, batch_size=128, warmup=2, label_smoothing=0.1, rotate=10, scale=0.1,
                  shift=3, erase=0, min_class_share=0, video_p=0, ferplus_weight=0, select='still-balanced'),
    'video': dict(epochs=3, opt='adamw', lr=2e-4, wd=0, batch_size=64, warmup=1, label_smoothing=0.05, rotate=10, scale=0.1,
                  shift=3, erase=0.25, min_class_share=0.6, video_p=0.7, ferplus_weight=0.5, select='still-filmed'),
}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data')
    ap.add_argument('--out')
    ap.add_argument('--name')
    ap.add_argument('--recipe', choices=sorted(RECIPES), default='still')
    ap.add_argument('--init', help='tfjs model directory to start from (an emostream `best` model, e.g. models/best)')
    ap.add_argument('--epochs', type=int, help='most epochs (fewer if --budget-s runs out first)')
    ap.add_argument('--budget-s', type=float, default=0, help='wall-clock seconds for training: the epoch count is cut to fit after epoch 2')
    ap.add_argument('--opt', choices=['sgd', 'adamw'])
    ap.add_argument('--lr', type=float)
    ap.add_argument('--wd', type=float, help='decoupled weight decay on conv and dense kernels (0 with adamw: Adam)')
    ap.add_argument('--batch-size', type=int)
    ap.add_argument('--warmup', type=float, help='epochs of linear warm-up')
    ap.add_argument('--label-smoothing', type=float)
    ap.add_argument('--block-dropout', type=float, default=0.1)
    ap.add_argument('--dense-dropout', type=float, default=0.4)
    ap.add_argument('--rotate', type=float)
    ap.add_argument('--scale', type=float)
    ap.add_argument('--shift', type=float)
    ap.add_argument('--erase', type=float, help='probability of random erasing')
    ap.add_argument('--mixup', type=float, default=0, help='mixup α (0: off)')
    ap.add_argument('--min-class-share', type=float)
    ap.add_argument('--video-p', type=float, help='share of training faces filmed before equalisation (0: the still-image path)')
    ap.add_argument('--ferplus-weight', type=float, help="weight of FER+'s votes in the targets (0: FER-2013's labels alone)")
    ap.add_argument('--select', choices=['still-balanced', 'still-filmed'], help='what chooses the epoch on PublicTest')
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--limit', type=int, default=0, help='train on N random training images only (smoke tests)')
    ap.add_argument('--bench', action='store_true', help='only measure inference faces/s of an untrained network at batch 1 and 64')
    ap.add_argument('--bench-train', action='store_true', help="only measure a training step of the recipe at --batch-size on random faces")
    args = ap.parse_args(argv)
    for k, v in RECIPES[args.recipe].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if not (args.bench or args.bench_train) and not (args.data and args.out and args.name):
        ap.error('--data, --out and --name are needed (except with --bench or --bench-train)')
    return args


def prepare(args, log):
    """The training and validation tensors of a run, as the recipe uses them."""
    try:
        sets, head = emodata.load(args.data)
    except emodata.DataFileError as e:
        sys.exit(f'error: {e}')
    tr, va = sets['Training'], sets['PublicTest']
    video = args.video_p > 0
    if video and (tr['equalized'] or va['equalized']):
        sys.exit(f'error: {args.data} holds equalised faces: filming comes before equalisation, export it again with this export-data.ts')
    if args.select == 'still-filmed' and va['equalized']:
        sys.exit(f'error: {args.data} holds an equalised PublicTest: its filmed copy needs the faces before equalisation, export it again')
    xtr = tr['images'] if video or tr['equalized'] else emodata.equalize(tr['images'])
    labels = tr['labels']
    fp = None
    if args.ferplus_weight > 0:
        if tr['soft'] is None:
            sys.exit(f"error: the recipe mixes FER+ votes into the targets (weight {args.ferplus_weight}): export with --ferplus <FER+ folder>, or pass --ferplus-weight 0")
        keep, targets = emodata.ferplus_targets(labels, tr['soft'], tr['flags'], args.ferplus_weight)
        fp = {'weight': args.ferplus_weight, 'mixed': int((tr['flags'][keep] & 1).sum()), 'withoutVotes': int(((tr['flags'][keep] & 1) == 0).sum()),
              'droppedNotFace': int((~keep).sum())}
        log(f"FER+ targets (weight {fp['weight']}): {fp['mixed']} images mixed, {fp['withoutVotes']} without FER+ votes kept as labelled, "
            f"{fp['droppedNotFace']} dropped (FER+ majority: not a face)")
        xtr, labels = xtr[keep], labels[keep]
    else:
        targets = np.eye(7, dtype=np.float32)[labels]
    if args.limit:
        keep = np.sort(np.random.default_rng(args.seed).permutation(len(labels))[:args.limit])
        xtr, labels, targets = xtr[keep], labels[keep], targets[keep]
    xva_still = va['images'] if va['equalized'] else emodata.equalize(va['images'])
    filmed = None
    if args.select == 'still-filmed':
        cfg = dict(film.FILM_DEFAULT, p=1)
        filmed = film.filmed_copy(va['images'], cfg, args.seed)
    return {'head': head, 'xtr': xtr, 'ytr': labels, 'ttr': targets, 'xva': xva_still, 'yva': va['labels'], 'filmed': filmed, 'ferplus': fp}


def main(argv=None):
    args = parse_args(argv)
    torch.backends.cudnn.benchmark = True
    dev = torch.device(args.device)
    if args.bench:
        return steps.bench(dev)
    if args.bench_train:
        return steps.bench_train(args, dev)
    t0 = time.time()
    torch.manual_seed(args.seed)
    log = lambda m: print(f'[{args.name} {time.time() - t0:6.1f}s] {m}', flush=True)
    d = prepare(args, log)
    xtr, ytr, ttr = (torch.from_numpy(np.ascontiguousarray(a)).to(dev) for a in (d['xtr'], d['ytr'], d['ttr']))
    xva, yva = torch.from_numpy(d['xva']).to(dev), torch.from_numpy(d['yva']).to(dev)
    xfilmed = d['filmed'].to(dev) if d['filmed'] is not None else None
    log(f'{len(ytr)} training, {len(yva)} PublicTest images{" (and a filmed copy)" if xfilmed is not None else ""} on {dev} '
        f'({torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"}); recipe {args.recipe}, '
        f'{"faces filmed (p " + str(args.video_p) + ") before equalisation" if args.video_p > 0 else "faces equalised first"}')

    def score(model):
        acc, bal, _ = steps.evaluate(model, xva, yva)
        facc = steps.evaluate(model, xfilmed, yva)[0] if xfilmed is not None else None
        return acc, bal, facc, (acc + facc) / 2 if args.select == 'still-filmed' else (acc + bal) / 2

    def figures(acc, bal, facc):
        return f'PublicTest {acc * 100:.2f}% / balanced {bal * 100:.2f}%' + (f', filmed {facc * 100:.2f}%' if facc is not None else '')

    model = Best(args.block_dropout, args.dense_dropout).to(dev).to(memory_format=torch.channels_last)
    if args.init:
        try:
            load_tfjs(model, args.init)
        except TfjsModelError as e:
            sys.exit(f'error: {e}')
        log(f'start from {args.init}: {figures(*score(model)[:3])}')
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    groups = [{'params': decay, 'weight_decay': args.wd}, {'params': no_decay, 'weight_decay': 0}]
    opt = (torch.optim.SGD(groups, lr=args.lr, momentum=0.9, nesterov=True) if args.opt == 'sgd'
           else torch.optim.AdamW(groups, lr=args.lr))
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    aug = {'rotate': args.rotate, 'scale': args.scale, 'shift': args.shift, 'erase': args.erase}
    amp = dev.type == 'cuda'
    total = args.epochs
    best, best_state, history = {'score': -1}, None, []
    drawn = torch.zeros(7, device=dev)
    train_start = time.time()
    epoch = 0
    while epoch < total:
        epoch += 1
        model.train()
        order = steps.epoch_order(ytr, args.min_class_share, gen)
        drawn += torch.bincount(ytr[order], minlength=7)
        n_steps = max(1, len(order) // args.batch_size)
        seen = correct = loss_sum = 0
        e0 = time.time()
        for k in range(n_steps):
            lr = steps.lr_at(args, epoch - 1 + k / n_steps, total)
            for g in opt.param_groups:
                g['lr'] = lr
            b = order[k * args.batch_size:(k + 1) * args.batch_size]
            x = steps.batch_inputs(xtr, b, args, aug, gen)
            logits, loss = steps.train_step(model, opt, x, ttr[b], args, amp, gen, args.seed * 100003 + epoch * 1009 + k)
            seen += len(b)
            correct += (logits.argmax(1) == ytr[b]).sum()
            loss_sum += loss.detach() * len(b)
        secs = time.time() - e0
        if epoch == 2 and args.budget_s > 0:
            # Epoch 1 carries cuDNN's autotuning; from epoch 2 on the pace is steady.
            fit = 2 + int((args.budget_s - (time.time() - train_start)) / max(secs * 1.1, 1e-3))
            if fit < total:
                total = max(2, fit)
                log(f'epoch 2 took {secs:.1f}s: {total} epochs fit the {args.budget_s:.0f}s budget')
        acc, bal, facc, sc = score(model)
        h = {'epoch': epoch, 'loss': round(float(loss_sum) / seen, 4), 'trainAccuracy': round(float(correct) / seen, 4),
             'valAccuracy': round(acc, 4), 'valBalancedAccuracy': round(bal, 4), 'lr': lr, 'seconds': round(secs, 2)}
        if facc is not None:
            h['valFilmedAccuracy'] = round(facc, 4)
        history.append(h)
        if sc > best['score']:
            best = {'score': sc, 'epoch': epoch}
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if epoch % 25 == 0 or epoch == total or epoch <= 2:
            log(f'epoch {epoch}/{total} loss {h["loss"]} train {h["trainAccuracy"] * 100:.1f}% {figures(acc, bal, facc)} ({secs:.1f}s)')
    model.load_state_dict(best_state)
    acc, bal, facc, _ = score(model)
    rule = 'mean of still and filmed accuracy' if args.select == 'still-filmed' else 'mean of accuracy and balanced accuracy'
    log(f'best epoch {best["epoch"]}: {figures(acc, bal, facc)} (chosen by the {rule})')
    meta = {
        'trainer': 'jobs/retrain/torch/train.py', 'torch': torch.__version__,
        'device': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu',
        'recipe': args.recipe, 'args': vars(args), 'data': d['head'].get('source'), 'epochsDone': len(history), 'bestEpoch': best['epoch'],
        'selection': f'PublicTest, {rule} (mirror TTA)', 'publicTest': {'accuracy': acc, 'balancedAccuracy': bal},
        'trainImages': len(ytr), 'classCounts': torch.bincount(ytr, minlength=7).tolist(), 'drawnPrior': (drawn / drawn.sum()).tolist(),
        'trainSeconds': round(time.time() - train_start, 1), 'history': history,
    }
    if facc is not None:
        meta['publicTestFilmed'] = {'accuracy': facc, 'seed': args.seed, 'filmedBy': 'jobs/retrain/torch/film.py'}
    if args.video_p > 0:
        meta['video'] = dict(film.FILM_DEFAULT, p=args.video_p)
    if d['ferplus']:
        meta['ferplus'] = d['ferplus']
    os.makedirs(args.out, exist_ok=True)
    save(model, args.out, args.name, meta)
    log(f'wrote {args.out}/{args.name}.bin/.json')


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Trains emostream's `best` network (packages/model/src/architecture.ts, layer for layer) with
PyTorch on a CUDA GPU, for machines where tfjs-node-gpu cannot run (see README.md beside this
file). Reads the file export-data.ts writes (FER-2013 Training + PublicTest, already through the
model's own preprocessing), chooses the epoch on PublicTest (mirror TTA, like `emostream
evaluate`), and writes the weights in tfjs's layout and names (`<run>.bin` + `<run>.json`), which
import-weights.ts turns into a model directory. It never sees PrivateTest.

  python3 jobs/retrain/torch/train.py --data .gpu/fer2013.bin.xz --out out/ --name scratch \\
      --budget-s 300 --epochs 300 --opt sgd --lr 0.02 --batch-size 128

Several runs can share one GPU (the network is small: one run leaves it mostly idle).
"""
import argparse, json, lzma, math, os, struct, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SIDE = 48
FILTERS = (32, 64, 128, 256)


def load(path):
    """The sets of export-data.ts: {name: (uint8 images [n,48,48], int64 labels [n])}, plus the header."""
    raw = lzma.open(path).read() if path.endswith('.xz') else open(path, 'rb').read()
    if raw[:8] != b'EMOFER1\n':
        sys.exit(f'{path} is not a file written by jobs/retrain/torch/export-data.ts: export it again')
    hl = struct.unpack('<I', raw[8:12])[0]
    head = json.loads(raw[12:12 + hl])
    off, sets = 12 + hl, {}
    for s in head['sets']:
        n = s['n']
        res = np.frombuffer(raw, np.uint8, n * SIDE * SIDE, off).reshape(n, SIDE, SIDE)
        off += n * SIDE * SIDE
        labels = np.frombuffer(raw, np.uint8, n, off).astype(np.int64)
        off += n
        images = undo_med(res) if head.get('coding') == 'med-residual' else res.copy()
        sets[s['name']] = (images if head.get('equalized', True) else equalize(images), labels)
    return sets, head


def equalize(images):
    """packages/model's equalizeHist on every [48,48] image, bit for bit (float64 like JS, round half up)."""
    n, total = len(images), SIDE * SIDE
    flat = images.reshape(n, total)
    hist = np.zeros((n, 256), np.int64)
    np.add.at(hist, (np.repeat(np.arange(n), total), flat.ravel()), 1)
    cdf = hist.cumsum(1)
    cdf_min = np.take_along_axis(hist, (hist > 0).argmax(1)[:, None], 1)
    denom = (total - cdf_min).astype(np.float64)
    lut = np.floor(((cdf - cdf_min) / np.where(denom == 0, 1, denom)) * 255 + 0.5).clip(0, 255).astype(np.uint8)
    out = np.take_along_axis(lut, flat.astype(np.int64), 1).reshape(images.shape)
    flat_images = (cdf_min[:, 0] == total)
    out[flat_images] = images[flat_images]
    return out


def undo_med(res):
    """Inverse of export-data.ts's medResiduals: rebuilds the pixels in raster order, all images at once."""
    out = np.zeros(res.shape, np.int32)
    r = res.astype(np.int32)
    for y in range(SIDE):
        for x in range(SIDE):
            if y == 0:
                pred = out[:, 0, x - 1] if x else 0
            elif x == 0:
                pred = out[:, y - 1, 0]
            else:
                a, b, c = out[:, y, x - 1], out[:, y - 1, x], out[:, y - 1, x - 1]
                mx, mn = np.maximum(a, b), np.minimum(a, b)
                pred = np.where(c >= mx, mn, np.where(c <= mn, mx, a + b - c))
            out[:, y, x] = (r[:, y, x] + pred) & 255
    return out.astype(np.uint8)


class Best(nn.Module):
    """architecture.ts's `best`: 4 blocks of 2x(conv3x3 no-bias → BN → ReLU) → max-pool → dropout,
    flatten (in NHWC order, as tfjs does), dense 256 + ReLU, dropout, dense 7 (softmax outside)."""

    def __init__(self, block_dropout=0.1, dense_dropout=0.4):
        super().__init__()
        layers, cin = [], 1
        for f in FILTERS:
            for _ in range(2):
                # Keras/tfjs batch norm: epsilon 1e-3, moving average momentum 0.99.
                layers += [nn.Conv2d(cin, f, 3, padding=1, bias=False), nn.BatchNorm2d(f, eps=1e-3, momentum=0.01), nn.ReLU(inplace=True)]
                cin = f
            layers += [nn.MaxPool2d(2), nn.Dropout(block_dropout)]
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(3 * 3 * 256, 256)
        self.drop = nn.Dropout(dense_dropout)
        self.emotion = nn.Linear(256, 7)

    def forward(self, x):
        x = self.features(x)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return self.emotion(self.drop(F.relu(self.fc1(x))))


def tfjs_weights(model):
    """(name, numpy array) in the order and layout of the tfjs model's weights."""
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.features if isinstance(m, nn.BatchNorm2d)]
    out, late = [], []
    for i, (conv, bn) in enumerate(zip(convs, bns)):
        b, c = i // 2 + 1, i % 2 + 1
        out.append((f'block{b}_conv{c}/kernel', conv.weight.detach().permute(2, 3, 1, 0)))  # OIHW → HWIO
        out.append((f'block{b}_bn{c}/gamma', bn.weight.detach()))
        out.append((f'block{b}_bn{c}/beta', bn.bias.detach()))
        late.append((f'block{b}_bn{c}/moving_mean', bn.running_mean))
        late.append((f'block{b}_bn{c}/moving_variance', bn.running_var))
    out += [('fc1/kernel', model.fc1.weight.detach().t()), ('fc1/bias', model.fc1.bias.detach()),
            ('emotion/kernel', model.emotion.weight.detach().t()), ('emotion/bias', model.emotion.bias.detach())]
    return [(n, t.float().cpu().contiguous().numpy()) for n, t in out + late]


def load_tfjs(model, model_dir):
    """Copies a tfjs model directory's weights (emostream `best` layout) into `model`."""
    spec = json.load(open(os.path.join(model_dir, 'model.json')))
    blob, named = b'', {}
    for g in spec['weightsManifest']:
        blob = b''
        for p in g['paths']:
            blob += open(os.path.join(model_dir, p), 'rb').read()
        off = 0
        for w in g['weights']:
            if w['dtype'] != 'float32':
                sys.exit(f"{model_dir}: weight {w['name']} is {w['dtype']}, expected float32")
            n = int(np.prod(w['shape'])) if w['shape'] else 1
            named[w['name']] = np.frombuffer(blob, np.float32, n, off).reshape(w['shape'])
            off += 4 * n
    want = dict(tfjs_weights(model))
    missing = sorted(set(want) - set(named))
    if missing:
        sys.exit(f'{model_dir} is not an emostream `best` model: it lacks {", ".join(missing[:4])}')
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.features if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for i, (conv, bn) in enumerate(zip(convs, bns)):
            b, c = i // 2 + 1, i % 2 + 1
            conv.weight.copy_(torch.from_numpy(named[f'block{b}_conv{c}/kernel'].copy()).permute(3, 2, 0, 1))
            bn.weight.copy_(torch.from_numpy(named[f'block{b}_bn{c}/gamma'].copy()))
            bn.bias.copy_(torch.from_numpy(named[f'block{b}_bn{c}/beta'].copy()))
            bn.running_mean.copy_(torch.from_numpy(named[f'block{b}_bn{c}/moving_mean'].copy()))
            bn.running_var.copy_(torch.from_numpy(named[f'block{b}_bn{c}/moving_variance'].copy()))
        model.fc1.weight.copy_(torch.from_numpy(named['fc1/kernel'].copy()).t())
        model.fc1.bias.copy_(torch.from_numpy(named['fc1/bias'].copy()))
        model.emotion.weight.copy_(torch.from_numpy(named['emotion/kernel'].copy()).t())
        model.emotion.bias.copy_(torch.from_numpy(named['emotion/bias'].copy()))


def save(model, out_dir, name, meta):
    """`<name>.bin` (float32 weights in tfjs order) + `<name>.json` (tfjs weight specs + the run's record)."""
    ws = tfjs_weights(model)
    with open(os.path.join(out_dir, f'{name}.bin'), 'wb') as f:
        for _, a in ws:
            f.write(a.astype('<f4').tobytes())
    meta = dict(meta, weights=[{'name': n, 'shape': list(a.shape), 'dtype': 'float32'} for n, a in ws], weightsFile=f'{name}.bin')
    with open(os.path.join(out_dir, f'{name}.json'), 'w') as f:
        json.dump(meta, f, indent=1)


def augment(x, a, gen):
    """Random mirror, rotation, zoom, shift (bilinear, edge pixels repeated) and erasing on a
    [n,1,48,48] float batch in [0,1]: the same kinds of change as augment.ts, on the GPU."""
    n, dev = x.shape[0], x.device
    u = lambda: torch.rand(n, device=dev, generator=gen) * 2 - 1
    ang = u() * a['rotate'] * math.pi / 180
    s = 1 + u() * a['scale']
    tx, ty = u() * a['shift'] * 2 / SIDE, u() * a['shift'] * 2 / SIDE
    flip = torch.where(torch.rand(n, device=dev, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    theta = torch.stack([torch.stack([cos * flip, sin, tx], 1), torch.stack([-sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)
    if a['erase'] > 0:
        # Random erasing (Zhong et al. 2020): with probability p a rectangle of 2–25% of the face
        # set to random gray.
        area = (0.02 + torch.rand(n, device=dev, generator=gen) * 0.23) * SIDE * SIDE
        ratio = torch.exp((torch.rand(n, device=dev, generator=gen) * 2 - 1) * math.log(3))
        h = (area * ratio).sqrt().clamp(1, SIDE)
        w = (area / ratio).sqrt().clamp(1, SIDE)
        y0 = torch.rand(n, device=dev, generator=gen) * (SIDE - h)
        x0 = torch.rand(n, device=dev, generator=gen) * (SIDE - w)
        ar = torch.arange(SIDE, device=dev, dtype=torch.float32)
        inside = ((ar[None, :, None] >= y0[:, None, None]) & (ar[None, :, None] < (y0 + h)[:, None, None])
                  & (ar[None, None, :] >= x0[:, None, None]) & (ar[None, None, :] < (x0 + w)[:, None, None]))
        on = (torch.rand(n, device=dev, generator=gen) < a['erase'])[:, None, None] & inside
        fill = torch.rand(n, 1, 1, device=dev, generator=gen).expand(-1, SIDE, SIDE)
        x = torch.where(on[:, None], fill[:, None], x)
    return x


def epoch_order(labels, min_share, gen):
    """augment.ts's epochOrder: classes under `min_share` of the largest drawn up to it, shuffled."""
    idx = torch.arange(len(labels), device=labels.device)
    if min_share > 0:
        counts = torch.bincount(labels, minlength=7)
        floor = round(min(1.0, min_share) * int(counts.max()))
        parts = []
        for c in range(7):
            members = idx[labels == c]
            if len(members) == 0:
                continue
            target = max(len(members), floor)
            parts.append(members.repeat(math.ceil(target / len(members)))[:target])
        idx = torch.cat(parts)
    return idx[torch.randperm(len(idx), device=labels.device, generator=gen)]


@torch.no_grad()
def evaluate(model, x, y, batch=2048):
    """Accuracy, balanced accuracy and probabilities with mirror TTA (evaluate's flipTta)."""
    model.eval()
    probs = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].float().div(255).unsqueeze(1)
        p = F.softmax(model(xb).float(), 1) + F.softmax(model(torch.flip(xb, [3])).float(), 1)
        probs.append(p / 2)
    p = torch.cat(probs)
    pred = p.argmax(1)
    acc = (pred == y).float().mean().item()
    recalls = [((pred == c) & (y == c)).sum().item() / max(1, (y == c).sum().item()) for c in range(7) if (y == c).any()]
    return acc, sum(recalls) / len(recalls), p


@torch.no_grad()
def bench(dev, seconds=3.0):
    """Faces per second of the network's forward pass (fp32, no TTA) at batch 1 and 64."""
    model = Best().to(dev).eval()
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'
    for batch in (1, 64):
        x = torch.rand(batch, 1, SIDE, SIDE, device=dev)
        for _ in range(20):
            model(x)
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        n, t = 0, time.time()
        while time.time() - t < seconds:
            for _ in range(20):
                model(x)
            if dev.type == 'cuda':
                torch.cuda.synchronize()
            n += 20
        el = time.time() - t
        print(f'bench {name} torch {torch.__version__} fp32 eager: batch {batch}: {n * batch / el:,.0f} faces/s ({el / n * 1000:.3f} ms per call)', flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--name', required=True)
    ap.add_argument('--init', help='tfjs model directory to start from (an emostream `best` model)')
    ap.add_argument('--epochs', type=int, default=200, help='most epochs (fewer if --budget-s runs out first)')
    ap.add_argument('--budget-s', type=float, default=0, help='wall-clock seconds for training: the epoch count is cut to fit after epoch 1')
    ap.add_argument('--opt', choices=['sgd', 'adamw'], default='sgd')
    ap.add_argument('--lr', type=float, default=0.02)
    ap.add_argument('--wd', type=float, default=5e-4)
    ap.add_argument('--batch-size', type=int, default=128)
    ap.add_argument('--warmup', type=float, default=2, help='epochs of linear warm-up')
    ap.add_argument('--label-smoothing', type=float, default=0.1)
    ap.add_argument('--block-dropout', type=float, default=0.1)
    ap.add_argument('--dense-dropout', type=float, default=0.4)
    ap.add_argument('--rotate', type=float, default=10)
    ap.add_argument('--scale', type=float, default=0.1)
    ap.add_argument('--shift', type=float, default=3)
    ap.add_argument('--erase', type=float, default=0, help='probability of random erasing')
    ap.add_argument('--mixup', type=float, default=0, help='mixup α (0: off)')
    ap.add_argument('--min-class-share', type=float, default=0)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--limit', type=int, default=0, help='train on N random training images only (smoke tests)')
    ap.add_argument('--bench', action='store_true', help='only measure inference faces/s of an untrained network at batch 1 and 64')
    args = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    if args.bench:
        return bench(torch.device(args.device))

    t0 = time.time()
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    sets, head = load(args.data)
    xtr, ytr = sets['Training']
    xva, yva = sets['PublicTest']
    if args.limit:
        keep = np.random.default_rng(args.seed).permutation(len(ytr))[:args.limit]
        xtr, ytr = xtr[keep], ytr[keep]
    xtr, ytr = torch.from_numpy(xtr).to(dev), torch.from_numpy(ytr).to(dev)
    xva, yva = torch.from_numpy(xva).to(dev), torch.from_numpy(yva).to(dev)
    log = lambda m: print(f'[{args.name} {time.time() - t0:6.1f}s] {m}', flush=True)
    log(f'{len(ytr)} training, {len(yva)} PublicTest images on {dev} ({torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"})')

    model = Best(args.block_dropout, args.dense_dropout).to(dev).to(memory_format=torch.channels_last)
    if args.init:
        load_tfjs(model, args.init)
        acc, bal, _ = evaluate(model, xva, yva)
        log(f'start from {args.init}: PublicTest {acc * 100:.2f}% / balanced {bal * 100:.2f}%')
    decay, no_decay = [], []
    for n_, p in model.named_parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    groups = [{'params': decay, 'weight_decay': args.wd}, {'params': no_decay, 'weight_decay': 0}]
    opt = (torch.optim.SGD(groups, lr=args.lr, momentum=0.9, nesterov=True) if args.opt == 'sgd'
           else torch.optim.AdamW(groups, lr=args.lr))
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    aug = {'rotate': args.rotate, 'scale': args.scale, 'shift': args.shift, 'erase': args.erase}
    amp = dev.type == 'cuda'
    total = args.epochs
    best = {'score': -1}
    history = []
    drawn = torch.zeros(7, device=dev)
    train_start = time.time()
    for epoch in range(1, 10 ** 6):
        if epoch > total:
            break
        model.train()
        order = epoch_order(ytr, args.min_class_share, gen)
        drawn += torch.bincount(ytr[order], minlength=7)
        steps = len(order) // args.batch_size
        seen = correct = loss_sum = 0
        e0 = time.time()
        for k in range(steps):
            frac = epoch - 1 + k / steps
            lr = args.lr * (frac / args.warmup if frac < args.warmup else
                            0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - args.warmup) / max(1e-9, total - args.warmup)))))
            for g in opt.param_groups:
                g['lr'] = lr
            b = order[k * args.batch_size:(k + 1) * args.batch_size]
            x = augment(xtr[b].float().div(255).unsqueeze(1), aug, gen).contiguous(memory_format=torch.channels_last)
            y = ytr[b]
            target = F.one_hot(y, 7).float() * (1 - args.label_smoothing) + args.label_smoothing / 7
            if args.mixup > 0:
                lam = float(np.random.default_rng(args.seed * 100003 + epoch * 1009 + k).beta(args.mixup, args.mixup))
                perm = torch.randperm(len(b), device=dev, generator=gen)
                x = lam * x + (1 - lam) * x[perm]
                target = lam * target + (1 - lam) * target[perm]
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(x)
            loss = torch.sum(-target * F.log_softmax(logits.float(), 1), 1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(b)
            correct += (logits.argmax(1) == y).sum()
            loss_sum += loss.detach() * len(b)
        secs = time.time() - e0
        if epoch == 2 and args.budget_s > 0:
            # Epoch 1 carries cuDNN's autotuning; from epoch 2 on the pace is steady.
            fit = 2 + int((args.budget_s - (time.time() - train_start)) / max(secs * 1.1, 1e-3))
            if fit < total:
                total = max(2, fit)
                log(f'epoch 2 took {secs:.1f}s: {total} epochs fit the {args.budget_s:.0f}s budget')
        acc, bal, _ = evaluate(model, xva, yva)
        score = (acc + bal) / 2
        h = {'epoch': epoch, 'loss': round(float(loss_sum) / seen, 4), 'trainAccuracy': round(float(correct) / seen, 4),
             'valAccuracy': round(acc, 4), 'valBalancedAccuracy': round(bal, 4), 'lr': lr, 'seconds': round(secs, 2)}
        history.append(h)
        if score > best['score']:
            best = {'score': score, 'epoch': epoch, 'acc': acc, 'bal': bal}
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if epoch % 25 == 0 or epoch == total or epoch <= 2:
            log(f'epoch {epoch}/{total} loss {h["loss"]} train {h["trainAccuracy"] * 100:.1f}% PublicTest {acc * 100:.2f}% / {bal * 100:.2f}% ({secs:.1f}s)')
    model.load_state_dict(best_state)
    acc, bal, _ = evaluate(model, xva, yva)
    log(f'best epoch {best["epoch"]}: PublicTest {acc * 100:.2f}% / balanced {bal * 100:.2f}% (chosen by their mean)')
    prior = (drawn / drawn.sum()).tolist()
    meta = {
        'trainer': 'jobs/retrain/torch/train.py', 'torch': torch.__version__,
        'device': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu',
        'args': vars(args), 'epochsDone': len(history), 'bestEpoch': best['epoch'],
        'publicTest': {'accuracy': acc, 'balancedAccuracy': bal}, 'trainImages': len(ytr),
        'classCounts': torch.bincount(ytr, minlength=7).tolist(), 'drawnPrior': prior,
        'trainSeconds': round(time.time() - train_start, 1), 'history': history,
    }
    os.makedirs(args.out, exist_ok=True)
    save(model, args.out, args.name, meta)
    log(f'wrote {args.out}/{args.name}.bin/.json')


if __name__ == '__main__':
    main()

"""The pieces of train.py's loop: the epoch's draw order, the learning rate, one training step,
scoring with mirror TTA, and the speed measurements (`--bench`, `--bench-train`)."""
import math, time

import torch
import torch.nn.functional as F

import film
from net import Best

SIDE = 48
CLASSES = 7


def epoch_order(labels, min_share, gen):
    """augment.ts's epochOrder: classes under `min_share` of the largest drawn up to it, shuffled."""
    idx = torch.arange(len(labels), device=labels.device)
    if min_share > 0:
        counts = torch.bincount(labels, minlength=CLASSES)
        floor = round(min(1.0, min_share) * int(counts.max()))
        parts = []
        for c in range(CLASSES):
            members = idx[labels == c]
            if len(members) == 0:
                continue
            target = max(len(members), floor)
            parts.append(members.repeat(math.ceil(target / len(members)))[:target])
        idx = torch.cat(parts)
    return idx[torch.randperm(len(idx), device=labels.device, generator=gen)]


def lr_at(args, frac, total):
    """Linear warm-up, then cosine decay to 1% of the peak at `total` epochs (configs.ts learningRateAt)."""
    if frac < args.warmup:
        return args.lr * frac / args.warmup
    return args.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - args.warmup) / max(1e-9, total - args.warmup)))))


def batch_inputs(x_all, b, args, aug, gen):
    """The augmented inputs of one batch: filmed and then equalised (the video recipe), or already
    equalised faces moved and erased (the still-image recipe)."""
    if args.video_p > 0:
        return film.augment_video(x_all[b], aug, dict(film.FILM_DEFAULT, p=args.video_p), gen)
    return film.augment(x_all[b].float().div(255).unsqueeze(1), aug, gen)


def train_step(model, opt, x, target, args, amp, gen, seed_step):
    """One optimiser step on soft targets (label smoothing and optional mixup on top); returns (logits, loss)."""
    target = target * (1 - args.label_smoothing) + args.label_smoothing / CLASSES
    if args.mixup > 0:
        import numpy as np
        lam = float(np.random.default_rng(seed_step).beta(args.mixup, args.mixup))
        perm = torch.randperm(len(x), device=x.device, generator=gen)
        x = lam * x + (1 - lam) * x[perm]
        target = lam * target + (1 - lam) * target[perm]
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        logits = model(x.contiguous(memory_format=torch.channels_last))
    loss = torch.sum(-target * F.log_softmax(logits.float(), 1), 1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return logits, loss


@torch.no_grad()
def evaluate(model, x, y, batch=2048):
    """Accuracy, balanced accuracy and probabilities with mirror TTA (evaluate's flipTta) on equalised uint8 faces."""
    model.eval()
    probs = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].float().div(255).unsqueeze(1)
        p = F.softmax(model(xb).float(), 1) + F.softmax(model(torch.flip(xb, [3])).float(), 1)
        probs.append(p / 2)
    p = torch.cat(probs)
    pred = p.argmax(1)
    acc = (pred == y).float().mean().item()
    recalls = [((pred == c) & (y == c)).sum().item() / max(1, (y == c).sum().item()) for c in range(CLASSES) if (y == c).any()]
    return acc, sum(recalls) / len(recalls), p


def _sync(dev):
    if dev.type == 'cuda':
        torch.cuda.synchronize()


def _name(dev):
    return torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'


@torch.no_grad()
def bench(dev, seconds=3.0):
    """Faces per second of the network's forward pass (fp32, no TTA) at batch 1 and 64."""
    model = Best().to(dev).eval()
    for batch in (1, 64):
        x = torch.rand(batch, 1, SIDE, SIDE, device=dev)
        for _ in range(20):
            model(x)
        _sync(dev)
        n, t = 0, time.time()
        while time.time() - t < seconds:
            for _ in range(20):
                model(x)
            _sync(dev)
            n += 20
        el = time.time() - t
        print(f'bench {_name(dev)} torch {torch.__version__} fp32 eager: batch {batch}: {n * batch / el:,.0f} faces/s ({el / n * 1000:.3f} ms per call)', flush=True)


def bench_train(args, dev, steps=10):
    """Milliseconds per training step at --batch-size (augmentation of the recipe, forward, backward,
    AdamW) on random faces, and the augmentation alone: what sizes a run on a machine."""
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    model = Best(args.block_dropout, args.dense_dropout).to(dev).to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x_all = torch.randint(0, 256, (args.batch_size * 4, SIDE, SIDE), dtype=torch.uint8, device=dev, generator=gen)
    target = F.one_hot(torch.randint(0, CLASSES, (args.batch_size,), device=dev, generator=gen), CLASSES).float()
    aug = {'rotate': args.rotate, 'scale': args.scale, 'shift': args.shift, 'erase': args.erase}
    amp = dev.type == 'cuda'
    b = lambda k: torch.arange(args.batch_size, device=dev) + (k % 4) * args.batch_size
    for k in range(2):
        train_step(model, opt, batch_inputs(x_all, b(k), args, aug, gen), target, args, amp, gen, k)
    _sync(dev)
    t, c = time.time(), time.process_time()
    for k in range(steps):
        batch_inputs(x_all, b(k), args, aug, gen)
    _sync(dev)
    aug_ms, aug_cpu = (time.time() - t) / steps * 1000, (time.process_time() - c) / steps * 1000
    t, c = time.time(), time.process_time()
    for k in range(steps):
        train_step(model, opt, batch_inputs(x_all, b(k), args, aug, gen), target, args, amp, gen, k)
    _sync(dev)
    step_ms, step_cpu = (time.time() - t) / steps * 1000, (time.process_time() - c) / steps * 1000
    what = f'video recipe (p {args.video_p})' if args.video_p > 0 else 'still recipe'
    # On a shared CPU the wall clock counts other work too: the process's CPU time says what the step costs.
    print(f'bench-train {_name(dev)} torch {torch.__version__}: {what}, batch {args.batch_size}: {step_ms:.1f} ms per step '
          f'({args.batch_size / step_ms * 1000:,.0f} faces/s), of which augmentation {aug_ms:.1f} ms; '
          f'CPU time of this process {step_cpu:.1f} ms per step, augmentation {aug_cpu:.1f} ms', flush=True)

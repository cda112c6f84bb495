"""emostream's `best` network in PyTorch (packages/model/src/architecture.ts, layer for layer) and
its weights in tfjs's names and layout: read from a tfjs model directory (`--init models/best`),
written as `<run>.bin` + `<run>.json` for import-weights.ts."""
import json, os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FILTERS = (32, 64, 128, 256)


class TfjsModelError(Exception):
    """A model directory that is not an emostream `best` model."""


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
                raise TfjsModelError(f"{model_dir}: weight {w['name']} is {w['dtype']}, expected float32")
            n = int(np.prod(w['shape'])) if w['shape'] else 1
            named[w['name']] = np.frombuffer(blob, np.float32, n, off).reshape(w['shape'])
            off += 4 * n
    want = dict(tfjs_weights(model))
    missing = sorted(set(want) - set(named))
    if missing:
        raise TfjsModelError(f'{model_dir} is not an emostream `best` model: it lacks {", ".join(missing[:4])}')
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

"""Reads the data file jobs/retrain/torch/export-data.ts writes (numpy and Pillow only, no torch):
FER-2013 Training and PublicTest before the model's equalisation, FER+ vote distributions of the
training rows, and the checks that keep the split discipline on the GPU machine too: the
training set holds Training files alone, the validation set PublicTest files alone, and no
PrivateTest file is ever read.

  python3 jobs/retrain/torch/emodata.py .gpu/fer2013.bin.xz    # prints what the file holds, as JSON
"""
import io, json, lzma, os, struct, sys, zlib

import numpy as np

SIDE = 48
PIXELS = SIDE * SIDE
CLASSES = 7
ROLE_SPLITS = {'train': 'Training', 'val': 'PublicTest'}


class DataFileError(Exception):
    """The data file is not what train.py needs; the message says what to do."""


def split_of(file_id):
    """datasets.ts ferSplitOf: the FER-2013 split named by a file's name prefix, or None."""
    prefix = os.path.basename(file_id).split('_')[0]
    return prefix if prefix in ('Training', 'PublicTest', 'PrivateTest') else None


def equalize(images):
    """packages/model's equalizeHist on every [48,48] image, bit for bit (float64 like JS, round half up)."""
    n, total = len(images), PIXELS
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
    """Inverse of torch-bridge.ts medResiduals: rebuilds the pixels in raster order, all images at once."""
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


def decode_files(blob, lengths, name):
    """The image files of a `files` set, decoded to 48x48 gray with Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise DataFileError(f'{name}: its faces are image files and Pillow is missing: install pillow, or export with --coding med-residual')
    out = np.empty((len(lengths), SIDE, SIDE), np.uint8)
    off = 0
    for i, n in enumerate(lengths):
        img = Image.open(io.BytesIO(blob[off:off + n]))
        off += n
        if img.size != (SIDE, SIDE):
            raise DataFileError(f'{name}: face {i} is {img.size[0]}x{img.size[1]}, not 48x48: export with --coding med-residual')
        out[i] = np.asarray(img.convert('L'), np.uint8)
    return out


def _read_v1(raw, path):
    """Format 1 (EMOFER1: med-residual pixels and labels), kept readable for older exports."""
    hl = struct.unpack('<I', raw[8:12])[0]
    head = json.loads(raw[12:12 + hl])
    off, sets = 12 + hl, {}
    for s in head['sets']:
        n = s['n']
        res = np.frombuffer(raw, np.uint8, n * PIXELS, off).reshape(n, SIDE, SIDE)
        off += n * PIXELS
        labels = np.frombuffer(raw, np.uint8, n, off).astype(np.int64)
        off += n
        images = undo_med(res) if head.get('coding') == 'med-residual' else res.copy()
        sets[s['name']] = {'images': images, 'labels': labels, 'equalized': head.get('equalized', True), 'ids': None, 'soft': None, 'flags': None}
    return sets, head


def load(path):
    """The sets of a data file: {name: {images uint8 [n,48,48], labels int64 [n], equalized, ids, soft, flags}}, and its header.
    Raises DataFileError when a set breaks the split discipline or its faces do not decode as they did when exported."""
    raw = lzma.open(path).read() if path.endswith('.xz') else open(path, 'rb').read()
    if raw[:8] == b'EMOFER1\n':
        return _read_v1(raw, path)
    if raw[:8] != b'EMOFER2\n':
        raise DataFileError(f'{path} is not a file written by jobs/retrain/torch/export-data.ts: export it again')
    hl = struct.unpack('<I', raw[8:12])[0]
    head = json.loads(raw[12:12 + hl])
    off, sets = 12 + hl, {}
    for s in head['sets']:
        name, n = s['name'], s['n']
        if ROLE_SPLITS.get(s.get('role')) != name:
            raise DataFileError(f'{path}: set {name} has role {s.get("role")}: the torch path trains on Training and chooses on PublicTest only')
        blocks = {}
        for block, nbytes in s['blocks']:
            blocks[block] = raw[off:off + nbytes]
            off += nbytes
        ids = blocks['ids'].decode().split('\n') if n else []
        bad = [i for i in ids if split_of(i) != name]
        if len(ids) != n or bad:
            raise DataFileError(f'{path}: set {name} holds {len(bad)} files of another split, e.g. {bad[0] if bad else "?"}: '
                                f'{name} alone may be there (PrivateTest never): export it again')
        labels = np.frombuffer(blocks['labels'], np.uint8).astype(np.int64)
        if s['coding'] == 'files':
            lengths = np.frombuffer(blocks['fileLengths'], '<u4')
            images = decode_files(blocks['images'], lengths, f'{path} ({name})')
        elif s['coding'] == 'med-residual':
            images = undo_med(np.frombuffer(blocks['images'], np.uint8).reshape(n, SIDE, SIDE))
        else:
            raise DataFileError(f'{path}: set {name} has coding {s["coding"]}, which this train.py does not know: update the repository')
        crc = np.frombuffer(blocks['crc32'], '<u4')
        wrong = [i for i in range(n) if zlib.crc32(images[i].tobytes()) != int(crc[i])]
        if wrong:
            raise DataFileError(f'{path}: {len(wrong)} of {n} {name} faces decode here otherwise than through the model\'s decoder '
                                f'(e.g. {ids[wrong[0]]}): export with --coding med-residual')
        soft = np.frombuffer(blocks['ferplusSoft'], '<f4').reshape(n, CLASSES).copy() if 'ferplusSoft' in blocks else None
        flags = np.frombuffer(blocks['ferplusFlags'], np.uint8).copy() if 'ferplusFlags' in blocks else None
        sets[name] = {'images': images, 'labels': labels, 'equalized': s['equalized'], 'ids': ids, 'soft': soft, 'flags': flags}
    if off != len(raw):
        raise DataFileError(f'{path} has {len(raw)} bytes, its header lists {off}: copy it again')
    return sets, head


def ferplus_targets(labels, soft, flags, weight):
    """ferplus.ts withFerPlusTargets: which rows stay (those whose FER+ majority is "not a face" go
    when weight > 0) and their targets (1 - weight)·one-hot(FER-2013 label) + weight·FER+ votes
    (the one-hot alone where FER+ has no distribution: the export carries the one-hot there)."""
    if not 0 <= weight <= 1:
        raise ValueError(f'the FER+ weight must be in [0, 1], got {weight}')
    onehot = np.eye(CLASSES, dtype=np.float32)[labels]
    if weight == 0 or soft is None:
        return np.ones(len(labels), bool), onehot
    keep = (flags & 2) == 0
    return keep, ((1 - weight) * onehot + weight * soft)[keep].astype(np.float32)


def summary(sets, head):
    """What a data file holds, as train.py will use it."""
    out = {'format': head.get('format', 1), 'source': head.get('source'), 'sets': {}}
    for name, s in sets.items():
        row = {'n': len(s['labels']), 'classCounts': np.bincount(s['labels'], minlength=CLASSES).tolist(), 'equalized': s['equalized'],
               'crc32': [zlib.crc32(img.tobytes()) for img in s['images'][:3]]}
        if s['ids'] is not None:
            row['splits'] = sorted({split_of(i) or 'none' for i in s['ids']})
            row['firstIds'] = s['ids'][:3]
        if s['flags'] is not None:
            row['ferplus'] = {'withVotes': int((s['flags'] & 1).sum()), 'notFace': int((s['flags'] >> 1 & 1).sum())}
            keep, t = ferplus_targets(s['labels'], s['soft'], s['flags'], 0.5)
            row['ferplus']['firstTargetsAt0.5'] = np.round(t[:3], 6).tolist()
            row['ferplus']['keptAt0.5'] = int(keep.sum())
        out['sets'][name] = row
    return out


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: emodata.py <data file written by export-data.ts>')
    try:
        print(json.dumps(summary(*load(sys.argv[1]))))
    except DataFileError as e:
        sys.exit(f'error: {e}')

"""CPU tests of the PyTorch path (film.py, emodata.py, net.py, train.py). They need torch, numpy and
Pillow, which the project's own install does not bring (README.md beside this file):

  python3 jobs/retrain/torch/test_torch_path.py

parity-fixture.json is made from video.ts and augment.ts by jobs/retrain/src/torch-parity.test.ts.
"""
import base64, io, json, math, os, struct, sys, tempfile, unittest, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np
import torch

import emodata, film, steps, train
from net import Best, load_tfjs, save, tfjs_weights

FIXTURE = json.load(open(os.path.join(HERE, 'parity-fixture.json')))


def unb64(s):
    return np.frombuffer(base64.b64decode(s), np.uint8).reshape(48, 48)


FACE = unb64(FIXTURE['face'])


def figures(img, ref):
    """torch-parity.test.ts figures(): mean, spread, mean |horizontal step|, mean |change| (per image)."""
    img, ref = img.double(), ref.double()
    mean = img.mean((1, 2))
    sd = (img.pow(2).mean((1, 2)) - mean ** 2).clamp(min=0).sqrt()
    grad = (img[:, :, 1:] - img[:, :, :-1]).abs().mean((1, 2))
    change = (img - ref).abs().mean((1, 2))
    return {'mean': mean, 'sd': sd, 'gradient': grad, 'change': change}


def params_from_u(u, cfg):
    """filmFace's draws when every draw is `u` (torch-parity.test.ts's deterministic cases)."""
    lo, hi = cfg['facePx']
    t = lambda v: torch.tensor([float(v)])
    between = lambda r: r[0] + u * (r[1] - r[0])
    return {'face_px': t(math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))), 'gain': t(between(cfg['gain'])),
            'gamma': t(between(cfg['gamma'])), 'light': t((u * 2 - 1) * cfg['sideLight']), 'angle': t(u * 2 * math.pi),
            'blur': t(between(cfg['blurPx']) if u >= cfg['noBlurP'] else 0), 'noise': t(between(cfg['noise'])),
            'quality': t(between(cfg['jpegQuality']) if u < cfg['jpegP'] else 0)}


class Close:
    def assert_pixels(self, got, want, what):
        d = np.abs(np.asarray(got, np.float64).round() - want.astype(np.float64))
        self.assertLessEqual(d.mean(), 0.25, f'{what}: mean |difference| {d.mean():.3f} levels')
        self.assertGreaterEqual((d <= 1).mean(), 0.99, f'{what}: {(d > 1).sum()} pixels more than a level apart (max {d.max():.0f})')


class Settings(unittest.TestCase):
    def test_film_settings_are_video_ts_defaults(self):
        self.assertEqual(film.FILM_DEFAULT, FIXTURE['videoConfig']['video'])

    def test_video_recipe_is_configs_ts_video_config(self):
        c, r = FIXTURE['videoConfig'], train.RECIPES['video']
        self.assertEqual((r['epochs'], r['lr'], r['batch_size'], r['warmup'], r['label_smoothing']),
                         (c['epochs'], c['learningRate'], c['batchSize'], c['warmupEpochs'], c['labelSmoothing']))
        self.assertEqual((r['rotate'], r['scale'], r['shift'], r['erase']),
                         (c['augment']['rotateDeg'], c['augment']['scale'], c['augment']['shiftPx'], c['augment']['eraseP']))
        self.assertEqual((r['min_class_share'], r['ferplus_weight'], r['video_p'], r['wd']),
                         (c['minClassShare'], c['ferPlusWeight'], c['video']['p'], c.get('weightDecay', 0)))
        self.assertEqual(c['augment']['flipH'], 0.5)
        self.assertEqual(c['seed'], train.parse_args(['--bench']).seed)


class Steps(unittest.TestCase, Close):
    def padded(self):
        x = torch.zeros(1, film.PAD, film.PAD)
        x[0, :48, :48] = torch.from_numpy(FACE).float() + 0.37   # as torch-parity.test.ts's single steps
        return x

    def test_jpeg_matches_video_ts(self):
        for q in (50, 90):
            got = film.jpeg_luma(self.padded(), torch.tensor([48.0]), torch.tensor([float(q)]))[0, :48, :48]
            self.assert_pixels(got.numpy(), unb64(FIXTURE['steps'][f'jpeg48q{q}']), f'JPEG q{q}')

    def test_resampling_matches_video_ts(self):
        x = torch.from_numpy(FACE).float()[None] + 0.37
        for side in (20, 77):
            s, full = torch.tensor([float(side)]), torch.tensor([48.0])
            down = film.resample_matrix(full, s, film.PAD, 48)
            up = film.resample_matrix(s, full, 48, film.PAD)
            got = up @ (down @ x @ down.transpose(1, 2)) @ up.transpose(1, 2)
            self.assert_pixels(got[0].numpy(), unb64(FIXTURE['steps'][f'resample{side}']), f'resampling to {side}')

    def test_blur_matches_video_ts(self):
        g = film.blur_matrix(torch.tensor([1.2]), torch.tensor([48.0]), film.PAD)
        got = (g @ self.padded() @ g.transpose(1, 2))[0, :48, :48]
        self.assert_pixels(got.numpy(), unb64(FIXTURE['steps']['blur12']), 'blur σ 1.2')

    def test_filming_matches_video_ts_draw_for_draw(self):
        for case in FIXTURE['deterministic']:
            prm = params_from_u(case['u'], case['config'])
            got = film.film(torch.from_numpy(FACE).float()[None], prm, torch.Generator())[0]
            self.assert_pixels(got.numpy(), unb64(case['out']), f"filming with every draw {case['u']} (face {case['config']['facePx']})")

    def test_equalisation_is_equalize_hist_bit_for_bit(self):
        rng = np.random.default_rng(3)
        imgs = np.concatenate([rng.integers(0, 256, (5, 48, 48)), rng.integers(90, 110, (3, 48, 48)), np.full((1, 48, 48), 77), FACE[None]]).astype(np.uint8)
        self.assertTrue(np.array_equal(film.equalize(torch.from_numpy(imgs)).numpy().astype(np.uint8), emodata.equalize(imgs)))


class Statistics(unittest.TestCase):
    """The random filming against video.ts's: each figure's mean within 4 standard errors."""

    def compare(self, got, want, what):
        for f, w in want.items():
            g = got[f]
            se = math.sqrt(w['sd'] ** 2 / w['n'] + g.var().item() / len(g))
            self.assertLess(abs(g.mean().item() - w['mean']), 4 * se + 1e-3,
                            f"{what} {f}: {g.mean().item():.3f} here, {w['mean']:.3f} in video.ts (4 s.e. = {4 * se:.3f})")

    def test_film_face_statistics(self):
        n, gen = 4000, torch.Generator().manual_seed(11)
        src = torch.from_numpy(FACE).float()[None].expand(n, 48, 48)
        out = film.film(src.clone(), film.draw_film(n, film.FILM_DEFAULT, gen, torch.device('cpu')), gen)
        self.compare(figures(out, src), {k: v for k, v in FIXTURE['statistics']['filmFace'].items()}, 'filmFace')

    def test_augment_video_statistics(self):
        n, gen = 4000, torch.Generator().manual_seed(12)
        r = train.RECIPES['video']
        aug = {'rotate': r['rotate'], 'scale': r['scale'], 'shift': r['shift'], 'erase': r['erase']}
        raw = torch.from_numpy(FACE)[None].expand(n, 48, 48)
        out = film.augment_video(raw, aug, dict(film.FILM_DEFAULT, p=r['video_p']), gen)[:, 0] * 255
        eq = torch.from_numpy(emodata.equalize(FACE[None])).float().expand(n, 48, 48)
        self.compare(figures(out, eq), FIXTURE['statistics']['augmentVideo'], 'augmentInto (video)')


def data_file(sets, path):
    """An EMOFER2 file as export-data.ts writes it (files coding: PNGs), for {name: (role, ids, images, labels, soft, flags)}."""
    from PIL import Image
    head, body = {'format': 2, 'labels': [], 'source': {'fer2013': 'test'}, 'sets': []}, []
    for name, (role, ids, images, labels, soft, flags) in sets.items():
        files = []
        for img in images:
            b = io.BytesIO()
            Image.fromarray(img).save(b, 'PNG')
            files.append(b.getvalue())
        blocks = [('images', b''.join(files)), ('fileLengths', np.array([len(f) for f in files], '<u4').tobytes()),
                  ('crc32', np.array([zlib.crc32(i.tobytes()) for i in images], '<u4').tobytes()),
                  ('labels', np.asarray(labels, np.uint8).tobytes()), ('ids', '\n'.join(ids).encode())]
        if soft is not None:
            blocks += [('ferplusSoft', np.asarray(soft, '<f4').tobytes()), ('ferplusFlags', np.asarray(flags, np.uint8).tobytes())]
        head['sets'].append({'name': name, 'role': role, 'n': len(ids), 'coding': 'files', 'equalized': False,
                             'blocks': [[k, len(v)] for k, v in blocks]})
        body += [v for _, v in blocks]
    h = json.dumps(head).encode()
    open(path, 'wb').write(b'EMOFER2\n' + struct.pack('<I', len(h)) + h + b''.join(body))


class Data(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        rng = np.random.default_rng(1)
        self.faces = lambda n: np.clip(FACE[None].astype(int) + rng.integers(-30, 30, (n, 48, 48)), 0, 255).astype(np.uint8)

    def test_ferplus_targets_mix_as_with_ferplus_targets(self):
        # Labelled sad, FER+ 6 neutral 4 sad → half and half: sad 0.5 + 0.2, neutral 0.3; "not a face" dropped; no votes: one-hot.
        soft = np.zeros((3, 7), np.float32)
        soft[0, 4], soft[0, 5] = 0.6, 0.4
        soft[1, 0], soft[2, 3] = 1, 1
        keep, t = emodata.ferplus_targets(np.array([5, 0, 3]), soft, np.array([1, 2, 0], np.uint8), 0.5)
        self.assertEqual(keep.tolist(), [True, False, True])
        self.assertTrue(np.allclose(t[0], [0, 0, 0, 0, 0.3, 0.7, 0]))
        self.assertTrue(np.allclose(t[1], np.eye(7)[3]))
        keep0, t0 = emodata.ferplus_targets(np.array([5, 0, 3]), soft, np.array([1, 2, 0], np.uint8), 0)
        self.assertEqual(keep0.tolist(), [True] * 3)

    def test_a_private_test_file_or_a_bad_decode_stops_the_read(self):
        path = os.path.join(self.dir, 'bad.bin')
        data_file({'Training': ('train', ['train/sad/Training_1.png', 'train/sad/PrivateTest_2.png'], self.faces(2), [5, 5], None, None),
                   'PublicTest': ('val', ['test/sad/PublicTest_3.png'], self.faces(1), [5], None, None)}, path)
        with self.assertRaisesRegex(emodata.DataFileError, r'1 files of another split, e\.g\. train/sad/PrivateTest_2\.png'):
            emodata.load(path)
        data_file({'Training': ('train', ['train/sad/Training_1.png'], self.faces(1), [5], None, None),
                   'PublicTest': ('train', ['test/sad/PublicTest_3.png'], self.faces(1), [5], None, None)}, path)
        with self.assertRaisesRegex(emodata.DataFileError, 'role train'):
            emodata.load(path)
        data_file({'Training': ('train', ['train/sad/Training_1.png'], self.faces(1), [5], None, None),
                   'PublicTest': ('val', ['test/sad/PublicTest_3.png'], self.faces(1), [5], None, None)}, path)
        raw = bytearray(open(path, 'rb').read())
        hl = struct.unpack('<I', raw[8:12])[0]
        blocks = json.loads(raw[12:12 + hl])['sets'][0]['blocks']
        at = 12 + hl + sum(n for name, n in blocks[:[b[0] for b in blocks].index('crc32')])
        raw[at] ^= 0xFF   # Training's first CRC-32: its face no longer decodes to what was exported
        open(path, 'wb').write(bytes(raw))
        with self.assertRaisesRegex(emodata.DataFileError, 'decode here otherwise'):
            emodata.load(path)

    def test_video_recipe_end_to_end_on_cpu(self):
        path, out = os.path.join(self.dir, 'd.bin'), os.path.join(self.dir, 'out')
        n = 40
        labels = np.arange(n) % 7
        soft = np.eye(7, dtype=np.float32)[(labels + 1) % 7]
        flags = np.where(np.arange(n) == 3, 3, 1).astype(np.uint8)
        data_file({'Training': ('train', [f'train/x/Training_{i}.png' for i in range(n)], self.faces(n), labels, soft, flags),
                   'PublicTest': ('val', [f'test/x/PublicTest_{i}.png' for i in range(14)], self.faces(14), np.arange(14) % 7, None, None)}, path)
        with self.assertRaisesRegex(SystemExit, 'export with --ferplus'):
            data_file({'Training': ('train', ['train/x/Training_1.png'], self.faces(1), [1], None, None),
                       'PublicTest': ('val', ['test/x/PublicTest_1.png'], self.faces(1), [1], None, None)}, path + '2')
            train.main(['--data', path + '2', '--out', out, '--name', 'x', '--recipe', 'video', '--device', 'cpu'])
        train.main(['--data', path, '--out', out, '--name', 'v', '--recipe', 'video', '--epochs', '2', '--batch-size', '8', '--device', 'cpu'])
        meta = json.load(open(os.path.join(out, 'v.json')))
        self.assertEqual((meta['recipe'], meta['epochsDone'], meta['trainImages'], meta['ferplus']['droppedNotFace']), ('video', 2, n - 1, 1))
        self.assertIn('valFilmedAccuracy', meta['history'][0])
        self.assertEqual(meta['video']['p'], 0.7)
        self.assertTrue(meta['selection'].startswith('PublicTest, mean of still and filmed'))
        self.assertEqual(os.path.getsize(os.path.join(out, 'v.bin')), 4 * sum(int(np.prod(w['shape'])) for w in meta['weights']))


class Weights(unittest.TestCase):
    def test_a_tfjs_model_directory_loads_into_the_same_network(self):
        torch.manual_seed(0)
        a, b = Best().eval(), Best().eval()
        with torch.no_grad():
            for m in a.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
        d = tempfile.mkdtemp()
        ws = tfjs_weights(a)
        open(os.path.join(d, 'group1-shard1of1.bin'), 'wb').write(b''.join(w.astype('<f4').tobytes() for _, w in ws))
        json.dump({'weightsManifest': [{'paths': ['group1-shard1of1.bin'], 'weights': [{'name': n, 'shape': list(w.shape), 'dtype': 'float32'} for n, w in ws]}]},
                  open(os.path.join(d, 'model.json'), 'w'))
        x = torch.rand(3, 1, 48, 48)
        self.assertFalse(torch.allclose(a(x), b(x)))
        load_tfjs(b, d)
        self.assertTrue(torch.allclose(a(x), b(x), atol=1e-5))


if __name__ == '__main__':
    torch.set_num_threads(1)
    unittest.main(verbosity=2)

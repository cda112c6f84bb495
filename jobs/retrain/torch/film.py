"""Training augmentation on the GPU, batched: the affine changes and random erasing of augment.ts,
and the `video` recipe's filming of faces (jobs/retrain/src/video.ts), step for step:
- face size: the face is S px high in the frame (log-uniform); it is resampled to its own
  resolution (side round(S), 8..96 px: area average down, bilinear up) and back to 48 at the end;
- lighting (at 48x48, before the resampling): gain, gamma and a side-light gradient;
- blur σ and noise σ, given in frame pixels and scaled to the face's resolution;
- JPEG of the luma at the face's resolution: 8x8 DCT, the standard table scaled to the quality
  (libjpeg's rule), edge blocks replicating the last row and column;
- the detector's box: a log-normal zoom and normal shifts, folded into the affine map;
then rounding and the model's equalisation (equalizeHist, bit for bit), then random erasing.
Every per-face size is handled with batched matrices (resampling, blur) padded to 96 px, so a
batch of faces of different sizes is a handful of batched matrix products.
The random draws are torch's, not mulberry32's: the faces are filmed the same way, not with the
same numbers (test_torch_path.py checks the statistics against a fixture made by video.ts).
"""
import math

import torch
import torch.nn.functional as F

SIDE = 48
PAD = 96

# video.ts DEFAULT_VIDEO_AUGMENT, in its own names (test_torch_path.py compares them with the fixture video.ts writes).
FILM_DEFAULT = {
    'p': 0.7, 'facePx': [24, 200], 'gain': [0.55, 1.35], 'gamma': [0.7, 1.5], 'sideLight': 0.3,
    'blurPx': [0.4, 1.6], 'noBlurP': 0.3, 'noise': [0, 8], 'jpegQuality': [35, 90], 'jpegP': 0.8,
    'boxScaleSigma': 0.12, 'boxShiftSigma': 0.06,
}

# JPEG's standard luminance quantisation table (ITU T.81, Annex K), as video.ts LUMA_Q.
LUMA_Q = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]


def js_round(x):
    """JavaScript's Math.round: halves go up."""
    return torch.floor(x + 0.5)


def _uniform(n, gen, dev):
    return torch.rand(n, device=dev, generator=gen, dtype=torch.float32)


def _between(r, u):
    return r[0] + u * (r[1] - r[0])


def draw_film(n, cfg, gen, dev):
    """filmFace's draws for n faces: face height (frame px), gain, gamma, side light and its angle,
    blur σ (frame px, 0: none), noise σ (8-bit levels at frame resolution), JPEG quality (0: none)."""
    u = lambda: _uniform(n, gen, dev)
    lo, hi = cfg['facePx']
    face_px = torch.exp(math.log(lo) + u() * (math.log(hi) - math.log(lo)))
    gain, gamma = _between(cfg['gain'], u()), _between(cfg['gamma'], u())
    light, angle = (u() * 2 - 1) * cfg['sideLight'], u() * 2 * math.pi
    blur = torch.where(u() >= cfg['noBlurP'], _between(cfg['blurPx'], u()), torch.zeros(n, device=dev))
    noise = _between(cfg['noise'], u())
    quality = torch.where(u() < cfg['jpegP'], _between(cfg['jpegQuality'], u()), torch.zeros(n, device=dev))
    return {'face_px': face_px, 'gain': gain, 'gamma': gamma, 'light': light, 'angle': angle, 'blur': blur, 'noise': noise, 'quality': quality}


def draw_box(n, cfg, gen, dev):
    """video.ts drawBoxJitter: zoom (>1 zooms in) and the box centre's offset in pixels of the 48x48 face."""
    g = lambda: torch.randn(n, device=dev, generator=gen)
    return torch.exp(g() * cfg['boxScaleSigma']), g() * cfg['boxShiftSigma'] * SIDE, g() * cfg['boxShiftSigma'] * SIDE


def resample_matrix(src, dst, rows, cols):
    """[n, rows, cols]: M @ v resamples a length-src[i] signal (first src[i] of cols entries) to
    length dst[i] (first dst[i] of rows entries; the rest 0) as video.ts resample(): area average
    when shrinking, bilinear (pixel centres aligned, edges clamped) when growing or equal."""
    dev = src.device
    src, dst = src.double()[:, None, None], dst.double()[:, None, None]
    y = torch.arange(rows, device=dev, dtype=torch.float64)[None, :, None]
    s = torch.arange(cols, device=dev, dtype=torch.float64)[None, None, :]
    k = src / dst
    y0, y1 = y * k, (y + 1) * k
    area = (torch.minimum(y1, s + 1) - torch.maximum(y0, s)).clamp(min=0) * (s < src)
    area = area / area.sum(-1, keepdim=True).clamp(min=1e-12)
    sy = ((y + 0.5) * k - 0.5).clamp(min=0)
    sy = torch.minimum(sy, src - 1)
    f0 = torch.floor(sy)
    f1 = torch.minimum(f0 + 1, src - 1)
    w = sy - f0
    bilinear = (s == f0) * (1 - w) + (s == f1) * w
    m = torch.where(dst < src, area, bilinear) * (y < dst)
    return m.float()


def blur_matrix(sigma, side, size):
    """[n, size, size]: video.ts gaussianBlur along one axis (radius ceil(3σ), edges replicated inside
    the first side[i] entries); identity where σ <= 0.05 (no blur)."""
    dev, n = sigma.device, len(sigma)
    on = sigma > 0.05
    sig = torch.where(on, sigma, torch.ones_like(sigma)).double()
    r = torch.ceil(sig * 3)
    reach = int(r.max().item()) if n else 0
    t = torch.arange(-reach, reach + 1, device=dev, dtype=torch.float64)
    w = torch.exp(-t[None] ** 2 / (2 * sig[:, None] ** 2)) * (t[None].abs() <= r[:, None])
    w = w / w.sum(1, keepdim=True)
    y = torch.arange(size, device=dev)
    idx = torch.minimum((y[None, :, None] + t.long()[None, None, :]).clamp(min=0), (side.long() - 1)[:, None, None])
    g = torch.zeros(n, size, size, device=dev, dtype=torch.float64)
    g.scatter_add_(2, idx.expand(n, size, len(t)), w[:, None, :].expand(n, size, len(t)))
    eye = torch.eye(size, device=dev, dtype=torch.float64).expand(n, size, size)
    return torch.where(on[:, None, None], g, eye).float()


def _dct_matrix(dev):
    """D[u, x] = α(u)/2·cos((2x+1)uπ/16): coefficients = D·block·Dᵀ, as video.ts jpegLuma."""
    u = torch.arange(8, device=dev, dtype=torch.float64)[:, None]
    x = torch.arange(8, device=dev, dtype=torch.float64)[None, :]
    alpha = torch.where(u == 0, torch.full_like(u, math.sqrt(0.5)), torch.ones_like(u))
    return alpha / 2 * torch.cos((2 * x + 1) * u * math.pi / 16)


def jpeg_luma(img, side, quality):
    """video.ts jpegLuma on [n, PAD, PAD] images whose first side[i] rows and columns hold the face:
    8x8 DCT, quantised with the luminance table at `quality` (1..100), transformed back, clamped.
    Faces with quality 0 are returned as they were."""
    n, dev = img.shape[0], img.device
    q = js_round(quality.double()).clamp(1, 100)
    scale = torch.where(q < 50, 5000 / q, 200 - 2 * q)
    table = torch.floor((torch.tensor(LUMA_Q, device=dev, dtype=torch.float64)[None] * scale[:, None] + 50) / 100).clamp(1, 255)
    table = table.view(n, 1, 1, 8, 8)
    idx = torch.minimum(torch.arange(PAD, device=dev)[None], (side.long() - 1)[:, None])
    x = img.double().gather(1, idx[:, :, None].expand(n, PAD, PAD)).gather(2, idx[:, None, :].expand(n, PAD, PAD))
    blocks = (x - 128).view(n, PAD // 8, 8, PAD // 8, 8).permute(0, 1, 3, 2, 4)
    d = _dct_matrix(dev)
    coef = d @ blocks @ d.T
    coef = js_round(coef / table) * table
    back = (d.T @ coef @ d + 128).clamp(0, 255).permute(0, 1, 3, 2, 4).reshape(n, PAD, PAD)
    return torch.where((quality > 0)[:, None, None], back.float(), img)


def film(x, prm, gen):
    """video.ts filmFace on [n,48,48] float faces in 0..255 (not yet equalised), with the draws of draw_film."""
    n, dev = x.shape[0], x.device
    ar = torch.arange(SIDE, device=dev, dtype=torch.float32) - (SIDE - 1) / 2
    lx, ly = torch.cos(prm['angle'])[:, None, None], torch.sin(prm['angle'])[:, None, None]
    g = 1 + prm['light'][:, None, None] * ((ar[None, None, :] * lx + ar[None, :, None] * ly) / SIDE)
    x = 255 * (x / 255 * prm['gain'][:, None, None] * g).clamp(0, 1).pow(prm['gamma'][:, None, None]).clamp(max=1)
    side = js_round(prm['face_px']).clamp(8, 96)
    k = side / prm['face_px']
    full = torch.full_like(side, SIDE)
    down = resample_matrix(full, side, PAD, SIDE)
    work = down @ x @ down.transpose(1, 2)
    blur = blur_matrix(prm['blur'] * k, side, PAD)
    work = blur @ work @ blur.transpose(1, 2)
    sigma = prm['noise'] * k.clamp(max=1)
    work = (work + torch.randn(work.shape, device=dev, generator=gen) * sigma[:, None, None]).clamp(0, 255)
    work = jpeg_luma(work, side, prm['quality'])
    up = resample_matrix(side, full, SIDE, PAD)
    return up @ work @ up.transpose(1, 2)


def equalize(img):
    """packages/model's equalizeHist on [n,48,48] integer-valued faces (0..255), bit for bit."""
    n = img.shape[0]
    flat = img.reshape(n, -1).long()
    total = flat.shape[1]
    hist = torch.zeros(n, 256, device=img.device, dtype=torch.float64).scatter_add_(1, flat, torch.ones_like(flat, dtype=torch.float64))
    cdf = hist.cumsum(1)
    cdf_min = hist.gather(1, (hist > 0).double().argmax(1, keepdim=True))
    denom = (total - cdf_min).clamp(min=1)
    lut = torch.floor((cdf - cdf_min) / denom * 255 + 0.5).clamp(0, 255)
    out = lut.gather(1, flat).float()
    same = (cdf_min[:, 0] == total)[:, None]
    return torch.where(same, flat.float(), out).view(img.shape)


def affine(x, a, gen, zoom=None, dx=None, dy=None):
    """Random mirror, rotation, zoom and shift (bilinear, edges repeated) of [n,1,48,48] faces, as
    augment.ts; `zoom`, `dx`, `dy` add a detector box (zoom in, box centre offset in px)."""
    n, dev = x.shape[0], x.device
    u = lambda: torch.rand(n, device=dev, generator=gen) * 2 - 1
    ang = u() * a['rotate'] * math.pi / 180
    s = 1 + u() * a['scale']
    tx, ty = u() * a['shift'], u() * a['shift']
    if zoom is not None:
        s = s * zoom
    flip = torch.where(torch.rand(n, device=dev, generator=gen) < a.get('flip', 0.5), -1.0, 1.0)
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    if zoom is not None:
        # grid_sample reads the source at A·p + t, which shows the content moved by −A⁻¹t: with
        # t = A·d a box whose centre sits d = (dx, dy) off the face's shows the face moved by −d.
        # (The random shift is symmetric: its sign stays the old train.py's.)
        tx, ty = tx + cos * flip * dx + sin * dy, ty - sin * flip * dx + cos * dy
    theta = torch.stack([torch.stack([cos * flip, sin, tx * 2 / SIDE], 1), torch.stack([-sin * flip, cos, ty * 2 / SIDE], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)


def erase(x, p, gen):
    """Random erasing (Zhong et al. 2020) on [n,1,48,48] faces in [0,1]: with probability p a
    rectangle of 2–25% of the face, aspect 1:3..3:1, set to a random gray."""
    if p <= 0:
        return x
    n, dev = x.shape[0], x.device
    area = (0.02 + torch.rand(n, device=dev, generator=gen) * 0.23) * SIDE * SIDE
    ratio = torch.exp((torch.rand(n, device=dev, generator=gen) * 2 - 1) * math.log(3))
    h = (area * ratio).sqrt().clamp(1, SIDE)
    w = (area / ratio).sqrt().clamp(1, SIDE)
    y0 = torch.rand(n, device=dev, generator=gen) * (SIDE - h)
    x0 = torch.rand(n, device=dev, generator=gen) * (SIDE - w)
    ar = torch.arange(SIDE, device=dev, dtype=torch.float32)
    inside = ((ar[None, :, None] >= y0[:, None, None]) & (ar[None, :, None] < (y0 + h)[:, None, None])
              & (ar[None, None, :] >= x0[:, None, None]) & (ar[None, None, :] < (x0 + w)[:, None, None]))
    on = (torch.rand(n, device=dev, generator=gen) < p)[:, None, None] & inside
    fill = torch.rand(n, 1, 1, device=dev, generator=gen).expand(-1, SIDE, SIDE)
    return torch.where(on[:, None], fill[:, None], x)


def augment(x, a, gen):
    """The still-image recipe: [n,1,48,48] faces in [0,1], already equalised → affine, erasing."""
    return erase(affine(x, a, gen), a['erase'], gen)


def augment_video(raw, a, cfg, gen):
    """The `video` recipe (augment.ts augmentInto with `video`): [n,48,48] uint8 faces before
    equalisation → the share cfg['p'] framed by a noisy detector box and filmed, every face
    rounded and equalised, then random erasing; [n,1,48,48] in [0,1]."""
    n, dev = raw.shape[0], raw.device
    filmed = torch.rand(n, device=dev, generator=gen) < cfg['p']
    zoom, dx, dy = draw_box(n, cfg, gen, dev)
    one, zero = torch.ones_like(zoom), torch.zeros_like(zoom)
    zoom, dx, dy = torch.where(filmed, zoom, one), torch.where(filmed, dx, zero), torch.where(filmed, dy, zero)
    x = affine(raw.float().div(255).unsqueeze(1), a, gen, zoom, dx, dy)[:, 0] * 255
    idx = filmed.nonzero()[:, 0]
    if len(idx):
        prm = {k: v[idx] for k, v in draw_film(n, cfg, gen, dev).items()}
        x = x.index_copy(0, idx, film(x[idx], prm, gen))
    x = equalize(js_round(x).clamp(0, 255)) / 255
    return erase(x.unsqueeze(1), a['erase'], gen)


@torch.no_grad()
def filmed_copy(raw, cfg, seed, batch=512):
    """augment.ts filmedCopy: every face framed by a noisy box and filmed once, no other change,
    rounded and equalised; uint8 [n,48,48]. Seeded on the CPU, so the copy is the same on any device."""
    gen = torch.Generator().manual_seed(seed * 7919 + 17)
    out = []
    for i in range(0, len(raw), batch):
        x = torch.as_tensor(raw[i:i + batch]).float()
        n = len(x)
        zoom, dx, dy = draw_box(n, cfg, gen, x.device)
        x = affine(x.div(255).unsqueeze(1), {'rotate': 0, 'scale': 0, 'shift': 0, 'flip': 0}, gen, zoom, dx, dy)[:, 0] * 255
        x = film(x, draw_film(n, cfg, gen, x.device), gen)
        out.append(equalize(js_round(x).clamp(0, 255)).to(torch.uint8))
    return torch.cat(out) if out else torch.zeros(0, SIDE, SIDE, dtype=torch.uint8)

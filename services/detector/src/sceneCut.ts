/**
 * Hard-cut detection on decoded frames: the picture is reduced to an 8x6 grid of mean gray
 * levels, and a frame is a cut when most of the grid changed (the median cell's change, gray
 * levels / 255, is at least `minChange`) and much more than in the camera's recent frames.
 *
 * Why the median cell and not the mean: a cut changes the whole picture, a moving head or hand
 * a few cells a lot. On `short_hamilton_clip.mp4` at 10 fps the mean change of a close-up with
 * a moving head (0.077) is as large as that of a hard cut (0.072–0.100), but its median is not:
 * the three cuts move the median cell by 0.041–0.044, no other frame by more than 0.022. On
 * `woman2.mp4` (no cut) the median never exceeds 0.003. The ratio against recent frames keeps
 * a steady pan or a flickering screen from counting as cuts.
 */

/** Settings of {@link SceneCutDetector}. */
export interface SceneCutOptions {
  /** Least grid change of a cut (the median cell's absolute change, 0..1, see {@link gridChange}). */
  minChange: number;
  /** How many times the mean change of the previous `historyFrames` frames a cut must be. */
  ratio: number;
  /** Frames of recent change the ratio compares against. */
  historyFrames?: number;
}

const GRID_W = 8;
const GRID_H = 6;

/** The 8x6 grid of mean gray levels (0..1) of an RGB frame, sampled on every 4th pixel and row. */
export function frameGrid(rgb: Uint8Array, width: number, height: number): Float32Array {
  const sums = new Float64Array(GRID_W * GRID_H);
  const counts = new Uint32Array(GRID_W * GRID_H);
  for (let y = 0; y < height; y += 4) {
    const gy = Math.min(GRID_H - 1, Math.floor((y * GRID_H) / height));
    for (let x = 0; x < width; x += 4) {
      const i = (y * width + x) * 3;
      const g = gy * GRID_W + Math.min(GRID_W - 1, Math.floor((x * GRID_W) / width));
      sums[g] += rgb[i] + rgb[i + 1] + rgb[i + 2];
      counts[g]++;
    }
  }
  const out = new Float32Array(GRID_W * GRID_H);
  for (let g = 0; g < out.length; g++) out[g] = counts[g] ? sums[g] / counts[g] / 765 : 0;
  return out;
}

/** How much of the picture changed: the median over the grid's cells of their absolute change. */
export function gridChange(a: Float32Array, b: Float32Array): number {
  const d = Array.from(a, (v, i) => Math.abs(v - b[i])).sort((x, y) => x - y);
  return d[Math.floor(d.length / 2)];
}

/** Per-camera cut detection over a camera's frames, in order. */
export class SceneCutDetector {
  private readonly last = new Map<string, { grid: Float32Array; changes: number[] }>();
  constructor(private readonly o: SceneCutOptions) {}

  /** Whether this frame starts a new shot (false for a camera's first frame). */
  isCut(cameraId: string, rgb: Uint8Array, width: number, height: number): boolean {
    const grid = frameGrid(rgb, width, height);
    const prev = this.last.get(cameraId);
    if (!prev) {
      this.last.set(cameraId, { grid, changes: [] });
      return false;
    }
    const change = gridChange(grid, prev.grid);
    const recent = prev.changes.length ? prev.changes.reduce((a, b) => a + b, 0) / prev.changes.length : 0;
    // No baseline yet (the camera's second frame): no cut.
    const cut = prev.changes.length > 0 && change >= this.o.minChange && change >= this.o.ratio * recent;
    prev.grid = grid;
    // The cut's own change stays in the history: the frames right after it are not cuts, and a
    // picture that keeps changing as much (a strobe, a flickering screen) is motion, not cuts.
    prev.changes.push(change);
    if (prev.changes.length > (this.o.historyFrames ?? 5)) prev.changes.shift();
    return cut;
  }

  /** Forgets a camera (its stream ended). */
  forget(cameraId: string): void {
    this.last.delete(cameraId);
  }
}

/** A coarse appearance descriptor of a face crop, for the tracker's optional appearance cost. */

/**
 * Block means of a square gray crop (e.g. the detector's 48x48 crop) on a `grid` x `grid` raster,
 * minus their mean: a small vector that tells two faces apart by their layout of light and dark
 * regions, robust to a global brightness change (cosine similarity ignores scale).
 */
export function cropDescriptor(crop: ArrayLike<number>, size = 48, grid = 6): number[] {
  if (crop.length !== size * size) throw new Error(`cropDescriptor: expected ${size * size} pixels, got ${crop.length}`);
  if (size % grid !== 0) throw new Error(`cropDescriptor: size ${size} is not a multiple of grid ${grid}`);
  const cell = size / grid;
  const out = new Array<number>(grid * grid).fill(0);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) out[Math.floor(y / cell) * grid + Math.floor(x / cell)] += crop[y * size + x];
  }
  const mean = out.reduce((s, v) => s + v, 0) / out.length;
  return out.map((v) => (v - mean) / (cell * cell));
}

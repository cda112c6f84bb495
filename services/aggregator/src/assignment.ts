/** Optimal one-to-one assignment (Hungarian algorithm) for the tracker's cost matrix. */

/**
 * Solves a rectangular assignment problem: minimises the total cost of pairing rows with columns,
 * each used at most once. Entries that are `Infinity` (or >= `forbidden`) are never paired.
 * Returns, per row, the column it is paired with or -1.
 *
 * O(n^3) with potentials (Kuhn-Munkres, Jonker-Volgenant style); a camera has tens of faces at most.
 */
export function solveAssignment(cost: readonly (readonly number[])[], forbidden = 1e9): number[] {
  const rows = cost.length;
  const cols = rows === 0 ? 0 : cost[0].length;
  const result = new Array<number>(rows).fill(-1);
  if (rows === 0 || cols === 0) return result;
  // Square matrix padded with "forbidden" cells; forbidden pairs are dropped afterwards.
  const n = Math.max(rows, cols);
  const big = forbidden;
  const a = (i: number, j: number): number => {
    if (i >= rows || j >= cols) return big;
    const c = cost[i][j];
    return Number.isFinite(c) && c < big ? c : big;
  };
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1); // p[j]: row matched to column j (1-based), 0 = none
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; j1 = j; }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) { u[p[j]] += delta; v[j] -= delta; } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  for (let j = 1; j <= n; j++) {
    const i = p[j] - 1;
    if (i >= 0 && i < rows && j - 1 < cols && a(i, j - 1) < big) result[i] = j - 1;
  }
  return result;
}

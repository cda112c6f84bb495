/** Subject-independent k-fold splits: no subject (group) is ever on both sides of a fold. */
import { rng } from './augment.js';

/**
 * Assigns each group to one of `k` folds, balancing the number of items per fold (largest
 * groups first, each to the currently smallest fold; ties broken by a seeded shuffle).
 * Returns, per fold, the indices of its test items.
 */
export function groupKFold(groups: readonly string[], k: number, seed = 1): number[][] {
  const byGroup = new Map<string, number[]>();
  groups.forEach((g, i) => { const l = byGroup.get(g); if (l) l.push(i); else byGroup.set(g, [i]); });
  if (byGroup.size < k) throw new Error(`cannot make ${k} subject-independent folds from ${byGroup.size} subjects`);
  const rand = rng(seed);
  const entries = [...byGroup.entries()];
  for (let i = entries.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [entries[i], entries[j]] = [entries[j], entries[i]]; }
  entries.sort((a, b) => b[1].length - a[1].length);
  const folds: number[][] = Array.from({ length: k }, () => []);
  for (const [, idx] of entries) {
    let smallest = 0;
    for (let f = 1; f < k; f++) if (folds[f].length < folds[smallest].length) smallest = f;
    folds[smallest].push(...idx);
  }
  return folds.map((f) => f.sort((a, b) => a - b));
}

/**
 * The one backoff of the project: capped exponential backoff with equal jitter (a lost camera's
 * restarts in ingest, topic creation's retries in @emostream/kafka).
 */

/** Backoff parameters (a camera's from its source config). */
export interface BackoffPolicy {
  backoffInitialMs: number;
  backoffMaxMs: number;
}

/**
 * Delay before restart number `attempt` (0 for the first restart after a loss):
 * `min(max, initial * 2^attempt)` scaled by a jitter factor in [0.5, 1) so that many cameras
 * lost at once (a switch reboot) do not reconnect in lockstep, yet the delay never collapses
 * to 0 (equal-jitter variant). `random` returns [0, 1); inject it in tests.
 */
export function backoffDelayMs(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(p.backoffMaxMs, p.backoffInitialMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}

/** The whole schedule without jitter's randomness (random = 1 gives the ceiling of each step). */
export function backoffSchedule(attempts: number, p: BackoffPolicy, random: () => number = () => 1): number[] {
  return Array.from({ length: attempts }, (_, i) => backoffDelayMs(i, p, random));
}

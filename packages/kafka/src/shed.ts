/**
 * Load shedding for a stage that cannot keep up (the detector on a busy node): max-min fair
 * sharing of its work between cameras, and a bound on how stale a processed frame may be.
 *
 * Why: partitions are handled one after another and a fetch takes about the same bytes from
 * each, so a camera alone on its partition got four times the frames of one sharing a partition
 * with three others (16 cameras on 2 cores: 77 to 336 frames each). Here, while the stage is
 * behind, a camera's frame is skipped when that camera already had more frames processed
 * (recently) than the least-served active camera; skipping costs nothing, so the stage moves on
 * to the partitions of the cameras it owes. Frames waiting longer than `maxAgeMs` are skipped
 * too: a live view wants the present, not a growing backlog. Skipped frames are counted by
 * reason (`overload`, `stale`), never silent. While the stage keeps up, nothing is skipped.
 */

/** Settings of {@link FairShedder}. */
export interface ShedOptions {
  /** Shed only while more than this many messages wait in the partition after the batch in hand. */
  afterLag: number;
  /** A frame that waited longer than this (produce time to now) is stale while behind; 0: never. */
  maxAgeMs: number;
  /** A camera counts as active (and its share as owed) this long after its last message. */
  activeMs: number;
  /** How far ahead of the least-served camera a camera may run, in frames. */
  slack: number;
}

/** Defaults: about 10 s of 16 cameras at 10 fps per partition before shedding, 10 s staleness. */
export const DEFAULT_SHED: ShedOptions = { afterLag: 256, maxAgeMs: 10_000, activeMs: 10_000, slack: 1 };

/** Why a message was skipped, or `undefined` to process it. */
export type ShedVerdict = 'overload' | 'stale' | undefined;

/** Per-camera bookkeeping of what was processed; `decide` for each message, `processed` after. */
export class FairShedder {
  private readonly served = new Map<string, { count: number; seenAt: number }>();
  private decayedAt = 0;

  constructor(private readonly o: ShedOptions = DEFAULT_SHED) {}

  /**
   * Whether to process a message of `key` produced at `producedAt` (ms), with `lag` messages
   * waiting behind its batch, at time `now`.
   */
  decide(key: string, producedAt: number, lag: number, now: number): ShedVerdict {
    this.decay(now);
    let s = this.served.get(key);
    if (!s) {
      // A newcomer starts level with the least-served camera, not at zero (it would take everything).
      s = { count: this.minCount(now), seenAt: now };
      this.served.set(key, s);
    }
    s.seenAt = now;
    if (lag <= this.o.afterLag) return undefined;
    if (this.o.maxAgeMs > 0 && now - producedAt > this.o.maxAgeMs) return 'stale';
    if (s.count > this.minCount(now) + this.o.slack) return 'overload';
    return undefined;
  }

  /** Records that a message of `key` was processed. */
  processed(key: string): void {
    const s = this.served.get(key);
    if (s) s.count++;
  }

  /** Processed counts of the active cameras (for tests and debugging). */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.served].map(([k, v]) => [k, v.count]));
  }

  private minCount(now: number): number {
    let min = Infinity;
    for (const s of this.served.values()) if (now - s.seenAt <= this.o.activeMs && s.count < min) min = s.count;
    return Number.isFinite(min) ? min : 0;
  }

  /** Forgets cameras gone quiet, and lets old counts fade (so the shares follow the present). */
  private decay(now: number): void {
    if (now - this.decayedAt < this.o.activeMs) return;
    this.decayedAt = now;
    for (const [k, s] of this.served) {
      if (now - s.seenAt > this.o.activeMs) this.served.delete(k);
    }
    const min = this.minCount(now);
    for (const s of this.served.values()) s.count -= min;
  }
}

/**
 * Shedding settings from the environment: EMOSTREAM_SHED_AFTER_LAG (messages; 0 turns shedding
 * off) and EMOSTREAM_MAX_FRAME_AGE_MS (0: no staleness bound). Undefined when turned off.
 */
export function shedOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ShedOptions | undefined {
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name}=${raw} is not a whole number ≥ 0: unset it for the default (${fallback})`);
    return v;
  };
  const afterLag = num('EMOSTREAM_SHED_AFTER_LAG', DEFAULT_SHED.afterLag);
  if (afterLag === 0) return undefined;
  return { ...DEFAULT_SHED, afterLag, maxAgeMs: num('EMOSTREAM_MAX_FRAME_AGE_MS', DEFAULT_SHED.maxAgeMs) };
}

/**
 * Load shedding for a stage that cannot keep up with live cameras (the detector on a busy
 * node): every camera gets the same frame rate, and the stage keeps pace with the present.
 *
 * Why: partitions are handled one after another and a fetch takes about the same bytes from
 * each, so a camera alone on its partition got four times the frames of one sharing a partition
 * with three others (16 cameras on 2 cores: 77 to 336 frames each), and the backlog grew for as
 * long as the overload lasted. Here, while more than `afterLag` messages wait, a camera's frame
 * is processed only when at least `interval` ms (by produce time) have passed since the last
 * frame of that camera that was processed, with
 *
 *     interval = active cameras × processing time per frame (recent median) × (1 + headroom)
 *
 * so the stage spends (1 − headroom share) of its time on each second of input, whatever the
 * partition layout, and catches up. Skipped frames cost nothing and are counted by reason
 * (`overload`); frames that waited longer than `maxAgeMs` are skipped as `stale` (after a long
 * outage, the present matters more than the backlog). This is the automatic form of a fixed
 * "process every n-th frame" setting.
 *
 * Whether behind or not, a live frame with a newer frame of its camera already fetched behind it
 * is skipped (`overload`, `superseded` in {@link FairShedder.decide}): the stage goes to the
 * camera's newest frame, as the embedded pipeline keeps only a live camera's newest frame
 * waiting. A frame that took long (a tile sweep, a garbage collection) then delays the frame
 * after it, not every frame for as long as the backlog takes to drain. Otherwise, while the
 * stage keeps up, nothing is skipped.
 */

/** Settings of {@link FairShedder}. */
export interface ShedOptions {
  /**
   * Shed once more than this many messages wait (all partitions of this member, after the
   * message), until fewer than a quarter of it do.
   */
  afterLag: number;
  /** A frame that waited longer than this (produce time to now) is stale while behind; 0: never. */
  maxAgeMs: number;
  /** A camera counts as active this long after its last message. */
  activeMs: number;
  /** Spare capacity aimed for while shedding, so a backlog shrinks (0.25: work 80% of the time). */
  headroom: number;
}

/**
 * Defaults: shed once more than 256 frames wait; skip frames older than 15 s while behind (the
 * defaults of EMOSTREAM_SHED_AFTER_LAG and EMOSTREAM_MAX_FRAME_AGE_MS, see ./settings.ts).
 */
export const DEFAULT_SHED: ShedOptions = { afterLag: 256, maxAgeMs: 15_000, activeMs: 60_000, headroom: 0.25 };

/** How many processing times the estimate is the median of. */
const TIME_WINDOW = 9;
/** The first processing times (model loading and warm-up), left out once later ones come. */
const WARM_UP = 2;

interface Cam { lastKept: number; lastProduced: number; gapMs: number; seenAt: number }

/** Why a message was skipped, or `undefined` to process it. */
export type ShedVerdict = 'overload' | 'stale' | undefined;

/** Per-camera bookkeeping; `decide` for each message, `processed` after processing one. */
export class FairShedder {
  private readonly cams = new Map<string, Cam>();
  /** Messages waiting in each partition, as last seen. */
  private readonly waiting = new Map<number, number>();
  private waitingTotal = 0;
  /** Shedding since the backlog passed `afterLag` or the offered load the capacity, until both are low again. */
  private behind = false;
  /** The stage's time per message (the median of the recent times, see {@link processed}), ms. */
  private frameMs = 0;
  private readonly times: number[] = [];
  private count = 0;

  constructor(private readonly o: ShedOptions = DEFAULT_SHED) {}

  /**
   * Whether to process a message of `key` from `partition`, produced at `producedAt` (ms), with
   * `lag` messages waiting after it in its partition, at `now`. The stage is behind when the
   * messages waiting in all its partitions together exceed `afterLag`: one camera alone on a
   * partition that keeps up is shed as much as the others, or it would take the spare capacity.
   * `superseded`: a newer frame of the camera waits behind this one (fetched already), so this
   * one is skipped, after its bookkeeping (its camera's frame spacing counts every frame offered).
   */
  decide(key: string, partition: number, producedAt: number, lag: number, now: number, superseded = false): ShedVerdict {
    let c = this.cams.get(key);
    if (!c) this.cams.set(key, (c = { lastKept: -Infinity, lastProduced: -Infinity, gapMs: 0, seenAt: now }));
    c.seenAt = now;
    // The camera's frame spacing (its offered rate), from produce times: messages of one key come in order.
    if (producedAt > c.lastProduced && Number.isFinite(c.lastProduced)) {
      const gap = Math.min(producedAt - c.lastProduced, 10_000);
      c.gapMs = c.gapMs === 0 ? gap : c.gapMs * 0.9 + gap * 0.1;
    }
    c.lastProduced = Math.max(c.lastProduced, producedAt);
    this.waitingTotal += lag - (this.waiting.get(partition) ?? 0);
    this.waiting.set(partition, lag);
    // Behind: a backlog, or more work offered than the stage can do with its headroom. Both
    // with hysteresis, so the stage does not swing between shedding and not (the swings
    // favoured the partitions served while not shedding).
    const load = this.load();
    if (this.waitingTotal > this.o.afterLag || load > 1 / (1 + this.o.headroom)) this.behind = true;
    else if (this.waitingTotal <= this.o.afterLag / 4 && load < 0.9 / (1 + this.o.headroom)) this.behind = false;
    if (superseded) return 'overload';
    if (!this.behind) return this.keep(c, producedAt);
    if (this.o.maxAgeMs > 0 && now - producedAt > this.o.maxAgeMs) return 'stale';
    if (producedAt - c.lastKept < this.intervalMs(now)) return 'overload';
    return this.keep(c, producedAt);
  }

  /**
   * Records how long processing a message took (the stage's capacity). The estimate is the median
   * of the last {@link TIME_WINDOW} times, from the {@link WARM_UP}+1-th on when there are more:
   * the first frames load and compile the models (seconds, against ~0.1 s afterwards), and a mean
   * that starts there made the stage shed nearly every frame for minutes while it learned only
   * from the few frames it kept (4 live 720p cameras: 2-4 frames each kept in 25 s).
   */
  processed(ms: number): void {
    this.count++;
    if (this.count > WARM_UP || this.times.length === 0) {
      if (this.count === WARM_UP + 1) this.times.length = 0;
      this.times.push(ms);
      if (this.times.length > TIME_WINDOW) this.times.shift();
    }
    const sorted = [...this.times].sort((a, b) => a - b);
    this.frameMs = sorted[Math.floor(sorted.length / 2)];
  }

  /** The current estimate of the stage's time per message, ms (0 before the first). */
  get timePerMessageMs(): number {
    return this.frameMs;
  }

  /** The spacing between processed frames of one camera while shedding, ms. */
  intervalMs(now: number): number {
    let active = 0;
    for (const [k, c] of this.cams) {
      if (now - c.seenAt <= this.o.activeMs) active++;
      else this.cams.delete(k);
    }
    return active * this.frameMs * (1 + this.o.headroom);
  }

  /** Offered work per unit of time: Σ over cameras of processing time / frame spacing. */
  load(): number {
    let l = 0;
    for (const c of this.cams.values()) if (c.gapMs > 0) l += this.frameMs / c.gapMs;
    return l;
  }

  private keep(c: Cam, producedAt: number): undefined {
    c.lastKept = Math.max(c.lastKept, producedAt);
    return undefined;
  }
}

/**
 * One detector shared by several cameras in one process (`analyze` with several sources): the
 * cameras take turns, and live cameras are shed fairly when the detector cannot keep up.
 *
 * Each camera offers at most one frame at a time (its own bounded queue holds the others: a
 * live camera drops its oldest waiting frame there, a file pauses its decoder). The detector
 * takes the offered frames round-robin over the cameras, so a camera with frames waiting is
 * served after at most one frame of every other camera: a busy camera (a file read as fast as
 * it goes, a camera with many faces) cannot starve the others, and a quiet one leaves its share
 * to them. A live camera's frame then goes through the same {@link FairShedder} as
 * `serve detector`'s: while the live cameras offer more work than the detector does (measured),
 * or too many frames wait, each live camera's frames are spaced out evenly (active cameras ×
 * time per frame × 1.25) and the ones in between skipped (`overload`), so every camera gets the
 * same frame rate and the frames analysed stay recent. Files are never shed.
 */
import { DEFAULT_SHED, FairShedder, type ShedOptions, type ShedVerdict } from '@emostream/kafka';

/** What a frame needs for scheduling: its camera and when it was captured (ms since the epoch). */
export interface Schedulable {
  cameraId: string;
  capturedAtMs: number;
}

/** What became of an offered frame: its detection's result (undefined: detection dropped it), or shed. */
export type FairOutcome<R> = { shed: false; result: R | undefined } | { shed: Exclude<ShedVerdict, undefined> };

/** Options of {@link FairDetector}. */
export interface FairDetectorOptions {
  /** Shedding of live frames (default {@link embeddedShed} of one camera); `false`: never shed. */
  shed?: ShedOptions | false;
  /** Frames waiting in the cameras' queues now (all cameras), for the shedder's backlog rule. */
  waiting?: () => number;
  /** Wall clock, ms: capture ages and the detector's time per frame (default Date.now). */
  now?: () => number;
}

/**
 * The embedded run's shedding: the detector's defaults, but "behind" once more than two frames
 * per live camera wait (the Kafka default, 256 messages, is far more than the cameras' queues
 * of 8 frames ever hold).
 */
export function embeddedShed(liveCameras: number): ShedOptions {
  return { ...DEFAULT_SHED, afterLag: Math.max(2, 2 * liveCameras) };
}

/** Frames whose median time the shedder hears (see `timed`). */
const RECENT = 9;

interface Offer<T, R> {
  frame: T;
  live: boolean;
  resolve: (o: FairOutcome<R>) => void;
  reject: (e: unknown) => void;
}

/** The shared detector: {@link offer} a frame per camera, get its outcome when its turn came. */
export class FairDetector<T extends Schedulable, R> {
  private readonly order: string[] = [];
  private readonly offers = new Map<string, Offer<T, R>>();
  private cursor = 0;
  private busy = false;
  private readonly shedder: FairShedder | undefined;
  private readonly now: () => number;
  private readonly waiting: () => number;
  private counts = { detected: 0, shed: 0 };
  /** The detector's latest times per frame, ms (the shedder hears their median). */
  private readonly recent: number[] = [];

  constructor(private readonly detect: (frame: T) => Promise<R | undefined>, o: FairDetectorOptions = {}) {
    this.shedder = o.shed === false ? undefined : new FairShedder(o.shed ?? embeddedShed(1));
    this.now = o.now ?? Date.now;
    this.waiting = o.waiting ?? (() => 0);
  }

  /** Frames detected and frames shed so far. */
  get stats(): { detected: number; shed: number } {
    return { ...this.counts };
  }

  /**
   * Offers a camera's next frame (`live`: a camera, which may be shed; a file never is). One
   * frame per camera at a time: offer the next once this one's promise settled.
   */
  offer(frame: T, live: boolean): Promise<FairOutcome<R>> {
    if (this.offers.has(frame.cameraId)) throw new Error(`camera ${frame.cameraId} offered a frame before its previous one was taken`);
    if (!this.order.includes(frame.cameraId)) this.order.push(frame.cameraId);
    return new Promise((resolve, reject) => {
      this.offers.set(frame.cameraId, { frame, live, resolve, reject });
      this.pump();
    });
  }

  /**
   * Tells the shedder the detector's time per frame: the median of the last {@link RECENT}
   * frames, from the third one on. A first call that loads a model (seconds, not tens of ms)
   * would otherwise set the shedder's mean so high that it kept one frame every few seconds,
   * and, with so few frames measured, it would take minutes to come down.
   */
  private timed(ms: number): void {
    this.recent.push(ms);
    if (this.recent.length > RECENT) this.recent.shift();
    if (this.recent.length < 3) return;
    const sorted = [...this.recent].sort((a, b) => a - b);
    this.shedder?.processed(sorted[Math.floor(sorted.length / 2)]);
  }

  /** The next camera in turn with a frame on offer (round-robin from the one after the last served). */
  private next(): Offer<T, R> | undefined {
    for (let i = 0; i < this.order.length; i++) {
      const k = (this.cursor + i) % this.order.length;
      const offer = this.offers.get(this.order[k]);
      if (!offer) continue;
      this.offers.delete(this.order[k]);
      this.cursor = k + 1;
      return offer;
    }
    return undefined;
  }

  private pump(): void {
    while (!this.busy) {
      const offer = this.next();
      if (!offer) return;
      const { frame } = offer;
      if (offer.live && this.shedder) {
        const verdict = this.shedder.decide(frame.cameraId, 0, frame.capturedAtMs, this.waiting(), this.now());
        if (verdict) {
          this.counts.shed++;
          offer.resolve({ shed: verdict });
          continue;
        }
      }
      this.busy = true;
      const started = this.now();
      this.detect(frame).then((result) => {
        this.timed(this.now() - started);
        this.counts.detected++;
        offer.resolve({ shed: false, result });
      }, (e: unknown) => offer.reject(e)).finally(() => {
        this.busy = false;
        this.pump();
      });
    }
  }
}

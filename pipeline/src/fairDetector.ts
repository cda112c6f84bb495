/**
 * One detector shared by several cameras in one process (`analyze` with several sources): the
 * cameras take turns, and a live camera that the detector cannot keep up with gives it its
 * newest frame, not its oldest.
 *
 * Each camera has at most one frame on offer. The detector takes the offered frames round-robin
 * over the cameras, so a camera with a frame on offer is served after at most one frame of every
 * other camera: a busy camera (a file read as fast as it goes, a camera with many faces) cannot
 * starve the others, and a quiet one leaves its share to them.
 *
 * - A live camera offers every frame as it is decoded; a frame still on offer when the next one
 *   comes is replaced by it (skipped, `frames_dropped_total{reason="overload"}`). While the
 *   detector keeps up, nothing is replaced. While it does not, every live camera gets one frame
 *   per round of turns: the same frame rate for each, frames no older than one round, and the
 *   detector never idle while a frame waits.
 * - A file offers its next frame once the previous one was taken (its own bounded queue pauses
 *   its decoder meanwhile): nothing is skipped, and it takes the detector's spare time.
 *
 * Why not `serve detector`'s FairShedder here: over Kafka the detector cannot see what waits
 * for it, so it spaces each camera's frames by an estimate of its own time per frame and keeps
 * 20% idle to work a backlog off. In one process the waiting frames are right here. The estimate
 * also fails at start: the first frames take seconds (models loading), a shedder that learns from
 * the frames it keeps then keeps one every few tens of seconds and learns nothing more (measured:
 * four live cameras kept 2 to 4 frames each in 25 s; see bench/RESULTS.md, session 8).
 */

/** What a frame needs for scheduling: its camera. */
export interface Schedulable {
  cameraId: string;
}

/** What became of an offered frame: its detection's result (undefined: detection dropped it), or skipped for a newer one. */
export type FairOutcome<R> = { skipped: false; result: R | undefined } | { skipped: true };

interface Offer<T, R> {
  frame: T;
  live: boolean;
  resolve: (o: FairOutcome<R>) => void;
  reject: (e: unknown) => void;
}

/** Options of {@link FairDetector}. */
export interface FairOptions {
  /**
   * Frames detected at once, each of another camera (default 1). Above 1 the detector's stage
   * runs for several cameras' frames side by side, so that a detector that batches (BlazeFace:
   * calls made while it is busy go through the network together) takes their frames in one call.
   */
  concurrency?: number;
}

/** The shared detector: {@link offer} frames per camera, get each one's outcome when its turn came (or a newer one replaced it). */
export class FairDetector<T extends Schedulable, R> {
  private readonly order: string[] = [];
  private readonly offers = new Map<string, Offer<T, R>>();
  /** Cameras with a frame in detection: never two frames of one camera at once (its frames stay in order). */
  private readonly running = new Set<string>();
  private readonly concurrency: number;
  private cursor = 0;
  private counts = { detected: 0, skipped: 0 };

  constructor(private readonly detect: (frame: T) => Promise<R | undefined>, o: FairOptions = {}) {
    const c = o.concurrency ?? 1;
    if (!Number.isInteger(c) || c < 1) throw new Error(`concurrency must be a positive integer, got ${c}`);
    this.concurrency = c;
  }

  /** Frames detected and frames skipped (replaced by a newer frame of their camera) so far. */
  get stats(): { detected: number; skipped: number } {
    return { ...this.counts };
  }

  /**
   * Offers a camera's frame. `live`: a camera, whose frame on offer (if any) is replaced by this
   * one; otherwise a file, which offers its next frame only once this one's promise settled.
   */
  offer(frame: T, live: boolean): Promise<FairOutcome<R>> {
    const pending = this.offers.get(frame.cameraId);
    if (pending && !(live && pending.live)) throw new Error(`camera ${frame.cameraId} offered a frame before its previous one was taken`);
    if (!this.order.includes(frame.cameraId)) this.order.push(frame.cameraId);
    if (pending) {
      this.counts.skipped++;
      pending.resolve({ skipped: true });
    }
    return new Promise((resolve, reject) => {
      this.offers.set(frame.cameraId, { frame, live, resolve, reject });
      this.pump();
    });
  }

  /** The next camera in turn with a frame on offer and none in detection (round-robin from the one after the last served). */
  private next(): Offer<T, R> | undefined {
    for (let i = 0; i < this.order.length; i++) {
      const k = (this.cursor + i) % this.order.length;
      const offer = this.offers.get(this.order[k]);
      if (!offer || this.running.has(this.order[k])) continue;
      this.offers.delete(this.order[k]);
      this.cursor = k + 1;
      return offer;
    }
    return undefined;
  }

  private pump(): void {
    while (this.running.size < this.concurrency) {
      const offer = this.next();
      if (!offer) return;
      const camera = offer.frame.cameraId;
      this.running.add(camera);
      this.detect(offer.frame).then((result) => {
        this.counts.detected++;
        offer.resolve({ skipped: false, result });
      }, (e: unknown) => offer.reject(e)).finally(() => {
        this.running.delete(camera);
        this.pump();
      });
    }
  }
}

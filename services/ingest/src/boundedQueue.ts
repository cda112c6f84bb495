/** A mergeMap whose waiting room is bounded: the backpressure point between decode and the rest. */
import { Observable, from, type ObservableInput, type OperatorFunction, type Subscription } from 'rxjs';
import type { Valve } from './valve.js';

/** Options of {@link boundedQueue}. */
export interface BoundedQueueOptions {
  /** Items processed at once by `work` (default 1, i.e. concatMap). */
  concurrency?: number;
  /**
   * When given, the valve is closed as soon as the queue is full and opened again once it has
   * drained to half: a file source then pauses ffmpeg instead of losing frames. Frames already
   * on their way when it closed (the rest of ffmpeg's pipe chunk, frames inside an async step
   * between the source and the queue) are still taken, up to {@link valveSlack} beyond
   * `maxFrames`; only a source that keeps pushing past that (one that ignores the valve) loses
   * frames, the oldest first.
   */
  valve?: Valve;
  /** Frames held beyond `maxFrames` while the valve is closed (default max(maxFrames, 32)). */
  valveSlack?: number;
}

/**
 * Runs `work` on each item with at most `concurrency` in flight, holding at most `maxFrames`
 * items waiting. When the queue is full the OLDEST waiting item is dropped and passed to
 * `onDrop`: for live video the newest frame is the one worth analysing, and dropping the
 * oldest keeps the latency bounded by `maxFrames` frames.
 *
 * Why not `bufferedItems.pipe(concatMap(work))`: RxJS is push-only, and concatMap/mergeMap
 * keep every value that arrives while `work` is busy in an unbounded internal buffer, so a
 * queue operator placed *before* them never sees the consumer fall behind. The queue must own
 * the concurrency itself, which is what this operator does: the consumer's own completion is
 * the demand signal.
 */
export function boundedQueue<T, R>(
  maxFrames: number,
  onDrop: (dropped: T) => void,
  work: (item: T) => ObservableInput<R>,
  options: BoundedQueueOptions = {},
): OperatorFunction<T, R> {
  if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new RangeError(`maxFrames must be an integer >= 1, got ${maxFrames}`);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  const valve = options.valve;
  // Re-open at half full: hysteresis so ffmpeg is not paused and resumed on every frame.
  const resumeAt = Math.floor(maxFrames / 2);
  // Without a valve the queue drops at maxFrames; with one, frames in flight when it closed are
  // kept (a file must not lose a frame to the time a pause takes to reach ffmpeg).
  const dropAt = maxFrames + (valve ? options.valveSlack ?? Math.max(maxFrames, 32) : 0);

  return (source) => new Observable<R>((sub) => {
    const waiting: T[] = [];
    const inner = new Set<Subscription>();
    let active = 0;
    let sourceDone = false;
    let draining = false;

    const checkComplete = () => {
      if (sourceDone && active === 0 && waiting.length === 0) sub.complete();
    };
    const start = (item: T) => {
      active++;
      let finished = false;
      const s = from(work(item)).subscribe({
        next: (r) => sub.next(r),
        error: (e) => sub.error(e),
        complete: () => {
          finished = true;
          active--;
          inner.delete(s);
          drain();
        },
      });
      // A synchronous `work` completes inside subscribe(), before `s` exists.
      if (!finished) inner.add(s);
    };
    const drain = () => {
      if (draining) return;
      draining = true;
      try {
        while (active < concurrency && waiting.length > 0 && !sub.closed) start(waiting.shift()!);
      } finally {
        draining = false;
      }
      if (valve?.paused && waiting.length <= resumeAt) valve.resume();
      checkComplete();
    };

    const upstream = source.subscribe({
      next: (item) => {
        if (active < concurrency && waiting.length === 0) {
          start(item);
          return;
        }
        if (waiting.length >= dropAt) onDrop(waiting.shift()!);
        waiting.push(item);
        if (valve && waiting.length >= maxFrames && !valve.paused) valve.pause();
        drain();
      },
      error: (e) => sub.error(e),
      complete: () => {
        sourceDone = true;
        drain();
      },
    });
    return () => {
      upstream.unsubscribe();
      for (const s of inner) s.unsubscribe();
      inner.clear();
      waiting.length = 0;
      if (valve?.paused) valve.resume();
    };
  });
}

/** A pause/resume signal from a consumer back to a frame source (lossless backpressure for files). */
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';

/**
 * Closed (paused) when the consumer's queue is full, open again when it has drained. A file
 * source pauses ffmpeg's stdout while closed (ffmpeg then blocks on the pipe: no frame lost);
 * a live source should not get a valve, since a paused camera only falls behind: drop instead.
 */
export interface Valve {
  readonly paused$: Observable<boolean>;
  readonly paused: boolean;
  pause(): void;
  resume(): void;
}

/** A new, open valve. */
export function createValve(): Valve {
  const state = new BehaviorSubject(false);
  return {
    paused$: state.pipe(distinctUntilChanged()),
    get paused() { return state.value; },
    pause: () => state.next(true),
    resume: () => state.next(false),
  };
}

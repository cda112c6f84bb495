/** Cuts a byte stream of raw frames (ffmpeg's stdout) into whole frames of a fixed size. */

/**
 * Accumulates chunks and returns every complete frame. Chunks arrive at arbitrary boundaries
 * (a pipe gives 64 KiB at a time, a 640x360 RGB frame is 691,200 bytes), so a frame may span
 * many chunks and a chunk may hold the end of one frame and the start of the next.
 *
 * Each frame is assembled in a buffer of its own, allocated when its first byte arrives: the
 * chunks are copied straight into it (one copy of every byte, no per-chunk copies joined by a
 * `Buffer.concat`). The frame is handed on and never written again, so later stages may keep it.
 */
export class FrameSplitter {
  /** The frame being assembled (undefined between frames). */
  private frame: Buffer | undefined;
  private held = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
  }

  /** Bytes held that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.held;
  }

  /**
   * Adds a chunk; returns the frames it completes, each an independent Buffer of frameBytes (its
   * own memory, offset 0: neither the chunk's, which the stream reuses, nor another frame's).
   */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      // allocUnsafeSlow, not allocUnsafe: a small frame would otherwise share Buffer's pool.
      const frame = (this.frame ??= Buffer.allocUnsafeSlow(this.frameBytes));
      const take = Math.min(this.frameBytes - this.held, chunk.length - offset);
      chunk.copy(frame, this.held, offset, offset + take);
      this.held += take;
      offset += take;
      if (this.held === this.frameBytes) {
        out.push(frame);
        this.frame = undefined;
        this.held = 0;
      }
    }
    return out;
  }

  /** Drops a partial frame (ffmpeg died mid-frame); returns how many bytes were dropped. */
  reset(): number {
    const n = this.held;
    this.frame = undefined;
    this.held = 0;
    return n;
  }
}

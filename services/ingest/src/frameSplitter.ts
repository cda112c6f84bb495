/** Cuts a byte stream of raw frames (ffmpeg's stdout) into whole frames of a fixed size. */

/**
 * Accumulates chunks and returns every complete frame. Chunks arrive at arbitrary boundaries
 * (a pipe gives 64 KiB at a time, a 640x360 RGB frame is 691,200 bytes), so a frame may span
 * many chunks and a chunk may hold the end of one frame and the start of the next.
 */
export class FrameSplitter {
  private parts: Buffer[] = [];
  private held = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
  }

  /** Bytes held that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.held;
  }

  /** Adds a chunk; returns the frames it completes (each an independent Buffer of frameBytes). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const need = this.frameBytes - this.held;
      const take = Math.min(need, chunk.length - offset);
      // Copy: the chunk's memory belongs to the stream and is reused.
      this.parts.push(Buffer.from(chunk.subarray(offset, offset + take)));
      this.held += take;
      offset += take;
      if (this.held === this.frameBytes) {
        out.push(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.frameBytes));
        this.parts = [];
        this.held = 0;
      }
    }
    return out;
  }

  /** Drops a partial frame (ffmpeg died mid-frame); returns how many bytes were dropped. */
  reset(): number {
    const n = this.held;
    this.parts = [];
    this.held = 0;
    return n;
  }
}

/** The progress line of `analyze` on stderr: frames, fps, faces, persons; elapsed and ETA for files. */

import type { AnalyzeProgress } from '@emostream/pipeline';

/** Figures the progress line shows. */
export type ProgressState = AnalyzeProgress;

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Formats one progress line (no control characters). */
export function progressLine(p: ProgressState, elapsedMs: number, width = 24): string {
  const fps = elapsedMs > 0 ? (p.frames / elapsedMs) * 1000 : 0;
  let bar = '';
  let eta = '';
  if (p.durationMs && p.durationMs > 0) {
    const f = Math.min(1, p.mediaTimeMs / p.durationMs);
    const filled = Math.round(f * width);
    bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}% `;
    if (f > 0) eta = ` eta ${clock((elapsedMs / f) * (1 - f))}`;
  } else {
    bar = `media ${clock(p.mediaTimeMs)} `;
  }
  return `${bar}frames ${p.frames} | ${fps.toFixed(1)} fps | faces ${p.faces} | persons ${p.persons}` +
    (p.drops ? ` | dropped ${p.drops}` : '') + (p.reconnects ? ` | reconnects ${p.reconnects}` : '') +
    ` | elapsed ${clock(elapsedMs)}${eta}`;
}

/** Redraws the progress line in place on a terminal, or prints it every few seconds otherwise. */
export class ProgressReporter {
  private last = 0;
  private readonly start = Date.now();
  private shown = false;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly enabled = true) {}
  update(p: ProgressState, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    const tty = Boolean(this.stream.isTTY);
    if (!force && now - this.last < (tty ? 200 : 5000)) return;
    this.last = now;
    const line = progressLine(p, now - this.start);
    if (tty) { this.stream.write(`\r\x1b[K${line}`); this.shown = true; } else this.stream.write(line + '\n');
  }
  /** Ends the in-place line so that later output starts on a fresh line. */
  done(p: ProgressState): void {
    this.update(p, true);
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
  /** Prints a message above the progress line. */
  log(msg: string): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.stream.write(msg + '\n');
  }
}

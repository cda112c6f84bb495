/**
 * One camera's outputs of an `analyze` run, in its folder: events.jsonl (written as events
 * come), then timelines.json and report.html (written when the camera ends).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { EmotionEvent, Timelines } from '@emostream/contracts';
import { MAX_EVENT_ROWS, renderReport, type RunFigures } from '@emostream/aggregator';

/** The output files, in the order they are written. */
export const OUTPUT_FILES = ['events.jsonl', 'timelines.json', 'report.html'] as const;

async function thumbnails(best: Map<string, { crop: Uint8Array }>): Promise<Record<string, string>> {
  const sharp = (await import('sharp')).default;
  const out: Record<string, string> = {};
  for (const [k, { crop }] of best) {
    const png = await sharp(Buffer.from(crop), { raw: { width: 48, height: 48, channels: 1 } }).resize(96, 96).png().toBuffer();
    out[k] = `data:image/png;base64,${png.toString('base64')}`;
  }
  return out;
}

/** Only this camera's part of the timelines (an empty one when it had no frame). */
export function cameraTimelines(all: Timelines, cameraId: string): Timelines {
  return { ...all, cameras: { [cameraId]: all.cameras[cameraId] ?? { persons: {} } } };
}

/** A camera's output folder. */
export class CameraOutput {
  /** Events written (or, after a write error, that would have been). */
  events = 0;
  /** Why events.jsonl could not be written, if it could not. */
  eventsError?: Error;
  private readonly firstEvents: EmotionEvent[] = [];
  /** Opt-in thumbnails: the best-scoring crop per person, in memory only, for the report. */
  private readonly best = new Map<string, { crop: Uint8Array; score: number }>();
  private readonly file: fs.WriteStream;
  private readonly closed: Promise<void>;
  private ended = false;

  private constructor(readonly dir: string, onError: (e: Error) => void) {
    this.file = fs.createWriteStream(path.join(dir, 'events.jsonl'));
    this.closed = new Promise<void>((resolve) => this.file.once('close', () => resolve()));
    // A failed write (a full disk) is reported once; the other outputs are still written.
    this.file.on('error', (e) => {
      if (this.eventsError) return;
      this.eventsError = e;
      onError(e);
    });
  }

  /** Creates the folder and opens events.jsonl; `onError` hears of a failed write (once). */
  static async open(dir: string, onError: (e: Error) => void): Promise<CameraOutput> {
    await fsp.mkdir(dir, { recursive: true });
    return new CameraOutput(dir, onError);
  }

  /** One event: to events.jsonl, and kept for the report's table (its first rows only). */
  event(e: EmotionEvent): void {
    this.events++;
    if (this.firstEvents.length < MAX_EVENT_ROWS) this.firstEvents.push(e);
    if (!this.eventsError && !this.ended) this.file.write(JSON.stringify(e) + '\n');
  }

  /** A confirmed person's face crop, kept if it is the best seen (only with `--thumbnails`). */
  crop(key: string, crop: Uint8Array, score: number): void {
    if ((this.best.get(key)?.score ?? -1) < score) this.best.set(key, { crop: Uint8Array.from(crop), score });
  }

  /** Closes events.jsonl (idempotent). */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      if (!this.eventsError) this.file.end();
      else this.file.destroy();
    }
    await this.closed;
  }

  /**
   * Closes events.jsonl and writes timelines.json and report.html; returns the files that could
   * not be written, each with its reason (none: all written).
   */
  async finish(o: { timelines: Timelines; title: string; run: RunFigures; thumbnails: boolean }): Promise<string[]> {
    await this.close();
    const failed: string[] = this.eventsError ? [`events.jsonl (${this.eventsError.message})`] : [];
    const write = (name: string, data: string) => fsp.writeFile(path.join(this.dir, name), data).catch((e: Error) => { failed.push(`${name} (${e.message})`); });
    await write('timelines.json', JSON.stringify(o.timelines, null, 2) + '\n');
    const persons = Object.values(o.timelines.cameras).reduce((a, c) => a + Object.keys(c.persons).length, 0);
    const html = renderReport({
      title: o.title,
      run: { ...o.run, persons },
      timelines: o.timelines,
      events: this.firstEvents, eventsTotal: this.events,
      thumbnails: o.thumbnails ? await thumbnails(this.best) : undefined,
    });
    await write('report.html', html);
    return failed;
  }
}

/** How a file's ffmpeg run ended: the verdict fileFrames acts on (log, warning or error). */
import type { RunEvent } from './supervisor.js';

/** The exit event of a run. */
export type ExitEvent = Extract<RunEvent, { type: 'exit' }>;

/**
 * - `clean`: ffmpeg exited 0 with no error line and no partial frame.
 * - `damaged`: ffmpeg reported errors but the frames reached the count the duration promises
 *   (less 2 frames or 2%): damaged data mid-file. ffmpeg's decoder drops the pictures it cannot
 *   decode and conceals partly damaged ones; the fps filter repeats the picture before a
 *   dropped one, so the timeline stays whole.
 * - `truncated`: frames, then an end before that count (or an unknown count) with errors.
 * - `empty`: a clean exit without a single frame (a video stream with no picture in it).
 * - `failed`: no frame and an error, a kill, or ffmpeg could not start.
 */
export type FileEndKind = 'clean' | 'damaged' | 'truncated' | 'empty' | 'failed';

/** Frames the fps filter makes of `durationMs` at `fps` (undefined when the duration is unknown). */
export function expectedFrames(durationMs: number | undefined, fps: number): number | undefined {
  return durationMs ? Math.round((durationMs / 1000) * fps) : undefined;
}

/** Judges a file's run from its exit event and the frames its duration promises. */
export function fileEndKind(ev: ExitEvent, expected: number | undefined): FileEndKind {
  const clean = !ev.exit.error && ev.exit.code === 0 && ev.errorCount === 0 && ev.partialBytes === 0;
  if (ev.framesEmitted === 0) return clean ? 'empty' : 'failed';
  if (clean) return 'clean';
  if (ev.exit.error || ev.exit.signal) return 'failed';
  const complete = expected !== undefined && ev.framesEmitted >= expected - Math.max(2, 0.02 * expected);
  return complete && ev.exit.code === 0 ? 'damaged' : 'truncated';
}

/** An exit event in words: how ffmpeg ended, and its last error line. */
export function exitText(e: ExitEvent): string {
  const how = e.exit.error ? `could not start ffmpeg: ${e.exit.error.message}`
    : e.exit.signal ? `ffmpeg was killed by ${e.exit.signal}` : `ffmpeg exited with code ${e.exit.code}`;
  const last = e.errorLines[e.errorLines.length - 1];
  return last ? `${how} (${last})` : how;
}

/** What fileFrames does at a file's end: a log line (the file completes), or an error (it fails; without the camera's name). */
export type FileEndOutcome =
  | { kind: FileEndKind; level: 'info' | 'warn'; msg: string; fields: Record<string, unknown>; error?: undefined }
  | { kind: FileEndKind; error: string };

/** The outcome of a file's run: `shown` names the file, `fps` is the output rate. */
export function fileEnd(ev: ExitEvent, durationMs: number | undefined, o: { fps: number; shown: string }): FileEndOutcome {
  const expected = expectedFrames(durationMs, o.fps);
  const kind = fileEndKind(ev, expected);
  const fields = { frames: ev.framesEmitted, expectedFrames: expected, code: ev.exit.code, decodeErrors: ev.errorCount, lastError: ev.errorLines[ev.errorLines.length - 1] };
  switch (kind) {
    case 'clean': return { kind, level: 'info', msg: 'file ended', fields: { frames: ev.framesEmitted } };
    case 'damaged': return {
      kind, level: 'warn', fields,
      msg: 'file decoded with errors: damaged data mid-file; ffmpeg dropped the pictures it could not decode (the one before stands in for each) and concealed partly damaged ones',
    };
    // A cut file (interrupted download/recording): keep what was decodable and say so.
    case 'truncated': return { kind, level: 'warn', msg: 'file ended early: it looks truncated or damaged; frames before the damage were kept', fields };
    case 'empty': return { kind, error: `ffmpeg decoded no picture from ${o.shown} (its video stream holds none, or less than one frame at ${o.fps} fps); check the file in a video player` };
    default: return { kind, error: `cannot decode ${o.shown}: ${exitText(ev)}; check that the file is a complete video ffmpeg can read` };
  }
}

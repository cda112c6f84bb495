/** Pure builder of the ffmpeg command line that decodes one source into raw RGB24 frames on stdout. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactUrl } from '@emostream/runtime';

/** What kind of input a URL is; decides the protocol whitelist and the input options. */
export type InputKind = 'file' | 'rtsp';

/** A classified input: its kind and the string ffmpeg gets after `-i`. */
export interface ClassifiedInput {
  kind: InputKind;
  /** What ffmpeg opens: an absolute file path (prefixed `file:`) or the rtsp(s) URL as given. */
  input: string;
  /** Protocols ffmpeg may use for this input (`-protocol_whitelist`). */
  protocols: readonly string[];
}

/**
 * Protocols per input kind. Files get `file` (plus `pipe` for our own stdout) and nothing else:
 * no `concat:`, no `http`/`hls` playlists that could make ffmpeg read other local files.
 * RTSP needs rtp/tcp/udp for the transports, tls for rtsps, and `pipe` for the input list that
 * carries the URL on stdin (never `file`).
 */
export const PROTOCOL_WHITELIST: Readonly<Record<InputKind, readonly string[]>> = {
  file: ['file', 'pipe'],
  rtsp: ['pipe', 'rtsp', 'rtp', 'tcp', 'udp', 'tls'],
};

/**
 * An RTSP URL never goes on ffmpeg's or ffprobe's command line, which any local user reads
 * (`ps`, /proc/<pid>/cmdline): they read it from stdin, as the one entry of an ffconcat list
 * (`-f concat -safe 0 -i pipe:0`), with the RTSP demuxer's options as the list's `option` lines.
 */
export const STDIN_LIST_OPTIONS = ['-f', 'concat', '-safe', '0'] as const;

/** The ffconcat list that hands `url` to ffmpeg/ffprobe on stdin (see {@link STDIN_LIST_OPTIONS}). */
export function rtspInputList(url: string, o: { rtspTransport?: 'tcp' | 'udp'; readTimeoutMs?: number } = {}): string {
  return [
    'ffconcat version 1.0',
    `file ${ffconcatQuote(url)}`,
    `option rtsp_transport ${o.rtspTransport ?? 'tcp'}`,
    // ffmpeg 5.1: socket timeout in µs; without it a silent camera hangs ffmpeg for ever.
    `option timeout ${Math.round((o.readTimeoutMs ?? 5000) * 1000)}`,
    '',
  ].join('\n');
}

/**
 * One ffconcat token: single-quoted, a quote inside written `'\''` (ffmpeg's av_get_token reads
 * it as the shell does), so no URL can end its entry and add directives of its own. A line break
 * or NUL cannot be quoted (the list is read line by line): such a URL is refused.
 */
export function ffconcatQuote(s: string): string {
  if (/[\0\r\n]/.test(s)) throw new UnsupportedInputError(s, 'the URL holds a line break or NUL', `${/^[a-z][a-z0-9+.-]*:/i.exec(s)?.[0] ?? ''}//***`);
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** Thrown for an input that ingest refuses to hand to ffmpeg. */
export class UnsupportedInputError extends Error {
  /** `shown`: how to name the input (default: redacted); a URL that does not parse is shown as its scheme only. */
  constructor(readonly input: string, reason: string, shown = redactUrl(input)) {
    super(`unsupported input ${shown}: ${reason}; use a file path, a file: URL, or an rtsp:// or rtsps:// URL`);
    this.name = 'UnsupportedInputError';
  }
}

/**
 * Classifies a source URL. Accepts a plain path (relative paths are resolved against `cwd`),
 * `file:` URLs, `rtsp://` and `rtsps://`; rejects every other scheme (http, concat, data, pipe,
 * subfile, …) with an error naming the (redacted) input.
 */
export function classifyInput(url: string, cwd = process.cwd()): ClassifiedInput {
  if (url.trim() === '') throw new UnsupportedInputError(url, 'the input is empty');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  // One-letter "schemes" are Windows drive letters, i.e. paths.
  if (scheme === undefined || scheme.length === 1) {
    return { kind: 'file', input: 'file:' + path.resolve(cwd, url), protocols: PROTOCOL_WHITELIST.file };
  }
  if (scheme === 'file') {
    let p: string;
    try {
      p = url.startsWith('file://') ? fileURLToPath(url) : path.resolve(cwd, url.slice('file:'.length));
    } catch (e) {
      throw new UnsupportedInputError(url, `not a valid file: URL (${(e as Error).message})`);
    }
    return { kind: 'file', input: 'file:' + p, protocols: PROTOCOL_WHITELIST.file };
  }
  if (scheme === 'rtsp' || scheme === 'rtsps') {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      // Where its userinfo ends is unknowable (a password with an unencoded `/`): show none of it.
      throw new UnsupportedInputError(url, 'not a valid URL (write a `/`, `?`, `#` or `@` in a user name or password as %2F, %3F, %23, %40)', `${scheme}://***`);
    }
    if (!u.hostname) throw new UnsupportedInputError(url, 'the URL has no host');
    return { kind: 'rtsp', input: url, protocols: PROTOCOL_WHITELIST.rtsp };
  }
  throw new UnsupportedInputError(url, `scheme "${scheme}:" is not allowed`);
}

/** The local path of a file input (without the `file:` prefix ffmpeg gets). */
export function filePathOf(input: ClassifiedInput): string {
  return input.input.replace(/^file:/, '');
}

/**
 * Output frame size: the source scaled down to fit maxWidth x maxHeight, aspect kept, both even.
 * The box is turned to the source's orientation: a portrait source (taller than wide) fits
 * maxHeight x maxWidth when that box is landscape, so a phone's 1080x1920 clip is read at 720x1280
 * as a 1920x1080 one is at 1280x720 (the same pixels at most, under the detector's pixel cap).
 */
export function outputSize(srcWidth: number, srcHeight: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  if (!(srcWidth > 0 && srcHeight > 0)) throw new RangeError(`source size ${srcWidth}x${srcHeight} is not a picture size`);
  const turn = srcHeight > srcWidth && maxWidth > maxHeight;
  const [boxW, boxH] = turn ? [maxHeight, maxWidth] : [maxWidth, maxHeight];
  const scale = Math.min(1, boxW / srcWidth, boxH / srcHeight);
  // rgb24 has no chroma subsampling, but detectors and JPEG encoders prefer even sizes; round
  // down to even so the result never exceeds the maximum.
  const even = (v: number) => Math.max(2, 2 * Math.floor(v / 2 + 1e-9));
  return { width: even(srcWidth * scale), height: even(srcHeight * scale) };
}

/**
 * The frame rate ffmpeg outputs: the cap, or the source rate when that is lower (the fps filter
 * would otherwise duplicate frames to reach the cap). An unknown or absurd source rate (0, NaN,
 * RTSP's 90 kHz clock reported as a rate) leaves the cap.
 */
export function outputFps(fpsLimit: number, sourceFps: number | undefined): number {
  if (sourceFps === undefined || !Number.isFinite(sourceFps) || sourceFps <= 0 || sourceFps > 240) return fpsLimit;
  return Math.min(fpsLimit, sourceFps);
}

/** The options {@link buildFfmpegArgs} needs: a subset of the source config. */
export interface FfmpegArgsOptions {
  url: string;
  /** Output frame rate (already capped, see {@link outputFps}). */
  fps: number;
  /** Output frame size (see {@link outputSize}). */
  width: number;
  height: number;
  rtspTransport?: 'tcp' | 'udp';
  /** Files only: `-re`. */
  realtime?: boolean;
  /** RTSP only: socket timeout. */
  readTimeoutMs?: number;
  /** A still image: its one picture is sent as one frame (the fps filter alone rounds a 40 ms picture at 10 fps to none). */
  still?: boolean;
  /** A still image's EXIF Orientation (1-8): turned upright first (see {@link orientationFilter}); width and height are the upright size. */
  orientation?: number;
  /** Degrees to turn the picture clockwise after the scale (see {@link rotationFilter}); width and height are the turned size. */
  rotate?: number;
  cwd?: string;
}

/** An ffmpeg command line split the way fluent-ffmpeg takes it. */
export interface FfmpegArgs {
  kind: InputKind;
  /** Options before `-i` (global options included: ffmpeg accepts them there). */
  inputOptions: string[];
  /** The `-i` argument (`pipe:0` for RTSP: the URL is in {@link FfmpegArgs.stdin}). */
  input: string;
  /** What ffmpeg reads on stdin: an RTSP source's input list. Holds credentials: never log it. */
  stdin?: string;
  outputOptions: string[];
  /** Always our stdout. */
  output: 'pipe:1';
  /** Bytes of one output frame (width*height*3). */
  frameBytes: number;
  width: number;
  height: number;
  fps: number;
}

/** Formats a frame rate for ffmpeg exactly (29.97 → "2997/100"), avoiding float noise. */
export function fpsArg(fps: number): string {
  if (Number.isInteger(fps)) return String(fps);
  const den = 1000;
  const num = Math.round(fps * den);
  const g = gcd(num, den);
  return `${num / g}/${den / g}`;
}
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The filters that show a picture stored with EXIF Orientation `o` as a viewer shows it
 * (undefined for 1, none or an unknown value). EXIF names the stored picture's turn: 2 mirrored,
 * 3 upside down, 4 flipped, 5 transposed (mirrored across the main diagonal), 6 turned 90° CCW
 * (shown turned 90° clockwise), 7 transversed (the other diagonal), 8 turned 90° CW.
 */
export function orientationFilter(o: number | undefined): string | undefined {
  const filters: Record<number, string> = {
    2: 'hflip', 3: 'hflip,vflip', 4: 'vflip',
    5: 'transpose=cclock_flip', 6: 'transpose=clock', 7: 'transpose=clock_flip', 8: 'transpose=cclock',
  };
  return o === undefined ? undefined : filters[o];
}

/**
 * The filter that turns a picture `deg` degrees clockwise (0, 90, 180 or 270): a camera mounted
 * sideways or upside down. Undefined for 0; throws for other angles.
 */
export function rotationFilter(deg: number | undefined): string | undefined {
  if (!deg) return undefined;
  const filters: Record<number, string> = { 90: 'transpose=clock', 180: 'hflip,vflip', 270: 'transpose=cclock' };
  const f = filters[deg];
  if (!f) throw new RangeError(`rotate must be 0, 90, 180 or 270 degrees, got ${deg}`);
  return f;
}

/** Whether a camera's turn of `deg` degrees (see {@link rotationFilter}) swaps the picture's width and height. */
export const rotationSwapsSides = (deg: number | undefined): boolean => deg === 90 || deg === 270;

/**
 * Builds the ffmpeg argv for one source. Output: only the first video stream, `fps` filter at
 * `fps` (constant rate, so frame i is at media time i*1000/fps ms from the start), scaled to
 * exactly width x height, raw rgb24 on stdout. Throws {@link UnsupportedInputError} for
 * schemes outside the whitelist.
 */
export function buildFfmpegArgs(o: FfmpegArgsOptions): FfmpegArgs {
  const inp = classifyInput(o.url, o.cwd);
  if (!(o.fps > 0)) throw new RangeError(`fps must be > 0, got ${o.fps}`);
  if (!(o.width > 0 && o.height > 0 && o.width % 2 === 0 && o.height % 2 === 0)) {
    throw new RangeError(`output size must be positive and even, got ${o.width}x${o.height}`);
  }
  const inputOptions = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-protocol_whitelist', inp.protocols.join(',')];
  let stdin: string | undefined;
  if (inp.kind === 'rtsp') {
    inputOptions.push(...STDIN_LIST_OPTIONS);
    stdin = rtspInputList(inp.input, o);
  } else if (o.realtime) {
    inputOptions.push('-re');
  }
  // ffmpeg turns rotated video upright before this chain (autorotate, on by default): width and
  // height are the displayed size (see probe's displaySize), and the exact scale squares the pixels.
  // A photo's EXIF orientation: ffmpeg 5.1 turns a JPEG by it (autorotate) but ffprobe does not
  // report it, so the scale filter squeezed the turned picture into the stored size; other formats
  // and versions differ. So autorotate is off for such a photo and the chain starts with the turn.
  const orient = inp.kind === 'file' ? orientationFilter(o.orientation) : undefined;
  if (orient) inputOptions.push('-noautorotate');
  // A camera's turn comes after the scale (fewer pixels to move): a quarter turn scales to the
  // sides swapped, so the turned picture is width x height.
  const turn = rotationFilter(o.rotate);
  const [scaleW, scaleH] = rotationSwapsSides(o.rotate) ? [o.height, o.width] : [o.width, o.height];
  const vf = [
    ...(orient ? [orient] : []),
    `fps=fps=${fpsArg(o.fps)}${o.still ? ':eof_action=pass' : ''}`, `scale=${scaleW}:${scaleH}:flags=bilinear`,
    ...(turn ? [turn] : []), 'format=rgb24',
  ].join(',');
  const outputOptions = [
    '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', vf,
    '-pix_fmt', 'rgb24', '-f', 'rawvideo',
  ];
  return {
    kind: inp.kind, inputOptions, input: stdin === undefined ? inp.input : 'pipe:0', ...(stdin === undefined ? {} : { stdin }), outputOptions, output: 'pipe:1',
    frameBytes: o.width * o.height * 3, width: o.width, height: o.height, fps: o.fps,
  };
}

/** The whole argv (without the program name), as ffmpeg receives it. */
export function toArgv(a: FfmpegArgs): string[] {
  return [...a.inputOptions, '-i', a.input, ...a.outputOptions, a.output];
}

/** ffprobe of a source (through fluent-ffmpeg): picture size as displayed, frame rate, duration. */
import { promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { redactText, redactUrl, urlSecrets } from '@emostream/runtime';
import { STDIN_LIST_OPTIONS, classifyInput, filePathOf, rtspInputList } from './ffmpegArgs.js';

/** What ingest needs to know about a source before decoding it. */
export interface ProbeResult {
  hasVideo: boolean;
  /** Picture size as a player shows it: non-square pixels made square, rotation applied (see {@link displaySize}). */
  width: number;
  height: number;
  /** Size of the pictures in the stream (before the pixel aspect and the rotation); absent: as displayed. */
  codedWidth?: number;
  codedHeight?: number;
  /** Display rotation, degrees counter-clockwise (the stream's display matrix), one of 0, 90, 180, 270; ffmpeg applies it when decoding. */
  rotation?: number;
  /** Pixel aspect ratio (sample aspect ratio, width over height of one pixel); 1 when square or unknown. */
  sampleAspect?: number;
  /** A still image (jpg, png, …): one picture, decoded as one frame. */
  still?: boolean;
  /**
   * A still image's EXIF Orientation (1-8; absent or 1: stored upright), read with sharp (ffprobe
   * does not report it) and applied by ingest's own filters (see ffmpegArgs' orientationFilter);
   * `width` and `height` are already the turned picture's (swapped for 5-8).
   */
  orientation?: number;
  /** Frames per second of the video stream; undefined when ffprobe does not know. */
  fps: number | undefined;
  /** Duration in ms; undefined for live streams and files without one. */
  durationMs: number | undefined;
  /** Codec of the video stream (h264, hevc, …). */
  codec: string | undefined;
}

/** Options of {@link probeSource}. */
export interface ProbeOptions {
  rtspTransport?: 'tcp' | 'udp';
  /** RTSP socket timeout. */
  readTimeoutMs?: number;
  cwd?: string;
}

/** The probe function frameSource uses (injectable; tests may answer synchronously, for virtual time). */
export type ProbeFn = (url: string, opts?: ProbeOptions) => Promise<ProbeResult> | ProbeResult;

/** A source that cannot be decoded as video: missing, unreadable, or without a video stream. */
export class SourceProbeError extends Error {
  constructor(message: string, readonly retriable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceProbeError';
  }
}

/** Demuxers and codecs that render text as pictures; a text file must not pass for a video. */
const TEXT_DEMUXERS = new Set(['tty', 'bin', 'xbin', 'adf', 'idf']);
const TEXT_CODECS = new Set(['ansi', 'bintext', 'xbin', 'idf']);

/** Parses "30000/1001" or "29.97"; undefined for 0/0 and garbage. */
export function parseRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const [n, d] = rate.split('/').map(Number);
  const v = d === undefined ? n : n / d;
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** Parses a sample aspect ratio "4:3"; 1 for "0:1", "N/A" and garbage. */
export function parseSampleAspect(sar: string | undefined): number {
  const m = /^(\d+):(\d+)$/.exec(sar ?? '');
  const v = m ? Number(m[1]) / Number(m[2]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : 1;
}

/** A display matrix rotation (ffprobe's `rotation`, degrees, may be negative) as 0, 90, 180 or 270; another angle counts as 0. */
export function normalizeRotation(deg: unknown): number {
  const d = Number(deg);
  if (!Number.isFinite(d)) return 0;
  const r = ((Math.round(d) % 360) + 360) % 360;
  return r % 90 === 0 ? r : 0;
}

/**
 * The size ffmpeg's decoded pictures have once it has applied what a player applies: a pixel
 * aspect other than 1 (anamorphic video) widens the picture to square pixels, and a rotation of
 * 90 or 270 degrees (phones record portrait video as landscape pictures plus a display matrix)
 * swaps width and height. ffmpeg turns the pictures itself (its autorotate, on by default; the
 * rotate filter keeps the size for other angles); the scale filter then sets this aspect.
 */
export function displaySize(codedWidth: number, codedHeight: number, sampleAspect = 1, rotation = 0): { width: number; height: number } {
  const w = Math.max(1, Math.round(codedWidth * sampleAspect));
  return rotation === 90 || rotation === 270 ? { width: codedHeight, height: w } : { width: w, height: codedHeight };
}

/**
 * The EXIF Orientation of a still image (1-8, as sharp reads it from JPEG, PNG, WebP, TIFF, HEIF);
 * 1 when it has none, or sharp cannot read the file (ffmpeg may still decode it, as it is stored).
 */
export async function exifOrientation(file: string): Promise<number> {
  try {
    const sharp = (await import('sharp')).default;
    const o = (await sharp(file).metadata()).orientation;
    return o !== undefined && Number.isInteger(o) && o >= 1 && o <= 8 ? o : 1;
  } catch {
    return 1;
  }
}

/** Whether an EXIF orientation turns the picture a quarter (5-8: width and height swap). */
export const orientationSwapsSides = (orientation: number): boolean => orientation >= 5 && orientation <= 8;

/** Whether a file starts as an MP4/MOV does (its first box one of theirs): random bytes named .mp4 do not. */
async function startsWithMp4Box(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(8), 0, 8, 0);
    return bytesRead === 8 && ['ftyp', 'mdat', 'moov', 'free', 'skip', 'wide', 'pnot'].includes(buffer.toString('latin1', 4, 8));
  } catch {
    return false;
  } finally {
    await fh.close();
  }
}

/** Demuxers of single pictures (image2 for files named .jpg/.png/…, *_pipe when probed by content). */
const isImageDemuxer = (name: string) => name === 'image2' || /^[a-z0-9]+_pipe$/.test(name);

/**
 * Probes a file or RTSP URL. Errors name the (redacted) input and say what to do: a missing
 * path, a file that is not a video, a file with no video stream, an unreachable camera
 * (the latter is `retriable`).
 */
export async function probeSource(url: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const inp = classifyInput(url, opts.cwd);
  const shown = redactUrl(url);
  const options = ['-hide_banner', '-protocol_whitelist', inp.protocols.join(',')];
  let mp4Boxes = false;
  if (inp.kind === 'file') {
    const p = filePathOf(inp);
    let st;
    try {
      st = await fs.stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SourceProbeError(code === 'ENOENT'
        ? `video file not found: ${p}; check the path (relative paths are resolved from ${opts.cwd ?? process.cwd()})`
        : `cannot read video file ${p} (${code}); check that the path exists and is readable`, false, { cause: e });
    }
    if (!st.isFile()) throw new SourceProbeError(`${p} is not a file; pass a video file or an rtsp:// URL`, false);
    if (st.size === 0) throw new SourceProbeError(`${p} is empty (0 bytes), as a copy or download that never finished leaves it; pass the complete video file`, false);
    mp4Boxes = await startsWithMp4Box(p);
  } else {
    // The URL goes to ffprobe on stdin, never on its command line (see rtspInputList).
    options.push(...STDIN_LIST_OPTIONS);
  }
  const source: string | Readable = inp.kind === 'rtsp' ? Readable.from([rtspInputList(inp.input, opts)]) : inp.input;
  const secrets = urlSecrets(url);
  const data = await new Promise<ffmpeg.FfprobeData>((resolve, reject) => {
    // fluent-ffmpeg takes a stream as input (ffprobe then reads pipe:0); its types say string only.
    ffmpeg.ffprobe(source as string, options, (err, d) => {
      if (err) {
        // fluent-ffmpeg appends ffprobe's stderr, which repeats the URL with its password.
        const lines = redactText(String((err as Error).message ?? err), secrets)
          .split('\n').map((l) => l.trim()).filter((l) => l && !/^ffprobe exited with code/.test(l));
        const detail = lines[lines.length - 1] ?? 'ffprobe failed';
        reject(inp.kind === 'file'
          ? new SourceProbeError(mp4Boxes && lines.some((l) => /moov atom not found/.test(l))
            // An MP4/MOV whose recording or download stopped before its index was written.
            ? `${shown} is an incomplete MP4/MOV file: its index (the moov atom) is missing, as when a recording or download stops before the end, and ffmpeg cannot read it without one; copy or download it again, or rebuild the index with a repair tool (e.g. untrunc, given a good clip from the same camera)`
            : `${shown} is not a readable video (ffprobe: ${detail}); pass a video file (mp4, mkv, mov, …) that ffmpeg can open`, false)
          : new SourceProbeError(`cannot open ${shown} (ffprobe: ${detail}); check that the camera is reachable and the URL, credentials and rtspTransport are right`, true));
      } else resolve(d);
    });
  });
  // ffmpeg opens any text file as "tty" ANSI art with a 640x400 video stream: not a camera.
  const textArt = TEXT_DEMUXERS.has(String(data.format?.format_name ?? ''));
  // Cover art (a picture attached to an audio file) is a "video" stream of no frames: not video.
  const coverArt = (s: ffmpeg.FfprobeStream) => s.codec_type === 'video' && Number(s.disposition?.attached_pic) === 1;
  const v = textArt ? undefined : data.streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0 && (s.height ?? 0) > 0 && !TEXT_CODECS.has(String(s.codec_name)) && !coverArt(s));
  if (textArt) {
    throw new SourceProbeError(`${shown} is not a readable video (ffmpeg sees a text file); pass a video file (mp4, mkv, mov, …) that ffmpeg can open`, false);
  }
  if (!v) {
    const kinds = data.streams.map((s) => (coverArt(s) ? 'cover art' : s.codec_type));
    throw new SourceProbeError(`${shown} has no video stream (streams: ${kinds.join(', ') || 'none'}); pass a file or camera with video`, false);
  }
  // Matroska/WebM give no duration per stream ("N/A"): the container's then.
  const dur = [v.duration, data.format?.duration].map(Number).find((d) => Number.isFinite(d) && d > 0);
  // fluent-ffmpeg flattens the display matrix side data into `rotation`; older ffmpegs also tag `rotate`.
  const rotation = normalizeRotation(v.rotation ?? v.tags?.rotate);
  const sampleAspect = parseSampleAspect(v.sample_aspect_ratio);
  // A one-picture video too: the fps filter would round its 33 ms to no frame at 10 fps.
  const still = inp.kind === 'file' && (isImageDemuxer(String(data.format?.format_name ?? '')) || String(v.nb_frames) === '1');
  // A photo's EXIF orientation (phones store the sensor's landscape picture plus this tag); a
  // display matrix, where a picture has one, is ffmpeg's to apply and wins.
  const orientation = still && rotation === 0 ? await exifOrientation(filePathOf(inp)) : 1;
  const stored = displaySize(v.width!, v.height!, sampleAspect, rotation);
  const shownSize = orientationSwapsSides(orientation) ? { width: stored.height, height: stored.width } : stored;
  return {
    hasVideo: true,
    ...shownSize,
    codedWidth: v.width!,
    codedHeight: v.height!,
    rotation,
    sampleAspect,
    still,
    ...(orientation !== 1 ? { orientation } : {}),
    fps: parseRate(v.avg_frame_rate) ?? parseRate(v.r_frame_rate),
    durationMs: inp.kind === 'file' && dur !== undefined ? dur * 1000 : undefined,
    codec: v.codec_name,
  };
}

/** ffprobe of a source (through fluent-ffmpeg): picture size, frame rate, duration. */
import { promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { redactText, redactUrl, urlSecrets } from '@emostream/runtime';
import { STDIN_LIST_OPTIONS, classifyInput, filePathOf, rtspInputList } from './ffmpegArgs.js';

/** What ingest needs to know about a source before decoding it. */
export interface ProbeResult {
  hasVideo: boolean;
  width: number;
  height: number;
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

/**
 * Probes a file or RTSP URL. Errors name the (redacted) input and say what to do: a missing
 * path, a file that is not a video, a file with no video stream, an unreachable camera
 * (the latter is `retriable`).
 */
export async function probeSource(url: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const inp = classifyInput(url, opts.cwd);
  const shown = redactUrl(url);
  const options = ['-hide_banner', '-protocol_whitelist', inp.protocols.join(',')];
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
        const detail = redactText(String((err as Error).message ?? err), secrets)
          .split('\n').map((l) => l.trim()).filter((l) => l && !/^ffprobe exited with code/.test(l)).pop() ?? 'ffprobe failed';
        reject(inp.kind === 'file'
          ? new SourceProbeError(`${shown} is not a readable video (ffprobe: ${detail}); pass a video file (mp4, mkv, mov, …) that ffmpeg can open`, false)
          : new SourceProbeError(`cannot open ${shown} (ffprobe: ${detail}); check that the camera is reachable and the URL, credentials and rtspTransport are right`, true));
      } else resolve(d);
    });
  });
  // ffmpeg opens any text file as "tty" ANSI art with a 640x400 video stream: not a camera.
  const textArt = TEXT_DEMUXERS.has(String(data.format?.format_name ?? ''));
  const v = textArt ? undefined : data.streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0 && (s.height ?? 0) > 0 && !TEXT_CODECS.has(String(s.codec_name)));
  if (textArt) {
    throw new SourceProbeError(`${shown} is not a readable video (ffmpeg sees a text file); pass a video file (mp4, mkv, mov, …) that ffmpeg can open`, false);
  }
  if (!v) {
    throw new SourceProbeError(`${shown} has no video stream (streams: ${data.streams.map((s) => s.codec_type).join(', ') || 'none'}); pass a file or camera with video`, false);
  }
  const dur = Number(v.duration ?? data.format?.duration);
  return {
    hasVideo: true,
    width: v.width!,
    height: v.height!,
    fps: parseRate(v.avg_frame_rate) ?? parseRate(v.r_frame_rate),
    durationMs: inp.kind === 'file' && Number.isFinite(dur) && dur > 0 ? dur * 1000 : undefined,
    codec: v.codec_name,
  };
}

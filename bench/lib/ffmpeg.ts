/**
 * The benchmark's one module that spawns ffmpeg (the product's own decoding goes through
 * @emostream/ingest): making the test clips, decoding alone for the upper limit, reading raw
 * frames for the Human loop, and encoding rendered scenes.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { once } from 'node:events';

/** Runs ffmpeg to completion; rejects with the last lines of its stderr. */
export function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-2000); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} failed (${code}): ${err.trim()}`))));
  });
}

/** Size, rate, frame count and duration of a video's first stream (ffprobe). */
export function probe(file: string): { width: number; height: number; fps: number; frames: number; durationMs: number } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets',
    '-show_entries', 'stream=width,height,r_frame_rate,nb_read_packets:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  const j = JSON.parse(out) as { streams: Array<{ width: number; height: number; r_frame_rate: string; nb_read_packets: string }>; format: { duration: string } };
  const s = j.streams[0];
  const [num, den] = s.r_frame_rate.split('/').map(Number);
  return { width: s.width, height: s.height, fps: num / (den || 1), frames: Number(s.nb_read_packets), durationMs: Number(j.format.duration) * 1000 };
}

/** The ffmpeg version line's number ("5.1.9-0+deb12u1"). */
export function ffmpegVersion(): string {
  const line = execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0];
  return /ffmpeg version (\S+)/.exec(line)?.[1] ?? line;
}

/**
 * A benchmark clip from a source video: scaled to exactly width x height with square pixels,
 * resampled to `fps`, played `loops` times in a row, H.264 (yuv420p, no B-frames so the RTSP test
 * server can stream it), no audio. Encoded once per run into a temp folder; never committed.
 * Square pixels as a camera's: without `setsar=1`, ffmpeg keeps the source's shape (woman2 is
 * 149:84, not 16:9) in a sample aspect ratio of 447:448, which shows the 1280x720 clip as
 * 1276x720, so every program reading it resampled every frame to 1276 px (before Session 33).
 */
export async function makeClip(src: string, out: string, o: { width: number; height: number; fps: number; loops?: number; maxSeconds?: number }): Promise<void> {
  await ffmpeg([
    '-stream_loop', String((o.loops ?? 1) - 1), '-i', src,
    ...(o.maxSeconds ? ['-t', String(o.maxSeconds)] : []),
    '-an', '-vf', `scale=${o.width}:${o.height}:flags=bicubic,setsar=1,fps=${o.fps}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-bf', '0', '-g', String(o.fps * 2), '-pix_fmt', 'yuv420p', out,
  ]);
}

/** One cell of {@link makeGroupClip}: where its picture starts in the source, the source region shown, mirrored or not. */
export interface GroupCell {
  startS: number;
  crop: { x: number; y: number; width: number; height: number };
  mirror?: boolean;
}

/**
 * A "group" clip: `cols` x `rows` cells side by side (ffmpeg's xstack), each a region of the
 * looped source from its own start time (and mirrored or not), scaled to the cell, so that every
 * frame holds one face per cell that moves on its own. Encoded like {@link makeClip}, once per run
 * into a temp folder; never committed.
 */
export async function makeGroupClip(src: string, out: string, o: { cols: number; rows: number; width: number; height: number; fps: number; seconds: number; cells: GroupCell[] }): Promise<void> {
  if (o.cells.length !== o.cols * o.rows) throw new Error(`makeGroupClip: ${o.cols}x${o.rows} needs ${o.cols * o.rows} cells, got ${o.cells.length}`);
  const cw = 2 * Math.floor(o.width / o.cols / 2);
  const ch = 2 * Math.floor(o.height / o.rows / 2);
  const chains = o.cells.map((c, i) => `[${i}:v]crop=${c.crop.width}:${c.crop.height}:${c.crop.x}:${c.crop.y},scale=${cw}:${ch}:flags=bicubic,${c.mirror ? 'hflip,' : ''}setsar=1,fps=${o.fps}[c${i}]`);
  const layout = o.cells.map((_, i) => `${(i % o.cols) * cw}_${Math.floor(i / o.cols) * ch}`).join('|');
  await ffmpeg([
    ...o.cells.flatMap((c) => ['-stream_loop', '-1', '-ss', String(c.startS), '-i', src]),
    '-filter_complex', `${chains.join(';')};${o.cells.map((_, i) => `[c${i}]`).join('')}xstack=inputs=${o.cells.length}:layout=${layout},pad=${o.width}:${o.height}:(ow-iw)/2:(oh-ih)/2[v]`,
    '-map', '[v]', '-t', String(o.seconds), '-an',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-bf', '0', '-g', String(o.fps * 2), '-pix_fmt', 'yuv420p', out,
  ]);
}

/** The same clip repeated `loops` times without re-encoding (a long soak input in seconds). */
export async function loopClip(src: string, out: string, loops: number): Promise<void> {
  await ffmpeg(['-stream_loop', String(loops - 1), '-i', src, '-an', '-c', 'copy', out]);
}

/** The filter chain ingest uses (fps, scale, rgb24), so decode-only does the same work. */
function ingestFilter(o: { width: number; height: number; fps: number }): string {
  return `fps=fps=${o.fps},scale=${o.width}:${o.height}:flags=bilinear,format=rgb24`;
}

/**
 * ffmpeg decoding alone, as ingest runs it (fps filter, scale, raw RGB), written to /dev/null:
 * the upper limit of any pipeline fed by it. Returns frames and wall time.
 */
export async function decodeOnly(file: string, o: { width: number; height: number; fps: number; frames: number }): Promise<{ frames: number; wallMs: number }> {
  const t0 = performance.now();
  await ffmpeg(['-i', file, '-map', '0:v:0', '-an', '-vf', ingestFilter(o), '-pix_fmt', 'rgb24', '-f', 'rawvideo', '/dev/null']);
  return { frames: o.frames, wallMs: performance.now() - t0 };
}

/**
 * Raw RGB frames of a file, decoded as ingest decodes them, one at a time: ffmpeg is paused
 * (its pipe fills) while the consumer works, as in the pipeline.
 */
export async function* rawFrames(file: string, o: { width: number; height: number; fps: number }): AsyncGenerator<Buffer> {
  const size = o.width * o.height * 3;
  const p = spawn('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-an',
    '-vf', ingestFilter(o), '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let pending: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of p.stdout as AsyncIterable<Buffer>) {
      pending.push(chunk);
      have += chunk.length;
      while (have >= size) {
        const all = Buffer.concat(pending);
        yield all.subarray(0, size);
        const rest = all.subarray(size);
        pending = rest.length ? [rest] : [];
        have = rest.length;
      }
    }
  } finally {
    if (p.exitCode === null) p.kill('SIGKILL');
  }
}

/** An H.264 encoder fed raw RGB frames on stdin (the scene renderer's output). */
export function rawEncoder(out: string, o: { width: number; height: number; fps: number }): { write(frame: Buffer): Promise<void>; end(): Promise<void> } {
  const p = spawn('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-r', String(o.fps), '-i', 'pipe:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-bf', '0', '-pix_fmt', 'yuv420p', out], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-2000); });
  const exited = once(p, 'exit') as Promise<[number | null]>;
  return {
    async write(frame) {
      if (!p.stdin.write(frame)) await once(p.stdin, 'drain');
    },
    async end() {
      p.stdin.end();
      const [code] = await exited;
      if (code !== 0) throw new Error(`ffmpeg could not encode ${out} (${code}): ${err.trim()}`);
      if (!fs.existsSync(out)) throw new Error(`ffmpeg wrote no ${out}`);
    },
  };
}

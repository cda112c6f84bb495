/**
 * Integration: the video files users have, made on the spot with real ffmpeg from its test
 * pattern (no face media on disk): phone clips with a rotation, anamorphic pixels, portrait
 * video, still images, damaged and incomplete files. Each decoded frame is compared with what a
 * separate ffmpeg run makes of the same file with the transform written out by hand.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import type { Frame } from '@emostream/contracts';
import { createLogger } from '@emostream/runtime';
import { createIngestStats, frameSource, IngestError, probeSource, type SourceConfigInput } from '@emostream/ingest';

let tmp = '';
before(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'ingest-inputs-')); });
after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

const ffmpeg = (args: string[]) => execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 256 << 20 });

/**
 * A 1 s clip of ffmpeg's test pattern (asymmetric: any turn or flip shows), 10 fps, H.264;
 * `remux`: output options of a second, stream-copying pass (a rotation is written only there).
 */
function clip(name: string, o: { size?: string; vf?: string; remux?: string[] } = {}): string {
  const file = path.join(tmp, name);
  const encoded = o.remux ? path.join(tmp, `enc-${name}`) : file;
  ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '320x180'}:rate=10`, '-t', '1', ...(o.vf ? ['-vf', o.vf] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', encoded]);
  if (o.remux) ffmpeg(['-i', encoded, '-c', 'copy', ...o.remux, file]);
  return file;
}

/** RGB24 frames of `file` as a separate ffmpeg makes them: `vf` after the fps filter, no autorotate unless asked. */
function reference(file: string, fps: number, vf: string, input: string[] = ['-noautorotate']): Buffer {
  return ffmpeg([...input, '-i', file, '-map', '0:v:0', '-vf', `fps=fps=${fps},${vf}format=rgb24`, '-f', 'rawvideo', 'pipe:1']);
}

async function decode(url: string, cfg: Omit<SourceConfigInput, 'url'> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const stats = createIngestStats();
  const frames = await lastValueFrom(frameSource({ url, fpsLimit: 5, ...cfg }, { logger, stats }).pipe(toArray()));
  return { frames, lines, stats };
}

/** Mean absolute difference per byte of two equally long buffers. */
function meanDiff(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length, 'same size');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

const allPixels = (frames: Frame[]) => Buffer.concat(frames.map((f) => f.pixels.data));

// ffprobe's rotation is the display matrix's: degrees counter-clockwise. The muxer's `rotate` tag
// is written as that matrix; the transform a player applies to the coded pictures is the inverse.
const TURNS: Record<string, string> = { '90': 'transpose=cclock,', '180': 'hflip,vflip,', '270': 'transpose=clock,' };

for (const [tag, rotation] of [['90', '90'], ['180', '180'], ['270', '270'], ['-90', '270']] as const) {
  test(`a phone clip with rotate=${tag}: frames upright, sized as displayed`, { timeout: 30_000 }, async () => {
    const file = clip(`rot${tag}.mp4`, { remux: ['-metadata:s:v:0', `rotate=${tag}`] });
    const probed = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream_side_data=rotation', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim();
    assert.ok(probed !== '', `ffprobe sees a display matrix (${probed})`);
    const { frames } = await decode(file);
    const quarter = rotation !== '180';
    assert.equal(frames.length, 5);
    for (const f of frames) assert.deepEqual([f.width, f.height], quarter ? [180, 320] : [320, 180]);
    const got = allPixels(frames);
    assert.ok(meanDiff(got, reference(file, 5, TURNS[rotation])) < 2, 'the display matrix\'s turn, applied by hand, gives the same pictures');
    // The test can tell the turns apart: the other turn of the same size is far off.
    const other = rotation === '90' ? '270' : rotation === '270' ? '90' : undefined;
    if (other) assert.ok(meanDiff(got, reference(file, 5, TURNS[other])) > 20);
    else assert.ok(meanDiff(got, reference(file, 5, '')) > 20);
  });
}

test('anamorphic video (4:3 pixels): widened to square pixels, as a player shows it', { timeout: 30_000 }, async () => {
  // 240 coded columns of 4:3 pixels show as 320: the pattern squeezed, then marked so.
  const file = clip('sar43.mp4', { vf: 'scale=240:180,setsar=4/3' });
  const { frames } = await decode(file);
  assert.equal(frames.length, 5);
  for (const f of frames) assert.deepEqual([f.width, f.height], [320, 180]);
  // Close to the unsqueezed pattern itself (only the squeeze and the encoding lost detail).
  const pattern = ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10', '-t', '1', '-vf', 'fps=fps=5,format=rgb24', '-f', 'rawvideo', 'pipe:1']);
  const d = meanDiff(allPixels(frames), pattern);
  assert.ok(d < 12, `mean difference to the pattern ${d.toFixed(1)}`);
  assert.ok(meanDiff(allPixels(frames), reference(file, 5, 'scale=320:180,hflip,')) > 2 * d, 'a flipped picture is further off');
});

test('portrait video: the size box is turned (720x1280 for a 1080x1920 phone clip, here 90x160)', { timeout: 30_000 }, async () => {
  const file = clip('portrait.mp4', { size: '180x320' });
  const { frames } = await decode(file, { maxWidth: 160, maxHeight: 90 });
  assert.equal(frames.length, 5);
  for (const f of frames) assert.deepEqual([f.width, f.height], [90, 160]);
  // A landscape clip still fits the box as given.
  const wide = await decode(clip('wide.mp4'), { maxWidth: 160, maxHeight: 90 });
  assert.deepEqual([wide.frames[0].width, wide.frames[0].height], [160, 90]);
});

for (const ext of ['png', 'jpg']) {
  test(`a still image (${ext}): one frame, the picture itself`, { timeout: 30_000 }, async () => {
    const file = path.join(tmp, `still.${ext}`);
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180', '-frames:v', '1', file]);
    const { frames } = await decode(file, { fpsLimit: 10 });
    assert.equal(frames.length, 1);
    assert.deepEqual([frames[0].width, frames[0].height, frames[0].mediaTimeMs], [320, 180, 0]);
    const picture = ffmpeg(['-i', file, '-vf', 'format=rgb24', '-f', 'rawvideo', 'pipe:1']);
    assert.ok(meanDiff(frames[0].pixels.data, picture) < 2);
  });
}

/** The error a file source ends with (it must be an IngestError naming the file). */
async function failure(url: string): Promise<string> {
  const e = await decode(url).then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof IngestError, `an IngestError, got ${String(e)}`);
  assert.ok(e.message.includes(url), 'the message names the file');
  return e.message;
}

test('an empty file: says it is empty', async () => {
  const file = path.join(tmp, 'empty.mp4');
  writeFileSync(file, '');
  assert.match(await failure(file), /is empty \(0 bytes\).*pass the complete video file/);
});

test('an MP4 cut before its index was written: says it is incomplete, and what to do', { timeout: 30_000 }, async () => {
  // ffmpeg writes the index (moov) at the end: half the file has none.
  const whole = readFileSync(clip('moov-at-end.mp4'));
  const file = path.join(tmp, 'cut-before-moov.mp4');
  writeFileSync(file, whole.subarray(0, whole.length >> 1));
  assert.match(await failure(file), /is an incomplete MP4\/MOV file: its index \(the moov atom\) is missing.*copy or download it again/);
  // Random bytes named .mp4 (ffprobe says "moov atom not found" too) are not called an incomplete MP4.
  const noise = path.join(tmp, 'noise.mp4');
  writeFileSync(noise, Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919 + (i >> 8)) & 255)));
  assert.match(await failure(noise), /noise\.mp4 is not a readable video \(ffprobe: .*\); pass a video file/);
});

test('audio with cover art: no video stream (the picture is not a video)', { timeout: 30_000 }, async () => {
  const art = path.join(tmp, 'art.png');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180', '-frames:v', '1', art]);
  const file = path.join(tmp, 'song.m4a');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=1', '-i', art, '-map', '0', '-map', '1', '-c:a', 'aac', '-c:v', 'png', '-disposition:v:0', 'attached_pic', file]);
  assert.match(await failure(file), /has no video stream \(streams: audio, cover art\); pass a file or camera with video/);
});

test('WebM and Matroska: the duration comes from the container (analyze shows progress and an ETA)', { timeout: 30_000 }, async () => {
  const mp4 = clip('for-mkv.mp4');
  for (const ext of ['mkv', 'webm']) {
    const file = path.join(tmp, `clip.${ext}`);
    ffmpeg(['-i', mp4, ...(ext === 'webm' ? ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'] : ['-c', 'copy']), file]);
    const p = await probeSource(file);
    assert.ok(p.durationMs !== undefined && Math.abs(p.durationMs - 1000) < 100, `${ext}: ${p.durationMs} ms`);
    assert.equal((await decode(file)).frames.length, 5);
  }
});

test('a one-picture video: one frame (the fps filter alone rounds its 100 ms at 5 fps to none)', { timeout: 30_000 }, async () => {
  const file = path.join(tmp, 'one.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-frames:v', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file]);
  const { frames } = await decode(file);
  assert.equal(frames.length, 1);
});

test('damaged bytes mid-file: every frame of the timeline, the decode errors counted, a warning that says damaged (not cut)', { timeout: 30_000 }, async () => {
  const file = path.join(tmp, 'damaged.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '20', '-movflags', '+faststart', file]);
  const bytes = readFileSync(file);
  // 8 KB of fixed garbage (an LCG) in the middle of the picture data.
  let x = 12345;
  for (let i = bytes.length >> 1, end = i + 8192; i < end; i++) { x = (x * 1103515245 + 12345) >>> 0; bytes[i] = x >>> 24; }
  writeFileSync(file, bytes);
  const { frames, lines, stats } = await decode(file);
  assert.equal(frames.length, 20, 'the whole 4 s at 5 fps');
  assert.deepEqual(frames.map((f) => f.seq), frames.map((_, i) => i));
  assert.ok(stats.decodeErrors > 0, 'decode errors counted');
  const warn = lines.map((l) => JSON.parse(l) as { level: string; msg: string; decodeErrors?: number }).find((l) => /decoded with errors/.test(l.msg));
  assert.ok(warn && warn.level === 'warn', 'a warning says the file was damaged');
  assert.equal(warn.decodeErrors, stats.decodeErrors);
  assert.ok(!lines.some((l) => /ended early/.test(l)), 'not called truncated');
});

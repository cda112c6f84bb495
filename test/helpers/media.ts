/** Facts about the sample media, computed by tools of their own (not by the code under test). */
import { execFileSync } from 'node:child_process';

const frameCounts = new Map<string, number>();

/**
 * How many frames ffmpeg's `fps` filter makes of a file's first video stream at `fps` into raw
 * video (constant rate from media time 0): what ingest decodes from it (frameSource runs the same
 * filter into the same muxer), counted by a separate ffmpeg run. E.g. short_hamilton_clip.mp4
 * (its video track starts at 0.85 s and ends at 10.03 s) at 4 fps: 40.
 */
export function framesAt(file: string, fps: number): number {
  const key = `${file}@${fps}`;
  const known = frameCounts.get(key);
  if (known !== undefined) return known;
  const out = execFileSync('ffmpeg', [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', `fps=fps=${fps}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-y', '/dev/null', '-progress', 'pipe:1',
  ], { encoding: 'utf8' });
  const last = [...out.matchAll(/^frame=(\d+)$/gm)].pop();
  if (!last) throw new Error(`ffmpeg reported no frame count for ${file} at ${fps} fps: ${out.slice(-500)}`);
  const n = Number(last[1]);
  frameCounts.set(key, n);
  return n;
}

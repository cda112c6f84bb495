/** Option parsers shared by the CLI's commands: bad values fail with the valid range. */
import { InvalidArgumentError } from 'commander';
import { parseRotation } from '@emostream/ingest';

/** An integer option within [min, max]. */
export function intOption(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${v}'`);
    return n;
  };
}

/** A number option within [min, max]. */
export function numberOption(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, got '${v}'`);
    return n;
  };
}

/** `--rotate <deg>`: a camera's turn, 0, 90, 180 or 270 degrees clockwise. */
export function rotateOption(v: string): number {
  const n = parseRotation(v);
  if (n === undefined) {
    throw new InvalidArgumentError(`--rotate takes the degrees to turn each frame clockwise: 0, 90, 180 or 270 (a camera mounted upside down: 180); got '${v}'`);
  }
  return n;
}

/** `--video-face-px min,max`: a face height range in frame pixels, 8 ≤ min < max ≤ 400. */
export function facePxOption(v: string): [number, number] {
  const m = /^(\d+),(\d+)$/.exec(v.trim());
  const range = m ? [Number(m[1]), Number(m[2])] as [number, number] : undefined;
  if (!range || range[0] < 8 || range[1] > 400 || range[0] >= range[1]) {
    throw new InvalidArgumentError(`--video-face-px takes min,max face heights in frame pixels with 8 <= min < max <= 400, e.g. 24,80; got '${v}'`);
  }
  return range;
}

/** `--filters a,b,c,d`: the four conv blocks' filters, each a whole number from 1 to 512. */
export function filtersOption(v: string): [number, number, number, number] {
  const m = /^(\d+),(\d+),(\d+),(\d+)$/.exec(v.trim());
  const filters = m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] as [number, number, number, number] : undefined;
  if (!filters || filters.some((f) => f < 1 || f > 512)) {
    throw new InvalidArgumentError(`--filters takes the four conv blocks' filters, each from 1 to 512, e.g. 24,48,96,192; got '${v}'`);
  }
  return filters;
}

/** `auto` or a number within [min, max]. */
export function autoOrNumberOption(name: string, min: number, max: number) {
  return (v: string): 'auto' | number => {
    if (v === 'auto') return 'auto';
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be auto or a number from ${min} to ${max}, got '${v}'`);
    return n;
  };
}

/** `a=b,c=d` → { a: 'b', c: 'd' }. */
export function parseLabelMap(v: string | undefined): Record<string, string> {
  if (!v) return {};
  const out: Record<string, string> = {};
  for (const pair of v.split(',')) {
    const [k, val] = pair.split('=').map((s) => s.trim());
    if (!k || !val) throw new InvalidArgumentError(`--label-map expects name=emotion pairs separated by commas, got '${pair}'`);
    out[k.toLowerCase()] = val;
  }
  return out;
}

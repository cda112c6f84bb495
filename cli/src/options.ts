/** Option parsers shared by the CLI's commands: bad values fail with the valid range. */
import { InvalidArgumentError } from 'commander';

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

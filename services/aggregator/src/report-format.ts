/** What every picture and table of the run report shares: colours, escaping, times and axis ticks. */
import type { EmotionState } from '@emostream/contracts';

/** The colour of each emotion in every picture (distinct in hue and lightness). */
export const EMOTION_COLORS: Record<EmotionState, string> = {
  angry: '#d62728',
  disgust: '#6b8e23',
  fear: '#8e63b5',
  happy: '#f2b701',
  neutral: '#a5a5a5',
  sad: '#1f77b4',
  surprise: '#ff7f0e',
  uncertain: '#e6e6e6',
};

/** Escapes a string for HTML text and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A media time as the report shows it: clock time (UTC) for a live source, seconds for a file. */
export const at = (ms: number, clockStartMs?: number) => (clockStartMs === undefined ? seconds(ms) : new Date(clockStartMs + ms).toISOString().slice(11, 19));

/** Segment fill opacity: the band's shade says how confident the model was (0.25 at 0 … 1 at 1). */
export const shade = (confidence: number) => (0.25 + 0.75 * Math.min(1, Math.max(0, confidence))).toFixed(2);

/** The 1-2-5 series of steps (ms) that ticks and time buckets are chosen from. */
const NICE_STEPS_MS = [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];

/** The smallest nice step giving at most `count` steps over `spanMs`, in ms (whole hours past the series). */
export function niceStepMs(spanMs: number, count: number): number {
  return NICE_STEPS_MS.find((s) => spanMs / s <= count) ?? Math.ceil(spanMs / count / 3_600_000) * 3_600_000;
}

/** A tick step giving at most ~10 ticks over `spanMs`, in ms. */
export const tickStepMs = (spanMs: number) => niceStepMs(spanMs, 10);

/** An axis label: clock time (hh:mm:ss, or hh:mm for steps of a minute and more) or seconds. */
export function tickLabel(ms: number, stepMs: number, clockStartMs?: number): string {
  if (clockStartMs !== undefined) return at(ms, clockStartMs).slice(0, stepMs < 60_000 ? 8 : 5);
  const s = ms / 1000;
  // Number() drops a trailing ".0": 0 s, 0.5 s, 1 s…
  return stepMs < 1000 ? `${Number(s.toFixed(1))} s` : `${Math.round(s)} s`;
}

/** Tick marks and labels under a plot from `left` to `left + plotW` at height `bottom`, over 0…`end` ms. */
export function timeTicks(end: number, left: number, plotW: number, bottom: number, clockStartMs?: number): string {
  const x = (ms: number) => left + (Math.min(Math.max(ms, 0), end) / end) * plotW;
  const step = tickStepMs(end);
  const parts: string[] = [];
  for (let t = 0; t <= end + 1e-6; t += step) {
    const tx = x(t).toFixed(2);
    parts.push(`<line x1="${tx}" y1="${bottom}" x2="${tx}" y2="${bottom + 4}" class="axis"/>`
      + `<text x="${tx}" y="${bottom + 16}" text-anchor="middle">${escapeHtml(tickLabel(t, step, clockStartMs))}</text>`);
  }
  return parts.join('');
}

/** The run report: one self-contained HTML page (inline CSS and SVG, no script, no URL). */
import { EMOTIONS, EMOTION_STATES, type Emotion, type EmotionEvent, type EmotionState, type Segment, type Timelines } from '@emostream/contracts';
import { EMOTION_COLORS, at, escapeHtml, shade, timeTicks } from './report-format.js';
import { renderEventsTable, renderSharesSvg, timelineEvents, type ReportEvent } from './report-charts.js';

/** How many of a run's events the report's table shows (the first ones). */
export { MAX_EVENT_ROWS } from './report-charts.js';

export { EMOTION_COLORS, escapeHtml } from './report-format.js';

/** Figures about the run, shown at the top of the report. */
export interface RunFigures {
  /** The source (file name or camera URL), already redacted by the caller. */
  source: string;
  /** Frames that went through the pipeline. */
  frames: number;
  /** Wall-clock duration of the run, ms. */
  durationMs: number;
  /** Frames per second processed; frames / duration when absent. */
  processedFps?: number;
  /** Faces classified. */
  faces: number;
  /** Persons confirmed; counted from the timelines when absent. */
  persons?: number;
  /** Frames dropped (queue full, decode errors, duplicates). */
  drops: number;
  /** Source reconnects. */
  reconnects: number;
  /** Pictures ffmpeg could not decode (a damaged file); shown when above 0. */
  decodeErrors?: number;
  /** Model version; the timelines' when absent. */
  modelVersion?: string;
  /** TensorFlow.js backend that ran the model. */
  backend: string;
  /** Face detector used. */
  detector?: string;
  /**
   * A live source's wall clock at media time 0 (ms since the epoch): the timelines are then
   * labelled in clock time (UTC) rather than seconds since the camera was opened.
   */
  clockStartMs?: number;
}

/** What {@link renderReport} draws. */
export interface ReportInput {
  title?: string;
  run: RunFigures;
  timelines: Timelines;
  /**
   * Face thumbnails as `data:image/(png|jpeg|webp);base64,…` URIs keyed by `cameraId/personId`.
   * Only pass them when the user opted in; anything that is not such a data URI is ignored.
   */
  thumbnails?: Record<string, string>;
  /** When the report was made (ISO); shown as is. */
  generatedAt?: string;
  /**
   * The run's own events, for the events table (at most its first rows are needed; `eventsTotal`
   * says how many there were). Absent: the table is derived from the timelines.
   */
  events?: readonly EmotionEvent[];
  eventsTotal?: number;
}

/** One person's figures for the summary table. */
export interface PersonSummary {
  cameraId: string;
  personId: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /**
   * The emotion with the largest share of the person's time. Time that was `uncertain` counts only
   * for a person who showed no clear emotion at all: then the likeliest emotion of those stretches
   * (the `likeliest` with the most time), and `dominantUnclear` is true; `uncertain` only where no
   * stretch names one.
   */
  dominant?: EmotionState;
  /** The dominant emotion was never clear: it is the best guess over the person's uncertain stretches. */
  dominantUnclear?: boolean;
  /** Share of the person's time per emotion and `uncertain` (0..1, summing to 1 when the person has segments). */
  shares: Record<EmotionState, number>;
}

/**
 * Share of time per emotion and the dominant one (see {@link PersonSummary.dominant}); segments of
 * zero length count equally when all are.
 */
export function summarisePerson(cameraId: string, personId: string, p: { firstSeenMs: number; lastSeenMs: number; segments: Segment[] }): PersonSummary {
  const shares = Object.fromEntries(EMOTION_STATES.map((e) => [e, 0])) as Record<EmotionState, number>;
  const guesses = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as Record<Emotion, number>;
  const total = p.segments.reduce((s, x) => s + Math.max(0, x.endMs - x.startMs), 0);
  for (const s of p.segments) {
    const share = total > 0 ? Math.max(0, s.endMs - s.startMs) / total : 1 / p.segments.length;
    shares[s.emotion] += share;
    if (s.emotion === 'uncertain' && s.likeliest) guesses[s.likeliest] += share;
  }
  const largest = <K extends string>(of: Record<K, number>, keys: readonly K[]) => {
    let best: K | undefined;
    for (const k of keys) if (of[k] > 0 && (best === undefined || of[k] > of[best])) best = k;
    return best;
  };
  const clear = largest(shares, EMOTIONS);
  const guess = clear ? undefined : largest(guesses, EMOTIONS);
  const dominant = clear ?? guess ?? (shares.uncertain > 0 ? 'uncertain' : undefined);
  return { cameraId, personId, firstSeenMs: p.firstSeenMs, lastSeenMs: p.lastSeenMs, dominant, ...(guess ? { dominantUnclear: true } : {}), shares };
}

const num = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const THUMBNAIL = /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Geometry of every timeline picture (SVG user units). */
const G = { width: 960, height: 112, left: 44, right: 12, top: 8, band: 62 };

/** One person's timeline picture: coloured emotion bands over media time and the confidence as a line. */
export function renderTimelineSvg(cameraId: string, personId: string, p: { firstSeenMs: number; lastSeenMs: number; segments: Segment[] }, domainEndMs: number, clockStartMs?: number): string {
  const end = Math.max(domainEndMs, p.lastSeenMs, 1);
  const plotW = G.width - G.left - G.right;
  const x = (ms: number) => G.left + (Math.min(Math.max(ms, 0), end) / end) * plotW;
  const y = (conf: number) => G.top + (1 - conf) * G.band;
  const bottom = G.top + G.band;
  const parts: string[] = [];
  parts.push(`<rect x="${G.left}" y="${G.top}" width="${plotW}" height="${G.band}" class="bg"/>`);
  for (const s of p.segments) {
    const x0 = x(s.startMs), w = Math.max(x(s.endMs) - x0, 0.75);
    parts.push(`<rect x="${x0.toFixed(2)}" y="${G.top}" width="${w.toFixed(2)}" height="${G.band}" fill="${EMOTION_COLORS[s.emotion]}" fill-opacity="${shade(s.meanConfidence)}">`
      + `<title>${escapeHtml(`${s.emotion}: ${at(s.startMs, clockStartMs)} – ${at(s.endMs, clockStartMs)}, mean confidence ${s.meanConfidence.toFixed(2)}`)}</title></rect>`);
  }
  if (p.segments.length) {
    const pts: string[] = [];
    for (const s of p.segments) pts.push(`${x(s.startMs).toFixed(2)},${y(s.meanConfidence).toFixed(2)}`, `${x(s.endMs).toFixed(2)},${y(s.meanConfidence).toFixed(2)}`);
    parts.push(`<polyline points="${pts.join(' ')}" class="conf"/>`);
  }
  parts.push(`<line x1="${G.left}" y1="${bottom}" x2="${G.width - G.right}" y2="${bottom}" class="axis"/>`, timeTicks(end, G.left, plotW, bottom, clockStartMs));
  parts.push(`<text x="${G.left - 6}" y="${G.top + 8}" text-anchor="end">1</text>`,
    `<text x="${G.left - 6}" y="${bottom}" text-anchor="end">0</text>`,
    `<text x="${G.left - 6}" y="${G.top + G.band / 2 + 4}" text-anchor="end" class="muted">conf</text>`);
  const label = `Emotion timeline of ${personId} on ${cameraId}: ${p.segments.map((s) => `${s.emotion} ${at(s.startMs, clockStartMs)}–${at(s.endMs, clockStartMs)}`).join(', ') || 'no segments'}`;
  return `<svg class="timeline" viewBox="0 0 ${G.width} ${G.height}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" `
    + `data-person-id="${escapeHtml(personId)}" data-camera-id="${escapeHtml(cameraId)}" aria-label="${escapeHtml(label)}">`
    + `<title>${escapeHtml(label)}</title>${parts.join('')}</svg>`;
}

/**
 * Every person of a camera on one time axis, one thin lane each (what a run with many persons
 * is read by; the per-person pictures below give the detail).
 */
export function renderOverviewSvg(cameraId: string, persons: Array<{ personId: string; p: { segments: Segment[] } }>, domainEndMs: number, clockStartMs?: number): string {
  const lane = 14, gap = 3, top = 4, left = 64, right = 12, width = 960;
  const end = Math.max(domainEndMs, 1);
  const plotW = width - left - right;
  const x = (ms: number) => left + (Math.min(Math.max(ms, 0), end) / end) * plotW;
  const bottom = top + persons.length * (lane + gap);
  const parts: string[] = [];
  persons.forEach(({ personId, p }, i) => {
    const y = top + i * (lane + gap);
    parts.push(`<text x="${left - 6}" y="${y + lane - 3}" text-anchor="end">${escapeHtml(personId)}</text>`,
      `<rect x="${left}" y="${y}" width="${plotW}" height="${lane}" class="bg"/>`);
    for (const s of p.segments) {
      const x0 = x(s.startMs), w = Math.max(x(s.endMs) - x0, 0.75);
      parts.push(`<rect x="${x0.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${lane}" fill="${EMOTION_COLORS[s.emotion]}" fill-opacity="${shade(s.meanConfidence)}">`
        + `<title>${escapeHtml(`${personId}: ${s.emotion} ${at(s.startMs, clockStartMs)} – ${at(s.endMs, clockStartMs)}, mean confidence ${s.meanConfidence.toFixed(2)}`)}</title></rect>`);
    }
  });
  parts.push(timeTicks(end, left, plotW, bottom, clockStartMs));
  return `<svg class="overview" viewBox="0 0 ${width} ${bottom + 22}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" `
    + `data-camera-id="${escapeHtml(cameraId)}" aria-label="${escapeHtml(`Emotion timelines of the ${persons.length} persons on ${cameraId}`)}">${parts.join('')}</svg>`;
}

/** Above this many persons, the per-person pictures are folded (the overview shows them all). */
const FOLD_PERSONS = 12;

const CSS = `
:root { color-scheme: light; --fg:#1d2330; --muted:#667085; --line:#e4e7ec; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #f7f8fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; } h3 { font-size: 14px; margin: 0; }
.muted { color: var(--muted); fill: var(--muted); }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 8px; margin: 16px 0 0; }
.figures div { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.figures dt { color: var(--muted); font-size: 12px; } .figures dd { margin: 2px 0 0; font-weight: 600; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th.l, td.l { text-align: left; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin-right: 5px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 6px 0 12px; padding: 0; list-style: none; }
.person { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 4px; margin: 0 0 10px; }
.person header { display: flex; align-items: center; gap: 10px; margin-bottom: 4px; }
.person header img { width: 40px; height: 40px; border-radius: 4px; object-fit: cover; }
svg.timeline { display: block; font-size: 11px; fill: var(--fg); }
svg .bg { fill: #f1f2f5; } svg .axis { stroke: #98a2b3; stroke-width: 1; }
svg.overview, svg.shares { display: block; font-size: 11px; fill: var(--fg); background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px 0; margin: 0 0 14px; }
svg.shares .present { fill: #111827; }
h3.camera { margin: 14px 0 6px; }
table.events { margin-bottom: 6px; } table.events td { padding: 3px 8px; }
details.person > summary { cursor: pointer; list-style: revert; }
svg.timeline .conf { fill: none; stroke: #111827; stroke-width: 2; stroke-linejoin: round; }
`;

/**
 * Renders the report: run figures; per camera every person's lane on one time axis and the
 * emotion mix over time; a summary table per person (first/last seen, dominant emotion, share of
 * time per emotion); the events table; one timeline picture per person (an inline SVG with
 * `data-person-id`, folded past 12 persons). Every string from the input is escaped.
 */
export function renderReport(input: ReportInput): string {
  const { run, timelines } = input;
  const title = input.title ?? 'emostream report';
  const people = Object.entries(timelines.cameras).flatMap(([cameraId, cam]) =>
    Object.entries(cam.persons).map(([personId, p]) => ({ cameraId, personId, p, summary: summarisePerson(cameraId, personId, p) })));
  const persons = run.persons ?? people.length;
  const fps = run.processedFps ?? (run.durationMs > 0 ? run.frames / (run.durationMs / 1000) : NaN);
  const thumb = (cameraId: string, personId: string) => {
    const uri = input.thumbnails?.[`${cameraId}/${personId}`];
    return uri && THUMBNAIL.test(uri) ? `<img src="${escapeHtml(uri)}" alt="${escapeHtml(`face of ${personId}`)}">` : '';
  };

  const figures: [string, string][] = [
    ['Source', run.source], ['Frames', num(run.frames)], ['Processed fps', num(fps, 1)], ['Faces', num(run.faces)],
    ['Persons', num(persons)], ['Drops', num(run.drops)], ['Reconnects', num(run.reconnects)], ['Duration', duration(run.durationMs)],
    ['Model version', run.modelVersion ?? timelines.modelVersion], ['Backend', run.backend],
    ...(run.detector ? [['Detector', run.detector] as [string, string]] : []),
    ...(run.decodeErrors ? [['Decode errors', `${num(run.decodeErrors)} (the file is damaged; pictures ffmpeg could not decode were skipped)`] as [string, string]] : []),
  ];

  const legend = `<ul class="legend" aria-label="emotion colours">${EMOTION_STATES.map((e) =>
    `<li><span class="sw" style="background:${EMOTION_COLORS[e]}"></span>${escapeHtml(e)}</li>`).join('')}</ul>`;

  const rows = people.map(({ cameraId, personId, summary: s }) => `<tr>
<td class="l">${escapeHtml(cameraId)}</td><td class="l">${thumb(cameraId, personId)}${escapeHtml(personId)}</td>
<td>${at(s.firstSeenMs, run.clockStartMs)}</td><td>${at(s.lastSeenMs, run.clockStartMs)}</td>
<td class="l">${s.dominant ? `<span class="sw" style="background:${EMOTION_COLORS[s.dominant]}"></span>${escapeHtml(s.dominant)}${s.dominantUnclear ? ' <span class="muted">(unclear)</span>' : ''}` : '–'}</td>
${EMOTION_STATES.map((e) => `<td>${s.shares[e] > 0 ? `${(s.shares[e] * 100).toFixed(0)}%` : '<span class="muted">·</span>'}</td>`).join('')}</tr>`).join('\n');

  const cameraEnd = (cameraId: string) => Math.max(1, ...Object.values(timelines.cameras[cameraId].persons).map((p) => p.lastSeenMs));
  const fold = people.length > FOLD_PERSONS;
  const clock = run.clockStartMs;
  const pictures = people.map(({ cameraId, personId, p, summary: s }) => {
    const head = `${thumb(cameraId, personId)}<h3>${escapeHtml(personId)} <span class="muted">· ${escapeHtml(cameraId)} · ${at(s.firstSeenMs, clock)} – ${at(s.lastSeenMs, clock)}${s.dominant ? ` · mostly ${escapeHtml(s.dominant)}${s.dominantUnclear ? ' (unclear)' : ''}` : ''}</span></h3>`;
    const svg = renderTimelineSvg(cameraId, personId, p, cameraEnd(cameraId), clock);
    return fold ? `<details class="person"><summary>${head}</summary>\n${svg}\n</details>` : `<section class="person">\n<header>${head}</header>\n${svg}\n</section>`;
  }).join('\n');
  const cameras = Object.keys(timelines.cameras).map((cameraId) => {
    const mine = people.filter((x) => x.cameraId === cameraId);
    if (!mine.length) return '';
    return `<h3 class="camera">${escapeHtml(cameraId)} <span class="muted">· ${mine.length} person${mine.length === 1 ? '' : 's'}</span></h3>\n`
      + `${renderOverviewSvg(cameraId, mine.map(({ personId, p }) => ({ personId, p })), cameraEnd(cameraId), clock)}\n`
      + `<p class="muted">Emotion mix: each bar is one stretch of time, split by the share of the persons' time spent in each emotion; the dot is how many persons were there on average (scale on the right).</p>\n`
      + renderSharesSvg(cameraId, mine.map(({ p }) => p), cameraEnd(cameraId), clock);
  }).join('\n');
  const events: ReportEvent[] = input.events
    ? input.events.map((e) => ({ cameraId: e.cameraId, personId: e.personId, type: e.type, mediaTimeMs: e.mediaTimeMs, emotion: e.emotion, confidence: e.confidence }))
    : timelineEvents(timelines);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="muted">${escapeHtml(run.source)}${input.generatedAt ? ` · generated ${escapeHtml(input.generatedAt)}` : ''}</p>
<dl class="figures">${figures.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>
<h2>Timelines</h2>
<p class="muted">One lane per person; coloured bands: the dominant emotion over ${clock === undefined ? 'media time (seconds)' : 'clock time (UTC)'}, paler where the model was less sure.</p>
${legend}
${people.length ? cameras : '<p>No person was confirmed in this run.</p>'}
<h2>Persons</h2>
${people.length === 0 ? '<p>No person was confirmed in this run.</p>' : `<table class="persons">
<thead><tr><th class="l">Camera</th><th class="l">Person</th><th>First seen</th><th>Last seen</th><th class="l">Dominant</th>${EMOTION_STATES.map((e) => `<th><span class="sw" style="background:${EMOTION_COLORS[e]}"></span>${escapeHtml(e)}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table>`}
<h2>Events</h2>
<p class="muted">When each person appeared, changed emotion and left, from the timelines; confidence is the mean of the stretch that begins there (for a person who left, of the one that ended).</p>
${renderEventsTable(events, clock, input.events ? input.eventsTotal : undefined)}
<h2>Each person</h2>
<p class="muted">Black line: the mean confidence of each stretch (0 at the bottom, 1 at the top).${fold ? ` ${people.length} persons: open one to see it.` : ''}</p>
${pictures}
</main>
</body>
</html>
`;
}

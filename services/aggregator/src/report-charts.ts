/** The run report's camera-wide views: the emotion mix over time and the table of events. */
import { EMOTION_STATES, EVENT_TYPES, type EmotionState, type Segment, type Timelines } from '@emostream/contracts';
import { EMOTION_COLORS, at, escapeHtml, niceStepMs, timeTicks } from './report-format.js';

type Person = { firstSeenMs: number; lastSeenMs: number; segments: Segment[] };

/** One time bucket of a camera: person-milliseconds per emotion. */
export interface ShareBucket {
  startMs: number;
  endMs: number;
  /** Person-ms of each emotion in the bucket (a person seen all through a 1 s bucket adds 1000). */
  ms: Record<EmotionState, number>;
  /** Sum of `ms`: persons present on average = total / (endMs - startMs). */
  totalMs: number;
}

/** At most this many buckets over a camera's run (a nice width: 1 s, 2 s, 5 s… 1 min…). */
const MAX_BUCKETS = 60;

/**
 * The camera's emotion mix over time: its run cut into at most {@link MAX_BUCKETS} buckets of a
 * nice width; each bucket holds the time every person spent in each emotion within it.
 */
export function emotionShareBuckets(persons: Person[], domainEndMs: number): ShareBucket[] {
  const end = Math.max(domainEndMs, 1);
  const width = niceStepMs(end, MAX_BUCKETS);
  const buckets: ShareBucket[] = [];
  for (let s = 0; s < end; s += width) {
    buckets.push({ startMs: s, endMs: s + width, ms: Object.fromEntries(EMOTION_STATES.map((e) => [e, 0])) as Record<EmotionState, number>, totalMs: 0 });
  }
  for (const p of persons) {
    for (const seg of p.segments) {
      const first = Math.max(0, Math.floor(seg.startMs / width));
      const last = Math.min(buckets.length - 1, Math.floor(seg.endMs / width));
      for (let i = first; i <= last; i++) {
        const b = buckets[i];
        const overlap = Math.min(seg.endMs, b.endMs) - Math.max(seg.startMs, b.startMs);
        if (overlap > 0) { b.ms[seg.emotion] += overlap; b.totalMs += overlap; }
      }
    }
  }
  return buckets;
}

/**
 * A stacked bar per time bucket: each emotion's share of the persons' time in it (0–100%), a
 * dot per bucket for the persons present on average. Buckets with nobody in them stay empty.
 */
export function renderSharesSvg(cameraId: string, persons: Person[], domainEndMs: number, clockStartMs?: number): string {
  const width = 960, left = 64, right = 40, top = 8, band = 110;
  const end = Math.max(domainEndMs, 1);
  const plotW = width - left - right;
  const bottom = top + band;
  const buckets = emotionShareBuckets(persons, end);
  const x = (ms: number) => left + (Math.min(Math.max(ms, 0), end) / end) * plotW;
  const maxPresent = Math.max(1, ...buckets.map((b) => b.totalMs / (Math.min(b.endMs, end) - b.startMs)));
  const parts: string[] = [`<rect x="${left}" y="${top}" width="${plotW}" height="${band}" class="bg"/>`];
  const dots: string[] = [];
  for (const b of buckets) {
    if (b.totalMs <= 0) continue;
    const x0 = x(b.startMs), w = Math.max(x(b.endMs) - x0 - 0.5, 0.75);
    const present = b.totalMs / (Math.min(b.endMs, end) - b.startMs);
    const shares = EMOTION_STATES.filter((e) => b.ms[e] > 0).map((e) => [e, b.ms[e] / b.totalMs] as const);
    const tip = `${at(b.startMs, clockStartMs)} – ${at(Math.min(b.endMs, end), clockStartMs)}: ${present.toFixed(1)} persons on average; `
      + shares.map(([e, s]) => `${e} ${(s * 100).toFixed(0)}%`).join(', ');
    let y = bottom;
    const rects = shares.map(([e, s]) => {
      const h = s * band;
      y -= h;
      return `<rect x="${x0.toFixed(2)}" y="${y.toFixed(2)}" width="${w.toFixed(2)}" height="${h.toFixed(2)}" fill="${EMOTION_COLORS[e]}" data-emotion="${e}"/>`;
    }).join('');
    parts.push(`<g class="bucket" data-start-ms="${b.startMs}"><title>${escapeHtml(tip)}</title>${rects}</g>`);
    dots.push(`<circle cx="${(x0 + w / 2).toFixed(2)}" cy="${(bottom - (present / maxPresent) * band).toFixed(2)}" r="2.5" class="present"/>`);
  }
  parts.push(...dots, `<line x1="${left}" y1="${bottom}" x2="${width - right}" y2="${bottom}" class="axis"/>`,
    timeTicks(end, left, plotW, bottom, clockStartMs),
    `<text x="${left - 6}" y="${top + 8}" text-anchor="end">100%</text>`,
    `<text x="${left - 6}" y="${top + band / 2 + 4}" text-anchor="end">50%</text>`,
    `<text x="${left - 6}" y="${bottom}" text-anchor="end">0%</text>`,
    `<text x="${width - right + 6}" y="${top + 8}" class="muted">${maxPresent.toFixed(maxPresent < 10 ? 1 : 0)}</text>`,
    `<text x="${width - right + 6}" y="${bottom}" class="muted">0</text>`);
  return `<svg class="shares" viewBox="0 0 ${width} ${bottom + 22}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" `
    + `data-camera-id="${escapeHtml(cameraId)}" aria-label="${escapeHtml(`Share of each emotion in the persons' time on ${cameraId}, per ${(niceStepMs(end, MAX_BUCKETS) / 1000)} s`)}">${parts.join('')}</svg>`;
}

/** One row of the events table. */
export interface ReportEvent {
  cameraId: string;
  personId: string;
  type: (typeof EVENT_TYPES)[number];
  mediaTimeMs: number;
  emotion: EmotionState;
  /** Mean confidence of the stretch that starts there (for `person.left`, of the one that ends there). */
  confidence: number;
}

/**
 * The events of a run as its timelines record them: a person appeared (first seen, with their
 * first emotion), each change of emotion, the person left (last seen). In time order, then camera
 * and person.
 */
export function timelineEvents(timelines: Timelines): ReportEvent[] {
  const out: ReportEvent[] = [];
  for (const [cameraId, cam] of Object.entries(timelines.cameras)) {
    for (const [personId, p] of Object.entries(cam.persons)) {
      const segs = p.segments;
      if (!segs.length) continue;
      out.push({ cameraId, personId, type: 'person.appeared', mediaTimeMs: p.firstSeenMs, emotion: segs[0].emotion, confidence: segs[0].meanConfidence });
      for (let i = 1; i < segs.length; i++) {
        if (segs[i].emotion === segs[i - 1].emotion) continue;
        out.push({ cameraId, personId, type: 'emotion.changed', mediaTimeMs: segs[i].startMs, emotion: segs[i].emotion, confidence: segs[i].meanConfidence });
      }
      const last = segs[segs.length - 1];
      out.push({ cameraId, personId, type: 'person.left', mediaTimeMs: p.lastSeenMs, emotion: last.emotion, confidence: last.meanConfidence });
    }
  }
  const order = (e: ReportEvent) => EVENT_TYPES.indexOf(e.type);
  const num = (id: string) => Number(/\d+$/.exec(id)?.[0] ?? NaN);
  return out.sort((a, b) => a.mediaTimeMs - b.mediaTimeMs || a.cameraId.localeCompare(b.cameraId)
    || (num(a.personId) - num(b.personId) || a.personId.localeCompare(b.personId)) || order(a) - order(b));
}

/** Past this many events the table shows the first ones and says how many it left out. */
export const MAX_EVENT_ROWS = 1000;

/** The events table: time, camera, person, event, emotion (with its colour) and confidence. */
export function renderEventsTable(events: ReportEvent[], clockStartMs?: number, total = events.length): string {
  if (!events.length) return '<p>No event in this run.</p>';
  const shown = events.slice(0, MAX_EVENT_ROWS);
  const rows = shown.map((e) => `<tr><td class="l">${at(e.mediaTimeMs, clockStartMs)}</td><td class="l">${escapeHtml(e.cameraId)}</td>`
    + `<td class="l">${escapeHtml(e.personId)}</td><td class="l">${escapeHtml(e.type)}</td>`
    + `<td class="l"><span class="sw" style="background:${EMOTION_COLORS[e.emotion]}"></span>${escapeHtml(e.emotion)}</td>`
    + `<td>${e.confidence.toFixed(2)}</td></tr>`).join('\n');
  const more = Math.max(total, events.length) > shown.length ? `<p class="muted">The first ${shown.length} of ${Math.max(total, events.length)} events; events.jsonl holds them all.</p>` : '';
  return `<table class="events">
<thead><tr><th class="l">${clockStartMs === undefined ? 'Time' : 'Time (UTC)'}</th><th class="l">Camera</th><th class="l">Person</th><th class="l">Event</th><th class="l">Emotion</th><th>Confidence</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>${more}`;
}

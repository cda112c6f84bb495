/**
 * The live page (`GET /`): one self-contained HTML document (inline CSS and script, nothing
 * fetched from elsewhere). It loads a camera's persons (`/api/persons`), then applies the event
 * stream (`/api/events`, resuming from the state's `x-last-event-id`) to them: one swimlane per
 * person over media time, colour = emotion (the report's colours), shade = confidence, and each
 * person's current emotion. A present person's lane grows with the camera's clock between events.
 */
import { EMOTION_STATES } from '@emostream/contracts';
import { EMOTION_COLORS } from '@emostream/aggregator';

const CSS = `
:root { color-scheme: light; --fg:#1d2330; --muted:#667085; --line:#e4e7ec; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #f7f8fa; }
main { max-width: 1200px; margin: 0 auto; padding: 20px; }
h1 { font-size: 20px; margin: 0; } header.top { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
.muted { color: var(--muted); } #status { font-size: 12px; } #status.live::before { content: "● "; color: #12b76a; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 10px 0; padding: 0; list-style: none; font-size: 12px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
.lane { display: grid; grid-template-columns: 220px 1fr; gap: 10px; align-items: center; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px; margin: 0 0 6px; }
.lane[data-present="false"] { opacity: .75; }
.who b { margin-right: 6px; } .who .state { font-size: 12px; }
.track { position: relative; height: 28px; background: #f1f2f5; border-radius: 4px; overflow: hidden; }
.seg { position: absolute; top: 0; bottom: 0; min-width: 2px; }
.axis { display: grid; grid-template-columns: 220px 1fr; gap: 10px; padding: 0 11px; font-size: 11px; }
.axis div:last-child { display: flex; justify-content: space-between; }
#empty { padding: 24px 0; }
`;

/** The page's script; `COLORS` and `STATES` are put in front of it. */
const SCRIPT = String.raw`
const $ = (s) => document.querySelector(s);
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
const num = (id) => Number(String(id).replace(/^\D+/, '')) || 0;
const params = new URLSearchParams(location.search);
let camera = params.get('camera') || '';
let cameras = [];
let persons = new Map();
const clock = { ms: 0, at: performance.now(), live: false };
let source = null;
let dirty = true;

function status(text, live) { const s = $('#status'); s.textContent = text; s.className = live ? 'live' : ''; clock.live = live; }
function seconds(ms) { return (ms / 1000).toFixed(1) + ' s'; }

async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store' });
  return { status: r.status, id: r.headers.get('x-last-event-id'), body: await r.json() };
}

function fillCameras() {
  const sel = $('#camera');
  sel.replaceChildren(...cameras.map((c) => { const o = el('option', '', c.cameraId + ' (' + c.present.length + ' present, ' + c.persons + (c.persons === 1 ? ' person)' : ' persons)')); o.value = c.cameraId; return o; }));
  if (!camera && cameras.length) camera = cameras[0].cameraId;
  sel.value = camera;
}

/** The state, then the event stream from exactly where the state is. */
async function start() {
  if (source) { source.close(); source = null; }
  let last;
  try {
    const c = await getJson('api/cameras');
    cameras = c.body; last = c.id;
    fillCameras();
    persons = new Map();
    if (camera) {
      const p = await getJson('api/persons?camera=' + encodeURIComponent(camera));
      if (p.status === 200) { persons = new Map(p.body.map((x) => [x.personId, x])); last = p.id; }
      clock.ms = Math.max(0, ...p.status === 200 ? p.body.map((x) => x.lastSeenMs) : []); clock.at = performance.now();
    }
  } catch (e) { status('cannot reach the server: retrying', false); setTimeout(start, 2000); return; }
  dirty = true;
  source = new EventSource('api/events' + (last ? '?lastEventId=' + encodeURIComponent(last) : ''));
  source.onopen = () => status('live', true);
  source.onerror = () => status('disconnected: retrying', false);
  source.addEventListener('reset', () => start());
  source.onmessage = (m) => apply(JSON.parse(m.data));
}

/** One event, by the server's rules (pipeline/src/api/live.ts). */
function apply(e) {
  let cam = cameras.find((c) => c.cameraId === e.cameraId);
  if (!cam) { cam = { cameraId: e.cameraId, present: [], persons: 0 }; cameras.push(cam); cameras.sort((a, b) => a.cameraId < b.cameraId ? -1 : 1); fillCameras(); if (camera === e.cameraId) return start(); }
  const present = new Set(cam.present);
  if (e.type === 'person.left') present.delete(e.personId); else present.add(e.personId);
  if (present.size !== cam.present.length) { cam.present = [...present]; fillCameras(); }
  if (e.cameraId !== camera) return;
  const t = e.mediaTimeMs;
  clock.ms = e.type === 'person.left' ? Math.max(clock.ms, t) : t; clock.at = performance.now();
  let p = persons.get(e.personId);
  if (!p) {
    if (e.type === 'person.left') return;
    p = { cameraId: e.cameraId, personId: e.personId, firstSeenMs: t, lastSeenMs: t, present: true, segments: [] };
    persons.set(e.personId, p);
  }
  const open = p.present ? p.segments[p.segments.length - 1] : undefined;
  p.emotion = e.emotion; p.confidence = e.confidence;
  if (e.type === 'person.left') {
    if (open) open.endMs = Math.max(open.startMs, t);
    p.present = false; p.lastSeenMs = t;
  } else {
    if (!open || open.emotion !== e.emotion) {
      if (open) open.endMs = Math.max(open.startMs, t);
      p.segments.push({ emotion: e.emotion, startMs: t, endMs: t, meanConfidence: e.confidence });
    }
    p.present = true; p.lastSeenMs = Math.max(p.lastSeenMs, t);
  }
  dirty = true;
}

/** The camera's media time now: its latest event, moved on by the wall clock while live (at most 5 min). */
function now() { return clock.ms + (clock.live ? Math.min(300000, performance.now() - clock.at) : 0); }

function render() {
  const list = [...persons.values()].sort((a, b) => num(a.personId) - num(b.personId));
  const anyPresent = list.some((p) => p.present);
  if (!dirty && !(anyPresent && clock.live)) return;
  dirty = false;
  const t = now();
  const end = (p) => p.present ? Math.max(p.lastSeenMs, t) : p.lastSeenMs;
  const x0 = list.length ? Math.min(...list.map((p) => p.firstSeenMs)) : 0;
  const x1 = Math.max(x0 + 1000, ...list.map(end));
  const pct = (ms) => (Math.min(Math.max(ms, x0), x1) - x0) / (x1 - x0) * 100;
  const lanes = list.map((p) => {
    const lane = el('div', 'lane'); lane.dataset.personId = p.personId; lane.dataset.present = String(p.present);
    const who = el('div', 'who'); who.append(el('b', '', p.personId));
    const state = el('span', 'state'); state.dataset.emotion = p.emotion;
    const sw = el('i', 'sw'); sw.style.background = COLORS[p.emotion] || '#ccc';
    state.append(sw, p.emotion + ' ' + Number(p.confidence).toFixed(2));
    who.append(state, el('div', 'muted', p.present ? 'present since ' + seconds(p.firstSeenMs) : 'left at ' + seconds(p.lastSeenMs)));
    const track = el('div', 'track');
    p.segments.forEach((s, i) => {
      const last = p.present && i === p.segments.length - 1;
      const a = s.startMs, b = last ? Math.max(s.endMs, t) : s.endMs;
      const seg = el('div', 'seg'); seg.dataset.emotion = s.emotion;
      seg.style.left = pct(a).toFixed(3) + '%'; seg.style.width = (pct(b) - pct(a)).toFixed(3) + '%';
      seg.style.background = COLORS[s.emotion] || '#ccc';
      seg.style.opacity = String(0.3 + 0.7 * Math.min(1, Math.max(0, s.meanConfidence)));
      seg.title = s.emotion + ': ' + seconds(a) + ' – ' + seconds(b) + ', confidence ' + s.meanConfidence.toFixed(2);
      track.append(seg);
    });
    lane.append(who, track);
    return lane;
  });
  $('#lanes').replaceChildren(...lanes);
  $('#empty').hidden = lanes.length > 0;
  $('#axis').hidden = lanes.length === 0;
  $('#t0').textContent = seconds(x0); $('#t1').textContent = seconds(x1);
}

$('#legend').replaceChildren(...STATES.map((s) => { const li = el('li', '', s); const sw = el('i', 'sw'); sw.style.background = COLORS[s]; li.prepend(sw); return li; }));
$('#camera').addEventListener('change', (ev) => {
  camera = ev.target.value;
  history.replaceState(null, '', '?camera=' + encodeURIComponent(camera));
  start();
});
setInterval(render, 250);
start();
`;

/** The live page. */
export function livePage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>emostream live</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header class="top"><h1>emostream live</h1>
<label>camera <select id="camera" aria-label="camera"></select></label>
<span id="status" class="muted">connecting…</span></header>
<ul class="legend" id="legend" aria-label="emotion colours"></ul>
<p class="muted">One lane per person over media time: colour is the emotion, a paler shade a lower confidence.</p>
<div id="lanes"></div>
<div class="axis" id="axis" hidden><div></div><div><span id="t0"></span><span id="t1"></span></div></div>
<p id="empty" class="muted">No person on this camera yet.</p>
</main>
<script>
const COLORS = ${JSON.stringify(EMOTION_COLORS)};
const STATES = ${JSON.stringify(EMOTION_STATES)};
${SCRIPT}
</script>
</body>
</html>
`;
}

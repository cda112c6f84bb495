// Opens a rendered report in headless Chromium the way a person sees it: no console error, one
// timeline picture per person with a real size, and a screenshot in the test output. With 30
// persons from a live camera: one lane each on one axis, clock times, the emotion mix per time
// bucket and the events table, checked on the DOM, and a screenshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { EMOTIONS, EMOTION_STATES, SCHEMA_VERSION, type Emotion, type EmotionsMessage } from '@emostream/contracts';
import { Aggregator, renderReport } from '@emostream/aggregator';
import { requireResource } from './helpers/resources.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function probabilities(main: Emotion, p: number) {
  return Object.fromEntries(EMOTIONS.map((e) => [e, e === main ? p : (1 - p) / 6])) as Record<Emotion, number>;
}

/** 12 s at 10 fps: three people with their own paths and moods; one leaves early. */
function syntheticRun(): EmotionsMessage[] {
  const persons = [
    { from: 0, to: 12_000, at: (t: number) => [200 + t * 0.02, 300], mood: (t: number): Emotion => (t < 4000 ? 'neutral' : t < 8000 ? 'happy' : 'surprise') },
    { from: 1500, to: 9000, at: () => [700, 280], mood: (t: number): Emotion => (t < 5000 ? 'sad' : 'neutral') },
    { from: 3000, to: 12_000, at: (t: number) => [1100 - (t - 3000) * 0.01, 360], mood: (t: number): Emotion => (t < 7000 ? 'angry' : t < 9500 ? 'fear' : 'disgust') },
  ];
  const out: EmotionsMessage[] = [];
  for (let seq = 0; seq <= 120; seq++) {
    const t = seq * 100;
    out.push({
      frame: { schemaVersion: SCHEMA_VERSION, cameraId: 'lobby', seq, mediaTimeMs: t, capturedAtMs: 1_750_000_000_000 + t, width: 1280, height: 720 },
      faces: persons.filter((p) => t >= p.from && t <= p.to).map((p) => {
        const [cx, cy] = p.at(t);
        return { box: { x: cx - 45, y: cy - 45, width: 90, height: 90 }, score: 0.95, probabilities: probabilities(p.mood(t), 0.6 + 0.3 * Math.abs(Math.sin(t / 900))) };
      }),
      modelVersion: 'paper-2024.1',
    });
  }
  return out;
}

test('report.html shows one timeline picture per person in headless Chromium', async (t) => {
  if (!requireResource(t, 'Chromium', existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`)) return;
  const agg = new Aggregator();
  const msgs = syntheticRun();
  for (const m of msgs) agg.push(m);
  agg.end();
  const timelines = agg.timelines();
  const personIds = Object.keys(timelines.cameras.lobby.persons);
  assert.deepEqual(personIds, ['p1', 'p2', 'p3']);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'emostream-report-'));
  const file = path.join(dir, 'report.html');
  await writeFile(file, renderReport({
    title: 'emostream report — lobby <test>',
    run: { source: 'rtsp://***@10.0.0.7/stream1', frames: msgs.length, durationMs: 12_400, faces: agg.stats.faces, drops: 3, reconnects: 1, backend: 'tensorflow (tfjs-node)', detector: 'blazeface' },
    timelines,
    generatedAt: '2025-11-25T18:00:00.000Z',
  }));

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

  const pictures = page.locator('svg[data-person-id]');
  assert.equal(await pictures.count(), personIds.length);
  for (const id of personIds) {
    const svg = page.locator(`svg[data-person-id="${id}"]`);
    assert.equal(await svg.count(), 1, `one picture for ${id}`);
    const box = await svg.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 20, `${id} picture has a real size: ${JSON.stringify(box)}`);
    // Bands are drawn: one rect per segment plus the background.
    const segments = timelines.cameras.lobby.persons[id].segments.length;
    assert.equal(await svg.locator('rect').count(), segments + 1);
    assert.ok(await svg.locator('polyline.conf').count() === 1);
  }
  assert.equal(await page.locator('.legend li').count(), EMOTION_STATES.length, 'the seven emotions and uncertain');
  assert.equal(await page.locator('table.persons tbody tr').count(), 3);
  assert.ok(await page.locator('table.events tbody tr').count() >= 6, 'each person appeared and left');
  assert.equal(await page.title(), 'emostream report — lobby <test>');
  assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], 'the page fetched nothing');

  const shot = path.join(dir, 'report.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`report screenshot: ${shot}`);
  assert.deepEqual(problems, []);
});

/**
 * 60 s of a live camera at 5 fps: 30 people in a 6x5 grid (1280x720), each arriving and leaving
 * at their own time and changing mood once or twice, with their own confidence.
 */
function crowdRun(t0: number): EmotionsMessage[] {
  const moods: Emotion[] = ['happy', 'neutral', 'sad', 'surprise', 'angry', 'fear', 'disgust'];
  const persons = Array.from({ length: 30 }, (_, i) => ({
    cx: 110 + (i % 6) * 212, cy: 80 + Math.floor(i / 6) * 140,
    from: (i * 1300) % 20_000, to: 40_000 + ((i * 2900) % 20_000),
    mood: (t: number): Emotion => moods[(i + Math.floor(t / (15_000 + (i % 4) * 5000))) % moods.length],
    p: 0.45 + 0.5 * ((i * 7) % 10) / 10,
  }));
  const out: EmotionsMessage[] = [];
  for (let seq = 0; seq <= 300; seq++) {
    const t = seq * 200;
    out.push({
      frame: { schemaVersion: SCHEMA_VERSION, cameraId: 'hall', seq, mediaTimeMs: t, capturedAtMs: t0 + t, width: 1280, height: 720 },
      faces: persons.filter((p) => t >= p.from && t <= p.to).map((p) => (
        { box: { x: p.cx - 40, y: p.cy - 40, width: 80, height: 80 }, score: 0.95, probabilities: probabilities(p.mood(t), p.p) })),
      modelVersion: 'paper-2024.1',
    });
  }
  return out;
}

test('report.html with 30 persons of a live camera: lanes, clock times, emotion mix and events in headless Chromium', async (t) => {
  if (!requireResource(t, 'Chromium', existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`)) return;
  const t0 = Date.UTC(2026, 11, 4, 9, 30, 0);
  const agg = new Aggregator();
  const msgs = crowdRun(t0);
  const changes: string[] = [];
  for (const m of msgs) for (const e of agg.push(m)) if (e.type === 'emotion.changed') changes.push(e.personId);
  agg.end();
  const timelines = agg.timelines();
  const personIds = Object.keys(timelines.cameras.hall.persons);
  assert.equal(personIds.length, 30, 'the aggregator confirmed the 30 persons');
  assert.ok(changes.length >= 20, `moods changed (${changes.length} emotion.changed events)`);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'emostream-report-30-'));
  const file = path.join(dir, 'report.html');
  await writeFile(file, renderReport({
    title: 'emostream: hall camera',
    run: { source: 'rtsp://***@10.0.0.9/hall', frames: msgs.length, durationMs: 60_000, faces: agg.stats.faces, drops: 0, reconnects: 0, backend: 'tensorflow (tfjs-node)', detector: 'blazeface', clockStartMs: t0 },
    timelines,
  }));

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

  // One lane per person on one axis, readable: each lane a real height on screen, labelled.
  const overview = page.locator('svg.overview[data-camera-id="hall"]');
  const labels = await overview.locator('text[text-anchor="end"]').allTextContents();
  assert.deepEqual(labels, personIds, 'a labelled lane per person');
  const box = await overview.boundingBox();
  assert.ok(box && box.width > 900, `the lanes span the page: ${JSON.stringify(box)}`);
  const laneHeight = (box!.height - 30) / 30;
  assert.ok(laneHeight >= 12, `a lane is at least 12 px high (${laneHeight.toFixed(1)})`);
  // Confidence as shade: the bands' opacities follow the persons' confidences (several levels).
  const opacities = new Set(await overview.locator('rect[fill-opacity]').evaluateAll((rs) => rs.map((r) => r.getAttribute('fill-opacity'))));
  assert.ok(opacities.size >= 5, `bands in several shades: ${[...opacities].join(' ')}`);
  // Clock time on the axis and in the tables, not seconds since the camera opened.
  const ticks = await overview.locator('text[text-anchor="middle"]').allTextContents();
  assert.equal(ticks[0], '09:30:00');
  assert.ok(ticks.every((x) => /^\d\d:\d\d:\d\d$/.test(x)), `clock ticks: ${ticks.join(' ')}`);

  // The emotion mix: a stacked bar per 1 s bucket, each full height where someone is there.
  const shares = page.locator('svg.shares[data-camera-id="hall"]');
  const buckets = shares.locator('g.bucket');
  const lastSeen = Math.max(...Object.values(timelines.cameras.hall.persons).map((p) => p.lastSeenMs));
  assert.ok(lastSeen > 55_000 && lastSeen <= 60_000, `${lastSeen}`);
  assert.equal(await buckets.count(), Math.ceil(lastSeen / 1000), 'a bar per second, everyone there from 0 to the last');
  const stackHeights = await buckets.evaluateAll((gs) => gs.map((g) => [...g.querySelectorAll('rect')].reduce((s, r) => s + r.getBoundingClientRect().height, 0)));
  const full = Math.max(...stackHeights);
  assert.ok(full > 60, `bars are tall enough to read (${full.toFixed(1)} px)`);
  for (const h of stackHeights) assert.ok(Math.abs(h - full) < 1, 'every bar sums to 100%');
  const emotionsShown = new Set(await shares.locator('rect[data-emotion]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-emotion'))));
  assert.ok(emotionsShown.size >= 5, `the mix shows several emotions: ${[...emotionsShown].join(' ')}`);

  // Tables: a row per person, a row per event (appeared, each change, left) in clock time.
  assert.equal(await page.locator('table.persons tbody tr').count(), 30);
  const events = page.locator('table.events tbody tr');
  const rows = await events.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  assert.equal(rows.filter((r) => r[3] === 'person.appeared').length, 30);
  assert.equal(rows.filter((r) => r[3] === 'person.left').length, 30);
  assert.ok(rows.filter((r) => r[3] === 'emotion.changed').length >= 20);
  for (const [time, camera, person, , emotion, confidence] of rows) {
    assert.match(time, /^09:3\d:\d\d$/);
    assert.equal(camera, 'hall');
    assert.ok(personIds.includes(person), person);
    assert.ok((EMOTION_STATES as readonly string[]).includes(emotion), emotion);
    assert.ok(Number(confidence) >= 0 && Number(confidence) <= 1, confidence);
  }
  assert.deepEqual(rows.map((r) => r[0]), rows.map((r) => r[0]).slice().sort(), 'in time order');
  // The per-person pictures are folded: 30 closed, the page stays short enough to scroll through.
  assert.equal(await page.locator('details.person:not([open])').count(), 30);

  const shot = path.join(dir, 'report-30.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`report screenshot (30 persons): ${shot}`);
  assert.deepEqual(problems, []);
});

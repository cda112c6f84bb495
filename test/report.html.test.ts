// Opens a rendered report in headless Chromium the way a person sees it: no console error, one
// timeline picture per person with a real size, and a screenshot in the test output.
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
  assert.equal(await page.locator('tbody tr').count(), 3);
  assert.equal(await page.title(), 'emostream report — lobby <test>');
  assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], 'the page fetched nothing');

  const shot = path.join(dir, 'report.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`report screenshot: ${shot}`);
  assert.deepEqual(problems, []);
});

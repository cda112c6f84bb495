import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type Timelines } from '@emostream/contracts';
import { escapeHtml, renderReport, summarisePerson } from './report.js';

const timelines = (personId = 'p1', cameraId = 'cam1'): Timelines => ({
  schemaVersion: SCHEMA_VERSION, modelVersion: 'm-1',
  cameras: { [cameraId]: { persons: { [personId]: { firstSeenMs: 0, lastSeenMs: 4000, segments: [
    { emotion: 'neutral', startMs: 0, endMs: 1000, meanConfidence: 0.7 },
    { emotion: 'happy', startMs: 1000, endMs: 4000, meanConfidence: 0.8 },
  ] } } } },
});
const run = { source: 'clip.mp4', frames: 100, durationMs: 4000, faces: 100, drops: 2, reconnects: 0, backend: 'tensorflow' };

test('summarisePerson gives time shares and the dominant emotion', () => {
  const s = summarisePerson('cam1', 'p1', timelines().cameras.cam1.persons.p1);
  assert.equal(s.dominant, 'happy');
  assert.equal(s.shares.happy, 0.75);
  assert.equal(s.shares.neutral, 0.25);
  assert.equal(s.shares.sad, 0);
  assert.equal(summarisePerson('c', 'p', { firstSeenMs: 0, lastSeenMs: 0, segments: [] }).dominant, undefined);
  assert.equal(s.dominantUnclear, undefined);
});

test('a person with no clear emotion is summarised by their uncertain stretches\' likeliest emotion, marked unclear; a clear emotion goes first however short', () => {
  const seg = (emotion: 'uncertain' | 'sad', startMs: number, endMs: number, likeliest?: 'fear' | 'sad') => ({ emotion, startMs, endMs, meanConfidence: 0.25, ...(likeliest ? { likeliest } : {}) });
  const unclear = summarisePerson('c', 'p', { firstSeenMs: 0, lastSeenMs: 3000, segments: [seg('uncertain', 0, 1000, 'fear'), seg('uncertain', 1000, 3000, 'sad')] });
  assert.equal(unclear.dominant, 'sad');
  assert.equal(unclear.dominantUnclear, true);
  assert.equal(unclear.shares.uncertain, 1, 'the shares still say the time was uncertain');
  const clear = summarisePerson('c', 'p', { firstSeenMs: 0, lastSeenMs: 3000, segments: [seg('uncertain', 0, 2900, 'fear'), seg('sad', 2900, 3000)] });
  assert.deepEqual([clear.dominant, clear.dominantUnclear], ['sad', undefined]);
  // A timeline written before uncertain segments named their likeliest emotion.
  assert.equal(summarisePerson('c', 'p', { firstSeenMs: 0, lastSeenMs: 1000, segments: [seg('uncertain', 0, 1000)] }).dominant, 'uncertain');
  const html = renderReport({ run, timelines: { schemaVersion: SCHEMA_VERSION, modelVersion: 'm-1', cameras: { cam1: { persons: { p1: { firstSeenMs: 0, lastSeenMs: 3000, segments: [seg('uncertain', 0, 3000, 'sad')] } } } } } });
  assert.match(html, /mostly sad \(unclear\)/);
});

test('the report has the figures, one timeline picture per person, and no URL or script', () => {
  const html = renderReport({ run, timelines: timelines() });
  assert.match(html, /<svg class="timeline"[^>]*data-person-id="p1"/);
  assert.equal(html.match(/data-person-id=/g)?.length, 1);
  assert.match(html, /Processed fps<\/dt><dd>25\.0</);
  assert.match(html, /Model version<\/dt><dd>m-1</);
  assert.match(html, />75%</);
  assert.doesNotMatch(html, /https?:|<script|src="(?!data:)/);
  for (const s of ['0 s', '1 s', '4 s']) assert.ok(html.includes(`>${s}</text>`), `axis label ${s}`);
});

test('decode errors are a figure of the report only when there were some', () => {
  assert.doesNotMatch(renderReport({ run, timelines: timelines() }), /Decode errors/);
  assert.match(renderReport({ run: { ...run, decodeErrors: 12 }, timelines: timelines() }), /Decode errors<\/dt><dd>12 \(the file is damaged/);
});

test('every input string is escaped', () => {
  const evil = '<img src=x onerror=alert(1)>"\'&';
  const html = renderReport({ title: evil, run: { ...run, source: evil, backend: evil }, timelines: timelines(evil, evil) });
  assert.ok(!html.includes('<img src=x'));
  assert.ok(html.includes(escapeHtml(evil)));
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('thumbnails appear only as image data URIs', () => {
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  const withThumb = renderReport({ run, timelines: timelines(), thumbnails: { 'cam1/p1': png } });
  assert.ok(withThumb.includes(`<img src="${png}"`));
  const bad = renderReport({ run, timelines: timelines(), thumbnails: { 'cam1/p1': 'https://example.com/x.png' } });
  assert.ok(!bad.includes('<img'));
  assert.ok(!renderReport({ run, timelines: timelines() }).includes('<img'));
});

test('many persons: one overview of every lane, the per-person pictures folded; shade = confidence; clock time for a camera', () => {
  const persons: Record<string, { firstSeenMs: number; lastSeenMs: number; segments: { emotion: 'happy' | 'sad' | 'uncertain'; startMs: number; endMs: number; meanConfidence: number }[] }> = {};
  for (let i = 1; i <= 30; i++) persons[`p${i}`] = { firstSeenMs: i * 1000, lastSeenMs: i * 1000 + 5000, segments: [{ emotion: i % 2 ? 'happy' : 'sad', startMs: i * 1000, endMs: i * 1000 + 5000, meanConfidence: i / 30 }] };
  const run = { source: 'rtsp://***@cam/1', frames: 10, durationMs: 1000, faces: 10, drops: 0, reconnects: 0, backend: 'tfjs-node', clockStartMs: Date.UTC(2026, 11, 4, 9, 30, 0) };
  const html = renderReport({ run, timelines: { schemaVersion: 1, modelVersion: 'm', cameras: { door: { persons } } } });
  assert.equal((html.match(/<svg class="overview"/g) ?? []).length, 1);
  const overview = html.slice(html.indexOf('<svg class="overview"'), html.indexOf('</svg>', html.indexOf('<svg class="overview"')));
  assert.equal((overview.match(/fill-opacity=/g) ?? []).length, 30, 'one band per person in the overview');
  assert.match(overview, /fill-opacity="0\.28"/, 'p1 (confidence 1/30) is pale');
  assert.match(overview, /fill-opacity="1\.00"/, 'p30 (confidence 1) is full');
  assert.equal((html.match(/<details class="person">/g) ?? []).length, 30, 'folded beyond 12 persons');
  assert.match(html, /<td>09:30:01<\/td><td>09:30:06<\/td>/, 'p1 first and last seen in clock time (UTC)');
  assert.match(html, /clock time \(UTC\)/);
  const file = renderReport({ run: { ...run, clockStartMs: undefined }, timelines: { schemaVersion: 1, modelVersion: 'm', cameras: { door: { persons: { p1: persons.p1 } } } } });
  assert.equal((file.match(/<details/g) ?? []).length, 0, 'few persons: not folded');
  assert.match(file, /<td>1\.0 s<\/td><td>6\.0 s<\/td>/, 'a file: media seconds');
});

test('the events table shows the run\'s own events when given, and how many there were in all', () => {
  const ev = (type: 'person.appeared' | 'emotion.changed', mediaTimeMs: number, emotion: 'happy' | 'sad', confidence: number) => ({
    schemaVersion: SCHEMA_VERSION, type, cameraId: 'cam1', personId: 'p1', at: new Date(mediaTimeMs).toISOString(), mediaTimeMs,
    emotion, confidence, probabilities: { angry: 0, disgust: 0, fear: 0, happy: 0, neutral: 0, sad: 0, surprise: 0, [emotion]: confidence }, modelVersion: 'm1',
  });
  const html = renderReport({ run, timelines: timelines(), events: [ev('person.appeared', 0, 'happy', 0.91), ev('emotion.changed', 700, 'sad', 0.77)], eventsTotal: 5 });
  const table = html.slice(html.indexOf('<table class="events">'));
  assert.match(table, /person\.appeared<\/td><td class="l"><span class="sw"[^>]*><\/span>happy<\/td>\s*<td>0\.91<\/td>/);
  assert.match(table, /emotion\.changed<\/td><td class="l"><span class="sw"[^>]*><\/span>sad<\/td>\s*<td>0\.77<\/td>/);
  assert.match(html, /The first 2 of 5 events; events\.jsonl holds them all/);
});

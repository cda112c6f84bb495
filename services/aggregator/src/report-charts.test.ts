import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type Segment, type Timelines } from '@emostream/contracts';
import { MAX_EVENT_ROWS, emotionShareBuckets, renderEventsTable, renderSharesSvg, timelineEvents } from './report-charts.js';

const seg = (emotion: Segment['emotion'], startMs: number, endMs: number, meanConfidence = 0.8): Segment => ({ emotion, startMs, endMs, meanConfidence });

test('emotion shares per bucket: person-time per emotion, split where a segment crosses a bucket', () => {
  // 20 s: buckets of 500 ms (at most 60). p1 happy 0-10 s then sad; p2 sad 5-15 s.
  const persons = [
    { firstSeenMs: 0, lastSeenMs: 20_000, segments: [seg('happy', 0, 10_000), seg('sad', 10_000, 20_000)] },
    { firstSeenMs: 5000, lastSeenMs: 15_000, segments: [seg('sad', 5000, 15_000)] },
  ];
  const b = emotionShareBuckets(persons, 20_000);
  assert.equal(b.length, 40);
  assert.equal(b[1].endMs - b[1].startMs, 500);
  assert.deepEqual([b[0].ms.happy, b[0].ms.sad, b[0].totalMs], [500, 0, 500]);
  assert.deepEqual([b[12].ms.happy, b[12].ms.sad, b[12].totalMs], [500, 500, 1000], '6-6.5 s: one happy, one sad');
  assert.deepEqual([b[25].ms.happy, b[25].ms.sad], [0, 1000], '12.5-13 s: both sad');
  // A segment ending inside a bucket counts only its part.
  const c = emotionShareBuckets([{ firstSeenMs: 0, lastSeenMs: 700, segments: [seg('fear', 0, 700)] }], 60_000);
  assert.equal(c[0].endMs, 1000);
  assert.equal(c[0].ms.fear, 700);
  const total = b.reduce((s, x) => s + x.totalMs, 0);
  assert.equal(total, 30_000, 'every person-ms counted once');
});

test('the shares picture: one stacked bar per bucket with someone in it, heights summing to the band', () => {
  const persons = [
    { firstSeenMs: 0, lastSeenMs: 4000, segments: [seg('happy', 0, 4000)] },
    { firstSeenMs: 0, lastSeenMs: 2000, segments: [seg('angry', 0, 2000)] },
  ];
  const svg = renderSharesSvg('door', persons, 6000);
  const bars = svg.match(/<g class="bucket"[\s\S]*?<\/g>/g) ?? [];
  assert.equal(bars.length, 40, '100 ms buckets over 0-4 s; 4-6 s empty');
  const heights = (bar: string) => [...bar.matchAll(/height="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.deepEqual(heights(bars[0]), [55, 55], 'half angry, half happy');
  assert.deepEqual(heights(bars[39]), [110], 'happy alone');
  assert.match(bars[0], /<title>0\.0 s – 0\.1 s: 2\.0 persons on average; angry 50%, happy 50%<\/title>/);
  assert.match(renderSharesSvg('door', persons, 6000, Date.UTC(2026, 0, 1, 8, 0, 0)), /<title>08:00:00 – 08:00:00: 2\.0 persons/);
});

test('events from the timelines: appeared, each change, left; in time order', () => {
  const timelines: Timelines = { schemaVersion: SCHEMA_VERSION, modelVersion: 'm', cameras: {
    a: { persons: {
      p10: { firstSeenMs: 500, lastSeenMs: 3000, segments: [seg('neutral', 500, 3000, 0.6)] },
      p2: { firstSeenMs: 0, lastSeenMs: 4000, segments: [seg('neutral', 0, 1000, 0.5), seg('happy', 1000, 4000, 0.9)] },
      p3: { firstSeenMs: 0, lastSeenMs: 0, segments: [] },
    } },
  } };
  const events = timelineEvents(timelines);
  assert.deepEqual(events.map((e) => `${e.mediaTimeMs} ${e.personId} ${e.type} ${e.emotion} ${e.confidence}`), [
    '0 p2 person.appeared neutral 0.5',
    '500 p10 person.appeared neutral 0.6',
    '1000 p2 emotion.changed happy 0.9',
    '3000 p10 person.left neutral 0.6',
    '4000 p2 person.left happy 0.9',
  ]);
  const html = renderEventsTable(events, Date.UTC(2026, 0, 1, 8, 0, 0));
  assert.equal(html.match(/<tr>/g)?.length, 6, 'a header and five rows');
  assert.match(html, /<td class="l">08:00:01<\/td><td class="l">a<\/td><td class="l">p2<\/td><td class="l">emotion\.changed<\/td>/);
  assert.match(html, /Time \(UTC\)/);
  assert.match(renderEventsTable([], undefined), /No event/);
  const many = Array.from({ length: MAX_EVENT_ROWS + 5 }, () => events[0]);
  const capped = renderEventsTable(many);
  assert.equal(capped.match(/<tr>/g)?.length, MAX_EVENT_ROWS + 1);
  assert.match(capped, new RegExp(`first ${MAX_EVENT_ROWS} of ${MAX_EVENT_ROWS + 5} events`));
});

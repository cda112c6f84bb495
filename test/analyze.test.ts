/** `emostream analyze` end to end: real ffmpeg, real detector and CNN, real RTSP server; bad inputs. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmotionEventSchema, TimelinesSchema, type EmotionEvent } from '@emostream/contracts';
import { testModelDir, MEDIA } from './helpers/model.js';
import { startRtspServer, rtspServerUnavailable, freePort } from './helpers/rtsp.js';
import { requireResource } from './helpers/resources.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let model = '';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-analyze-'));

before(async () => { model = await testModelDir(); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), ...args], { cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

function readEvents(dir: string): EmotionEvent[] {
  return fs.readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => EmotionEventSchema.parse(JSON.parse(l)));
}

test('a real clip with one woman: one person, schema-valid events and timelines, a report', async () => {
  const out = path.join(tmp, 'woman');
  const r = await run(['analyze', path.join(MEDIA, 'woman2.mp4'), '--model', model, '--out', out, '--json', '--fps', '5']);
  assert.equal(r.code, 0, r.stderr);
  const events = readEvents(out);
  const stdoutEvents = r.stdout.trim().split('\n').map((l) => EmotionEventSchema.parse(JSON.parse(l)));
  assert.deepEqual(stdoutEvents, events, '--json prints exactly the events written to events.jsonl');
  const persons = new Set(events.map((e) => e.personId));
  assert.equal(persons.size, 1, `expected one person, got ${[...persons].join(', ')}`);
  assert.equal(events[0].type, 'person.appeared');
  assert.ok(events[0].mediaTimeMs < 1500, 'she is found within the first second and a half');
  assert.equal(events[events.length - 1].type, 'person.left');
  const tl = TimelinesSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'timelines.json'), 'utf8')));
  const person = Object.values(tl.cameras.cam0.persons)[0];
  assert.ok(person.lastSeenMs - person.firstSeenMs > 12_000, 'tracked through most of the 15.5 s clip');
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /data-person-id="p1"/);
  assert.ok(!html.includes('data:image'), 'no face image in the report unless --thumbnails');
  assert.match(r.stderr, /analysed \d+ frames .* fps, [\d.]+x real time; \d+ faces, 1 persons/);
});

test('a full disk under events.jsonl: the run stops, timelines.json and report.html are written, one clear error', async (t) => {
  if (!requireResource(t, '/dev/full', fs.existsSync('/dev/full') ? undefined : 'no /dev/full on this system')) return;
  const out = path.join(tmp, 'full');
  fs.mkdirSync(out, { recursive: true });
  fs.symlinkSync('/dev/full', path.join(out, 'events.jsonl'));
  const r = await run(['analyze', path.join(MEDIA, 'woman2.mp4'), '--model', model, '--out', out, '--fps', '5', '--quiet']);
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('emostream:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /could not write events\.jsonl \(ENOSPC: no space left on device.*\) in .*full: free some space or choose another --out/);
  TimelinesSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'timelines.json'), 'utf8')));
  assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /<html/);
});

test('several people across scene cuts: performer first, audience faces later', async () => {
  const out = path.join(tmp, 'hamilton');
  const r = await run(['analyze', path.join(MEDIA, 'short_hamilton_clip.mp4'), '--model', model, '--out', out, '--quiet', '--thumbnails']);
  assert.equal(r.code, 0, r.stderr);
  const tl = TimelinesSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'timelines.json'), 'utf8')));
  const persons = Object.values(tl.cameras.cam0.persons);
  assert.ok(persons.some((p) => p.firstSeenMs < 500), 'the performer is a person from the start');
  // The clip ends on an audience shot with three prominent faces.
  const atEnd = persons.filter((p) => p.lastSeenMs > 9000);
  assert.ok(atEnd.length >= 2 && atEnd.length <= 5, `audience faces at the end: ${atEnd.length}`);
  // --thumbnails: one face picture per person, in the report only.
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  const pics = new Set(html.match(/data:image\/png;base64,[A-Za-z0-9+/=]{100,}/g) ?? []);
  assert.equal(pics.size, persons.length);
  assert.deepEqual(fs.readdirSync(out).sort(), ['events.jsonl', 'report.html', 'timelines.json']);
});

test('the paper\'s Haar cascade as the detector finds the same single person', async () => {
  const out = path.join(tmp, 'haar');
  const r = await run(['analyze', path.join(MEDIA, 'woman2.mp4'), '--model', model, '--out', out, '--quiet', '--fps', '4', '--detector', 'haar']);
  assert.equal(r.code, 0, r.stderr);
  const persons = new Set(readEvents(out).map((e) => e.personId));
  assert.equal(persons.size, 1);
  assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), />haar</);
});

test('a truncated MP4 is analysed up to the cut (its name with spaces and brackets; the camera id stays cam0)', async () => {
  const fast = path.join(tmp, 'faststart.mp4');
  await new Promise<void>((res, rej) => spawn('ffmpeg', ['-loglevel', 'error', '-y', '-i', path.join(MEDIA, 'woman2.mp4'), '-c', 'copy', '-movflags', '+faststart', fast]).on('close', (c) => (c === 0 ? res() : rej(new Error(`ffmpeg ${c}`)))));
  const cut = path.join(tmp, 'my clip (1).mp4');
  const buf = fs.readFileSync(fast);
  fs.writeFileSync(cut, buf.subarray(0, Math.floor(buf.length * 0.5)));
  const out = path.join(tmp, 'cut');
  const r = await run(['analyze', cut, '--model', model, '--out', out, '--quiet', '--fps', '5']);
  assert.equal(r.code, 0, r.stderr);
  const frames = Number(/analysed (\d+) frames/.exec(r.stderr)?.[1]);
  assert.ok(frames > 10 && frames < 70, `frames before the cut: ${frames}`);
  const events = readEvents(out);
  assert.ok(events.length >= 2);
  assert.deepEqual([...new Set(events.map((e) => e.cameraId))], ['cam0']);
});

for (const [name, args, pattern] of [
  ['a nonexistent path', ['analyze', '/nonexistent/clip.mp4'], /clip\.mp4.*(not found|check the path)/i],
  ['a file that is not a video', ['analyze', path.join(ROOT, 'README.md')], /README\.md.*not a (readable )?video/i],
  ['an unsupported URL scheme', ['analyze', 'http://example.invalid/x.m3u8'], /unsupported input http:\/\/example\.invalid.*not allowed; use a file path/],
  ['an --fps out of range', ['analyze', 'x.mp4', '--fps', '500'], /--fps must be a number from 0\.1 to 60/],
  ['an unknown detector', ['analyze', 'x.mp4', '--detector', 'yolo'], /--detector must be one of blazeface, haar, got 'yolo'/],
  ['a missing model directory', ['analyze', path.join(MEDIA, 'woman2.mp4'), '--model', '/nonexistent/model'], /\/nonexistent\/model does not exist/],
  ['a --camera outside the camera id rule', ['analyze', path.join(MEDIA, 'woman2.mp4'), '--camera', 'front door'], /--camera 'front door': a camera id is 1-64 characters of A-Z a-z 0-9 \. _ -; choose another/],
] as const) {
  test(`bad input: ${name} → one clear line and a non-zero exit`, async () => {
    const r = await run([...args, '--out', path.join(tmp, 'bad')]);
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('emostream:') || l.startsWith('error:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
  });
}

test('RTSP: live events arrive; credentials never appear in any output', async (t) => {
  if (!requireResource(t, 'GStreamer RTSP server', rtspServerUnavailable())) return;
  const server = await startRtspServer({ file: path.join(MEDIA, 'woman2.mp4'), user: 'viewer', password: 's3cr3t-Pa55' });
  try {
    const out = path.join(tmp, 'rtsp');
    const r = await run(['analyze', server.url, '--model', model, '--out', out, '--duration', '6', '--fps', '5', '--json', '--camera', 'lobby']);
    assert.equal(r.code, 0, r.stderr);
    const events = readEvents(out);
    assert.ok(events.some((e) => e.type === 'person.appeared' && e.cameraId === 'lobby'));
    for (const text of [r.stdout, r.stderr, ...['events.jsonl', 'timelines.json', 'report.html'].map((f) => fs.readFileSync(path.join(out, f), 'utf8'))]) {
      assert.ok(!text.includes('s3cr3t-Pa55'), 'the password leaked');
    }
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /rtsp:\/\/\*\*\*@127\.0\.0\.1/);
  } finally {
    await server.stop();
  }
});

test('RTSP: a camera that never answers is given up with a redacted one-line reason', async () => {
  const port = await freePort();
  const r = await run(['analyze', `rtsp://admin:hunter2@127.0.0.1:${port}/cam`, '--model', model, '--out', path.join(tmp, 'dead'), '--give-up-after', '3']);
  assert.notEqual(r.code, 0);
  assert.ok(!r.stderr.includes('hunter2'), r.stderr);
  const line = r.stderr.trim().split('\n').find((l) => l.startsWith('emostream:'));
  assert.match(line ?? '', /rtsp:\/\/\*\*\*@127\.0\.0\.1/);
});

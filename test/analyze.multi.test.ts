/**
 * `emostream analyze` on several cameras in one process: real ffmpeg, real detector and CNN,
 * two short real clips as two cameras; a bad source and a camera that never answers fail only
 * themselves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmotionEventSchema, TimelinesSchema, type EmotionEvent } from '@emostream/contracts';
import { testModelDir, MEDIA } from './helpers/model.js';
import { freePort } from './helpers/rtsp.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-multi-'));
let model = '';
/** 4 s of woman2 (one face) and 4 s of the Hamilton clip (a performer, then the audience). */
const clips = { woman: path.join(tmp, 'woman.mp4'), stage: path.join(tmp, 'stage.mp4') };

before(async () => {
  model = await testModelDir();
  if (filesMissing(path.join(MEDIA, 'woman2.mp4'), path.join(MEDIA, 'short_hamilton_clip.mp4'))) return;
  for (const [src, out] of [['woman2.mp4', clips.woman], ['short_hamilton_clip.mp4', clips.stage]]) {
    execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-i', path.join(MEDIA, src), '-t', '4', '-an', '-c:v', 'libx264', '-preset', 'veryfast', out]);
  }
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], stdin?: string, timeoutMs = 180_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'analyze', ...args, '--model', model, '--fps', '5', '--no-progress'], {
      cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.stdin.end(stdin ?? '');
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

const readEvents = (dir: string): EmotionEvent[] =>
  fs.readFileSync(path.join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => EmotionEventSchema.parse(JSON.parse(l)));
const readTimelines = (dir: string) => TimelinesSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, 'timelines.json'), 'utf8')));
const media = (t: Parameters<typeof requireResource>[0]) => requireResource(t, 'sample media', filesMissing(path.join(MEDIA, 'woman2.mp4'), path.join(MEDIA, 'short_hamilton_clip.mp4')));

test('two clips as two cameras: a folder each with its own events and timelines; --json carries both', async (t) => {
  if (!media(t)) return;
  const out = path.join(tmp, 'two');
  const r = await run(['--source', `woman=${clips.woman}`, '--source', `stage=${clips.stage}`, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  for (const cam of ['woman', 'stage']) {
    const dir = path.join(out, cam);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['events.jsonl', 'report.html', 'timelines.json'], cam);
    const events = readEvents(dir);
    assert.ok(events.length >= 2, `${cam}: ${events.length} events`);
    assert.deepEqual([...new Set(events.map((e) => e.cameraId))], [cam], `${cam}'s events.jsonl holds its own events only`);
    assert.equal(events[0].type, 'person.appeared');
    assert.equal(events.at(-1)!.type, 'person.left', 'the camera\'s persons leave when its clip ends');
    const tl = readTimelines(dir);
    assert.deepEqual(Object.keys(tl.cameras), [cam], `${cam}'s timelines.json holds its own camera only`);
    const persons = Object.values(tl.cameras[cam].persons);
    assert.ok(persons.length >= 1, `${cam}: a person in the timeline`);
    // Every person of the events is in the timeline, and no other.
    assert.deepEqual(Object.keys(tl.cameras[cam].persons).sort(), [...new Set(events.map((e) => e.personId))].sort());
    assert.match(fs.readFileSync(path.join(dir, 'report.html'), 'utf8'), new RegExp(`${cam === 'woman' ? 'woman' : 'stage'}\\.mp4`));
  }
  // Her clip is 4 s of one face: one person, seen through most of it.
  const her = Object.values(readTimelines(path.join(out, 'woman')).cameras.woman.persons);
  assert.equal(her.length, 1);
  assert.ok(her[0].lastSeenMs - her[0].firstSeenMs >= 2500, `tracked ${her[0].firstSeenMs}-${her[0].lastSeenMs} ms`);
  // stdout: every camera's events, each exactly as in its folder.
  const stdout = r.stdout.trim().split('\n').map((l) => EmotionEventSchema.parse(JSON.parse(l)));
  for (const cam of ['woman', 'stage']) assert.deepEqual(stdout.filter((e) => e.cameraId === cam), readEvents(path.join(out, cam)));
  assert.equal(stdout.length, readEvents(path.join(out, 'woman')).length + readEvents(path.join(out, 'stage')).length);
  assert.match(r.stderr, /analysed 2 cameras in [\d.]+ s/);
  assert.match(r.stderr, /\n {2}woman: 20 frames \(4\.0 s of media\) in [\d.]+ s: [\d.]+ fps, [\d.]+x real time; \d+ faces, 1 persons/);
  assert.match(r.stderr, /\n {2}stage: 20 frames \(4\.0 s of media\)/);
});

test('a bad second source fails that camera only: the first one\'s outputs are written, exit code 3 names it', async (t) => {
  if (!media(t)) return;
  const out = path.join(tmp, 'bad');
  const r = await run(['--source', `woman=${clips.woman}`, '--source', 'gone=/nonexistent/clip.mp4', '--out', out, '--quiet']);
  assert.equal(r.code, 3, r.stderr);
  const events = readEvents(path.join(out, 'woman'));
  assert.ok(events.some((e) => e.type === 'person.appeared'), 'the good camera was analysed');
  assert.equal(Object.keys(readTimelines(path.join(out, 'woman')).cameras.woman.persons).length, 1);
  assert.match(r.stderr, /\n {2}gone: FAILED after 0 frames: camera "gone": video file not found: \/nonexistent\/clip\.mp4; check the path/);
  assert.match(r.stderr, /\n {2}woman: 20 frames/);
  assert.match(r.stderr, /emostream: 1 of 2 cameras failed \(gone\); the others' outputs are written\n$/);
  // The failed camera has its folder too, with nobody in it.
  assert.deepEqual(readEvents(path.join(out, 'gone')), []);
  assert.deepEqual(readTimelines(path.join(out, 'gone')).cameras, { gone: { persons: {} } });
});

test('cameras on stdin (--cameras -): a camera that never answers is given up alone, its password in no output', async (t) => {
  if (!media(t)) return;
  const port = await freePort();
  const out = path.join(tmp, 'stdin');
  // The dead camera's give-up takes 3 s; the clip is read in real time (4 s) so the two overlap.
  const cameras = `# two cameras\nwoman=${clips.woman}\ndoor=rtsp://admin:hunter2-Pa55@127.0.0.1:${port}/cam\n`;
  const r = await run(['--cameras', '-', '--out', out, '--json', '--give-up-after', '3', '--realtime'], cameras);
  assert.equal(r.code, 3, r.stderr);
  for (const text of [r.stdout, r.stderr, ...['woman', 'door'].flatMap((c) => ['events.jsonl', 'timelines.json', 'report.html'].map((f) => fs.readFileSync(path.join(out, c, f), 'utf8')))]) {
    assert.ok(!text.includes('hunter2-Pa55'), 'the password leaked');
  }
  assert.match(r.stderr, /\n {2}door: FAILED after 0 frames: camera "door": no frame from rtsp:\/\/\*\*\*@127\.0\.0\.1:\d+\/cam for \d+ ms/);
  assert.match(r.stderr, /camera door failed: camera "door": no frame from/, 'said when it happened, while the other camera went on');
  const woman = readEvents(path.join(out, 'woman'));
  assert.ok(woman.some((e) => e.type === 'person.appeared'));
  assert.ok(woman.at(-1)!.mediaTimeMs >= 3000, 'the clip was analysed to its end');
  assert.match(r.stderr, /emostream: 1 of 2 cameras failed \(door\)/);
});

test('option errors: one clear line each, before any model loads', async () => {
  for (const [args, pattern] of [
    [['x.mp4', '--source', 'a=a.mp4'], /give one source \(analyze <file\|rtsp-url>\) or cameras .*, not both/],
    [['--source', 'a=a.mp4', '--camera', 'b'], /--camera names the camera of one source/],
    [['--source', 'bad id=a.mp4'], /--source expects <cameraId>=<file\|rtsp-url> with a camera id of 1-64 characters/],
    [['--source', 'a=a.mp4', '--source', 'a=b.mp4'], /camera a is given twice with different URLs \(--source\): keep one/],
    [['--cameras', path.join(tmp, 'none.txt')], /--cameras .*none\.txt: cannot be read \(ENOENT\)/],
  ] as const) {
    const r = await run([...args, '--out', path.join(tmp, 'opts')]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('emostream:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeTarget, PROCESS_READERS, type SourceOptions, type SourceReaders } from './analyzeSources.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-sources-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** The process's readers, with this stdin text and the warnings collected. */
function readers(stdin = ''): SourceReaders & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...PROCESS_READERS, stdin: async () => stdin, warn: (l) => warnings.push(l), warnings };
}
const opts = (o: Partial<SourceOptions>): SourceOptions => ({ sources: [], camera: 'cam0', cameraGiven: false, ...o });
function file(name: string, text: string, mode: number): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  fs.chmodSync(p, mode);
  return p;
}

test('one source as before: the positional argument and --camera; - reads its URL from stdin', async () => {
  assert.deepEqual(await analyzeTarget(opts({ source: 'clip.mp4', camera: 'door', cameraGiven: true }), readers()),
    { kind: 'single', source: 'clip.mp4', camera: 'door' });
  assert.deepEqual(await analyzeTarget(opts({ source: '-' }), readers('\n  rtsp://u:p@cam/s  \nignored\n')),
    { kind: 'single', source: 'rtsp://u:p@cam/s', camera: 'cam0' });
  await assert.rejects(analyzeTarget(opts({ source: '-' }), readers('\n\n')), /analyze -: no source on stdin/);
});

test('one source: any file name (spaces, brackets) keeps the camera id cam0; a --camera outside the id rule is one clear error', async () => {
  assert.deepEqual(await analyzeTarget(opts({ source: 'my clip (1).mp4' }), readers()), { kind: 'single', source: 'my clip (1).mp4', camera: 'cam0' });
  assert.deepEqual(await analyzeTarget(opts({ source: 'a.mp4', camera: 'x'.repeat(64), cameraGiven: true }), readers()), { kind: 'single', source: 'a.mp4', camera: 'x'.repeat(64) });
  for (const bad of ['my clip', 'door/1', '', 'x'.repeat(65), 'caméra']) {
    await assert.rejects(analyzeTarget(opts({ source: 'a.mp4', camera: bad, cameraGiven: true }), readers()),
      { message: `--camera '${bad}': a camera id is 1-64 characters of A-Z a-z 0-9 . _ -; choose another` });
  }
});

test('several cameras: --source options, repeatable, each <id>=<url>', async () => {
  const t = await analyzeTarget(opts({ sources: ['front=a.mp4', 'back=rtsp://u:p@10.0.0.5/s'] }), readers());
  assert.deepEqual(t, { kind: 'cameras', sources: [{ cameraId: 'front', url: 'a.mp4' }, { cameraId: 'back', url: 'rtsp://u:p@10.0.0.5/s' }] });
});

test('mixing or missing: one clear error each', async () => {
  await assert.rejects(analyzeTarget(opts({ source: 'a.mp4', sources: ['b=b.mp4'] }), readers()), /give one source \(analyze <file\|rtsp-url>\) or cameras \(--source <id>=<url>, --cameras <file>\), not both/);
  await assert.rejects(analyzeTarget(opts({}), readers()), /missing source: give a video file or an rtsp:\/\/ URL \(- reads it from stdin\), or cameras with --source/);
  await assert.rejects(analyzeTarget(opts({ sources: ['b=b.mp4'], camera: 'x', cameraGiven: true }), readers()), /--camera names the camera of one source; with --source or --cameras each camera has its id/);
  await assert.rejects(analyzeTarget(opts({ sources: ['b=-'] }), readers()), /--source b=-: to read cameras from stdin, write their <id>=<url> lines there and give --cameras -/);
  await assert.rejects(analyzeTarget(opts({ sources: ['b=b.mp4', 'b=c.mp4'] }), readers()), /camera b is given twice with different URLs/);
  await assert.rejects(analyzeTarget(opts({ sources: ['a b=b.mp4'] }), readers()), /--source expects <cameraId>=<file\|rtsp-url>/);
});

test('--cameras FILE merges with --source; a file with passwords that others can read gets a warning', async () => {
  const text = '# shop\nfront=rtsp://viewer:s3cret@10.0.0.5/s1\nback=back.mp4\n';
  const open = file('open.txt', text, 0o644);
  const r = readers();
  const t = await analyzeTarget(opts({ sources: ['back=back.mp4', 'side=side.mp4'], cameras: open }), r);
  assert.deepEqual(t.kind === 'cameras' && t.sources.map((s) => s.cameraId), ['back', 'side', 'front']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /--cameras .*open\.txt holds camera credentials and other users may read it \(mode 644\): chmod 600 /);
  assert.ok(!r.warnings[0].includes('s3cret'));
  // Private, or without credentials: no warning.
  const quiet = readers();
  await analyzeTarget(opts({ cameras: file('private.txt', text, 0o600) }), quiet);
  await analyzeTarget(opts({ cameras: file('plain.txt', 'a=a.mp4\nb=rtsp://10.0.0.5/s\n', 0o644) }), quiet);
  assert.deepEqual(quiet.warnings, []);
});

test('--cameras - reads the lines from stdin; a missing file is one clear error', async () => {
  const t = await analyzeTarget(opts({ cameras: '-' }), readers('a=rtsp://u:p@h/1\nb=rtsp://u:p@h/2\n'));
  assert.deepEqual(t, { kind: 'cameras', sources: [{ cameraId: 'a', url: 'rtsp://u:p@h/1' }, { cameraId: 'b', url: 'rtsp://u:p@h/2' }] });
  await assert.rejects(analyzeTarget(opts({ cameras: path.join(tmp, 'none.txt') }), readers()), /--cameras .*none\.txt: cannot be read \(ENOENT\); give a file of <id>=<url> lines, or - to read them from stdin/);
  await assert.rejects(analyzeTarget(opts({ cameras: file('bad.txt', 'a=a.mp4\nb=ftp://x/y\n', 0o600) }), readers()), /camera b: unsupported input ftp:\/\/x\/y/);
});

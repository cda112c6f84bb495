/**
 * `emostream analyze` on a damaged file: the decode errors ffmpeg met reach the closing summary
 * and the run's result (not only the log). The files are made here with real ffmpeg from its test
 * pattern; the damage is fixed garbage written over the middle of the picture data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyze, type AnalyzeOptions } from '@emostream/pipeline';
import { testModelDir } from './helpers/model.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let tmp = '';
let model = '';
let damaged = '';
let clean = '';

/** A 4 s H.264 clip of the test pattern (10 fps, a key frame every 2 s). */
function clip(file: string): string {
  execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10', '-t', '4',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '20', '-movflags', '+faststart', file]);
  return file;
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'analyze-decode-errors-'));
  model = await testModelDir();
  clean = clip(path.join(tmp, 'clean.mp4'));
  damaged = clip(path.join(tmp, 'damaged.mp4'));
  const bytes = readFileSync(damaged);
  // 8 KB of fixed garbage (an LCG) in the middle of the picture data.
  let x = 12345;
  for (let i = bytes.length >> 1, end = i + 8192; i < end; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; bytes[i] = x >>> 24; }
  writeFileSync(damaged, bytes);
});
after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), ...args], { cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
}

const options = (out: string): AnalyzeOptions => ({
  out, camera: 'cam0', fps: 5, detector: 'blazeface', model, rtspTransport: 'tcp', giveUpAfter: 60, maxWidth: 1280, backend: 'auto', quiet: true, thumbnails: false,
});

test('the summary line says how many decode errors a damaged file had, as many as the log counted', { timeout: 150_000 }, async () => {
  const r = await cli(['analyze', damaged, '--model', model, '--out', path.join(tmp, 'out-cli'), '--fps', '5', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  const summary = r.stderr.split('\n').find((l) => l.startsWith('analysed '));
  assert.ok(summary, r.stderr);
  const m = /^analysed 20 frames .*, (\d+) decode errors? \(the file is damaged; ffmpeg skipped or patched the pictures it could not decode\) \[/.exec(summary);
  assert.ok(m, summary);
  // The log's warning at the file's end counts the same errors.
  const warn = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; decodeErrors?: number })
    .find((l) => /decoded with errors/.test(l.msg));
  assert.ok(warn, 'the log warns of the damage');
  assert.ok(Number(m[1]) > 0);
  assert.equal(Number(m[1]), warn.decodeErrors);
});

test('the run\'s result carries decodeErrors: some for the damaged file, 0 for the same clip undamaged', { timeout: 150_000 }, async () => {
  const bad = await analyze(damaged, options(path.join(tmp, 'out-bad')));
  assert.equal(bad.frames, 20);
  assert.ok(bad.decodeErrors > 0, `decode errors: ${bad.decodeErrors}`);
  // The report says so too, with the same count; the clean clip's does not.
  const report = readFileSync(path.join(tmp, 'out-bad', 'report.html'), 'utf8');
  assert.match(report, new RegExp(`Decode errors</dt><dd>${bad.decodeErrors} \\(the file is damaged`));
  const good = await analyze(clean, options(path.join(tmp, 'out-good')));
  assert.equal(good.frames, 20);
  assert.equal(good.decodeErrors, 0);
  assert.doesNotMatch(readFileSync(path.join(tmp, 'out-good', 'report.html'), 'utf8'), /Decode errors/);
});

// V8's heap headroom (packages/runtime/src/heap.ts). With V8's own growing factor, `analyze` of a
// 720p clip ran a full (mark-compact) collection every 100-150 ms, about one every 3 frames at
// --fps 10, each freeing 1-5 MB; with the factor 2 that every emostream process now sets, one
// every 20-30 frames, most of them at start (bench/RESULTS.md, Session 27). The collections are
// counted in V8's own trace (`--trace-gc`), not timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MEDIA } from './helpers/model.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** The user's environment with the default headroom (whatever the runner's shell chose). */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' };
  delete env.EMOSTREAM_HEAP_GROWING_PERCENT;
  return env;
}

/** `emostream analyze` in a child under `--trace-gc`: the frames it analysed and the full collections V8 traced. */
function analyzeTraced(clip: string, out: string): Promise<{ code: number | null; frames: number; fullGcs: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--trace-gc', path.join(ROOT, 'bin/emostream.mjs'), 'analyze', clip, '--out', out, '--quiet'], { cwd: ROOT, env: childEnv() });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => {
      const fullGcs = (stdout.match(/Mark-Compact/g) ?? []).length;
      const frames = Number(/analysed (\d+) frames/.exec(stdout + stderr)?.[1] ?? 0);
      resolve({ code, frames, fullGcs, stderr });
    });
  });
}

test('analyze of a 720p clip: at most one full collection per 10 frames, V8 given its headroom', async (t) => {
  const source = path.join(MEDIA, 'woman2.mp4');
  if (!requireResource(t, 'sample media', filesMissing(source))) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-heap-'));
  try {
    const clip = path.join(dir, 'woman2-720p.mp4');
    execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-stream_loop', '1', '-i', source, '-vf', 'scale=1280:720,fps=25', '-c:v', 'libx264', '-preset', 'veryfast', '-y', clip]);
    const r = await analyzeTraced(clip, path.join(dir, 'out'));
    assert.equal(r.code, 0, r.stderr.slice(-500));
    assert.ok(r.frames >= 250, `only ${r.frames} frames analysed`);
    assert.ok(r.fullGcs * 10 <= r.frames, `${r.fullGcs} full collections for ${r.frames} frames`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('emostream with a bad EMOSTREAM_HEAP_GROWING_PERCENT: exit 1 before any work, naming the variable and what it accepts', () => {
  const env: NodeJS.ProcessEnv = { ...childEnv(), EMOSTREAM_HEAP_GROWING_PERCENT: 'lots' };
  let code = 0, stderr = '';
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'analyze', '/nonexistent.mp4'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const err = e as { status: number; stderr: string };
    code = err.status; stderr = err.stderr;
  }
  assert.equal(code, 1);
  assert.match(stderr, /^emostream: EMOSTREAM_HEAP_GROWING_PERCENT=lots: expected a whole number from 0 \(V8 decides\) to 1000/);
  assert.doesNotMatch(stderr, /nonexistent/, 'refused before the command looked at its input');
});

// Signals during inference must not corrupt the heap. oneDNN's JIT f32 GEMM kernels for AVX2 and
// AVX-512 in TensorFlow's library point the stack pointer into the heap while they run, so a signal
// handled meanwhile (SIGCHLD when ffmpeg exits, SIGTERM, a profiler's SIGPROF) wrote its frame over
// heap memory and the process aborted later ("corrupted size vs. prev_size", or a segfault).
// TensorFlow chose those kernels for faceres run op by op (eager calls on the main thread). Since
// every network of `analyze` and `serve` runs as a session call, none of them does, and `loadTf`
// caps oneDNN at AVX2 there (AVX elsewhere; packages/runtime/src/tf.ts). Under no cap, faceres op
// by op aborted within 71 and 424 signals in two tries, and `analyze` of the Hamilton clip under
// SIGCHLD died in one of two runs (bench/RESULTS.md, Session 21). The third case checks the kernels
// themselves: `analyze` under the product's cap runs no `gemm:jit` (ONEDNN_VERBOSE names each one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { humanModelsDir } from '@emostream/detector';
import { MEDIA } from './helpers/model.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
/** The environment of the children: the user's, without a oneDNN cap of their own. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' };
  delete env.ONEDNN_MAX_CPU_ISA;
  return env;
}

/** Runs a child, sending `signal` every 2 ms once `startWhen` says so; its exit code, output and the signals sent. */
function underSignals(args: string[], signal: NodeJS.Signals, startWhen: (stdout: string) => boolean, timeoutMs: number): Promise<{ code: number | null; sig: NodeJS.Signals | null; stdout: string; stderr: string; sent: number }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, env: childEnv() });
    let stdout = '', stderr = '', sent = 0, timer: NodeJS.Timeout | undefined;
    p.stdout.on('data', (d) => {
      stdout += d;
      if (!timer && startWhen(stdout)) timer = setInterval(() => { if (p.exitCode === null && p.signalCode === null && p.kill(signal)) sent++; }, 2);
    });
    p.stderr.on('data', (d) => { stderr += d; });
    const kill = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, sig) => { clearInterval(timer); clearTimeout(kill); resolve({ code, sig, stdout, stderr, sent }); });
  });
}

test('Human\'s faceres, embedding without pause while signals arrive every 2 ms: the process survives and finishes', async (t) => {
  if (!requireResource(t, 'Human\'s faceres model', filesMissing(path.join(humanModelsDir(), 'faceres.json')))) return;
  const r = await underSignals(['--import', 'tsx', 'test/helpers/embedUnderSignals.ts', '150'], 'SIGUSR2', (out) => out.includes('ready'), 300_000);
  assert.equal(r.code, 0, `exit ${r.code} (${r.sig}) after ${r.sent} signals: ${r.stderr.slice(-500)}`);
  const done = /done 150 (\d+)/.exec(r.stdout);
  assert.ok(done, r.stdout);
  assert.ok(Number(done[1]) >= 500, `only ${done[1]} signals reached it: the case did not stress anything`);
});

test('emostream analyze of a real clip with SIGCHLD arriving every 2 ms: exit 0 and every output written', async (t) => {
  const clip = path.join(MEDIA, 'short_hamilton_clip.mp4');
  if (!requireResource(t, 'sample media', filesMissing(clip))) return;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-signals-'));
  try {
    // libuv's own SIGCHLD handler is installed once ffmpeg runs; a spurious SIGCHLD only makes it look for exited children.
    const r = await underSignals([path.join(ROOT, 'bin/emostream.mjs'), 'analyze', clip, '--out', out, '--json'], 'SIGCHLD', (o) => o.length > 0, 300_000);
    assert.equal(r.code, 0, `exit ${r.code} (${r.sig}) after ${r.sent} signals: ${r.stderr.slice(-500)}`);
    for (const f of ['events.jsonl', 'timelines.json', 'report.html']) assert.ok(fs.existsSync(path.join(out, f)), `${f} missing`);
    assert.ok(r.sent >= 500, `only ${r.sent} signals sent`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('emostream analyze runs none of oneDNN\'s JIT GEMM kernels under its own cap (ONEDNN_VERBOSE names each kernel run)', async (t) => {
  const clip = path.join(MEDIA, 'short_hamilton_clip.mp4');
  if (!requireResource(t, 'sample media', filesMissing(clip))) return;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-kernels-'));
  try {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'analyze', clip, '--out', out, '--json', '--duration', '3', '--fps', '25'], { cwd: ROOT, env: { ...childEnv(), ONEDNN_VERBOSE: '1' } });
      let stdout = '', stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr.slice(-500));
    const runs = (r.stdout + r.stderr).split('\n').filter((l) => l.startsWith('onednn_verbose') && l.includes(',exec,cpu,'));
    assert.ok(runs.length > 100, `only ${runs.length} oneDNN kernel runs logged: ONEDNN_VERBOSE did not reach the library`);
    const kinds = new Map<string, number>();
    for (const l of runs) { const k = l.split(',').slice(5, 7).join(' '); kinds.set(k, (kinds.get(k) ?? 0) + 1); }
    const gemm = [...kinds].filter(([k]) => /gemm:jit/.test(k));
    t.diagnostic(`kernels: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    assert.deepEqual(gemm, [], `oneDNN's JIT GEMM ran (a signal meanwhile corrupts the heap above AVX): ${gemm.map(([k, n]) => `${k} x${n}`).join(', ')}`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

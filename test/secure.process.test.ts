// No password in a process list: `emostream analyze` reading a password-protected RTSP camera
// (GStreamer's RTSP server with basic auth), as a real process. Every process of the run
// (emostream's node, its ffprobe and its ffmpeg) is sampled from /proc while it runs: the password
// is in no command line and no environment, whether the URL came on stdin (`analyze -`) or on the
// command line (which emostream rewrites as soon as it starts).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './helpers/prometheus.js';
import { rtspServerUnavailable, startRtspServer } from './helpers/rtsp.js';
import { filesMissing, requireResource } from './helpers/resources.js';

const CLIP = path.resolve(ROOT, '../shared/data/media/short_hamilton_clip.mp4');
const resources = (t: TestContext) => requireResource(t, 'sample media', filesMissing(CLIP)) && requireResource(t, 'GStreamer RTSP server', rtspServerUnavailable());

interface Proc { pid: number; comm: string; cmdline: string; environ: string }

const read = (f: string) => { try { return fs.readFileSync(f, 'utf8'); } catch { return ''; } };

/** A process and all its descendants, from /proc. */
function tree(root: number): Proc[] {
  const out: Proc[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const cmdline = read(`/proc/${pid}/cmdline`).replace(/\0+/g, ' ').trim();
    if (cmdline) out.push({ pid, comm: read(`/proc/${pid}/comm`).trim(), cmdline, environ: read(`/proc/${pid}/environ`) });
    let tasks: string[] = [];
    try { tasks = fs.readdirSync(`/proc/${pid}/task`); } catch { /* gone */ }
    for (const t of tasks) stack.push(...read(`/proc/${pid}/task/${t}/children`).trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

/** Runs `emostream analyze` and samples its process tree every 2 ms until it exits. */
async function analyzeSampled(args: string[], stdin?: string): Promise<{ code: number | null; seen: Proc[]; stderr: string }> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-ps-'));
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/emostream.mjs'), 'analyze', ...args, '--out', out, '--fps', '2', '--duration', '2', '--no-progress'], {
    cwd: ROOT, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const seen: Proc[] = [];
  // Every sample of every process (a command line can change: emostream rewrites its own).
  const sampler = setInterval(() => { if (child.pid) seen.push(...tree(child.pid)); }, 2);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearInterval(sampler);
  fs.rmSync(out, { recursive: true, force: true });
  return { code, seen, stderr };
}

function assertNoPassword(t: TestContext, seen: Proc[], password: string, skipFirstNode = false) {
  const ffprobe = seen.filter((p) => p.comm === 'ffprobe');
  const ffmpeg = seen.filter((p) => p.comm === 'ffmpeg' && / -i /.test(p.cmdline));
  assert.ok(ffprobe.length > 0 && ffmpeg.length > 0, `ffprobe and ffmpeg sampled while they ran (${[...new Set(seen.map((p) => p.comm))].join(', ')})`);
  for (const p of [ffprobe[0], ffmpeg[0]]) t.diagnostic(`${p.comm}: ${p.cmdline}`);
  // The node process's first samples may predate its own rewrite (the first ~100 ms of its life).
  const rewritten = seen.findIndex((p) => p.comm !== 'ffprobe' && p.comm !== 'ffmpeg' && p.cmdline.startsWith('emostream '));
  for (const [i, p] of seen.entries()) {
    if (skipFirstNode && i < rewritten && !['ffprobe', 'ffmpeg'].includes(p.comm)) continue;
    assert.ok(!p.cmdline.includes(password), `${p.comm} (pid ${p.pid}) shows the password: ${p.cmdline}`);
    assert.ok(!p.environ.includes(password), `${p.comm} (pid ${p.pid}) has the password in its environment`);
  }
}

test('analyze - (the URL on stdin): no process of the run shows the password', { timeout: 120_000 }, async (t) => {
  if (!resources(t)) return;
  const password = 'St4ndard-In_pw';
  const server = await startRtspServer({ file: CLIP, user: 'viewer', password });
  try {
    const r = await analyzeSampled(['-', '--camera', 'door'], `${server.url}\n`);
    assert.equal(r.code, 0, r.stderr);
    assertNoPassword(t, r.seen, password);
    const node = r.seen.find((p) => p.comm !== 'ffprobe' && p.comm !== 'ffmpeg');
    t.diagnostic(`emostream: ${node?.cmdline}`);
  } finally {
    await server.stop();
  }
});

test('analyze rtsp://user:pass@… (the URL on the command line): emostream rewrites its own; ffprobe and ffmpeg never get it', { timeout: 120_000 }, async (t) => {
  if (!resources(t)) return;
  const password = 'Arg-v3ctor_pw';
  const server = await startRtspServer({ file: CLIP, user: 'viewer', password });
  try {
    const r = await analyzeSampled([server.url, '--camera', 'door']);
    assert.equal(r.code, 0, r.stderr);
    assertNoPassword(t, r.seen, password, true);
    const node = r.seen.filter((p) => p.comm !== 'ffprobe' && p.comm !== 'ffmpeg');
    assert.match(node.at(-1)!.cmdline, /^emostream analyze rtsp:\/\/\*\*\* --camera door/, 'the rewritten command line');
    t.diagnostic(`emostream, once started: ${node.at(-1)!.cmdline}`);
    const before = node.filter((p) => p.cmdline.includes(password)).length;
    t.diagnostic(`samples (every 2 ms) of emostream's node with the URL before its rewrite: ${before} of ${node.length}`);
  } finally {
    await server.stop();
  }
});

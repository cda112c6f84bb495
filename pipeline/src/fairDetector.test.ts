import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairDetector, type FairOutcome } from './fairDetector.js';

interface F { cameraId: string; capturedAtMs: number }

test('cameras take turns: three busy files get one frame each per round, whoever offered first', async () => {
  const order: string[] = [];
  const fair = new FairDetector<F, F>(async (f) => { order.push(f.cameraId); await new Promise((r) => setImmediate(r)); return f; });
  // `a` offers 30 frames, `b` and `c` 10 each, each as fast as they are taken (files: never skipped).
  const file = async (id: string, n: number) => { for (let k = 0; k < n; k++) assert.equal((await fair.offer({ cameraId: id, capturedAtMs: k }, false)).skipped, false); };
  await Promise.all([file('a', 30), file('b', 10), file('c', 10)]);
  assert.deepEqual(order.slice(0, 30), Array.from({ length: 10 }, () => ['a', 'b', 'c']).flat());
  assert.deepEqual(order.slice(30), Array(20).fill('a'), 'the rest goes to the one camera still offering');
  assert.deepEqual(fair.stats, { detected: 50, skipped: 0 });
  // While the detector is busy with `y`, a file may have one frame on offer, not two.
  const busy = fair.offer({ cameraId: 'y', capturedAtMs: 0 }, false);
  const first = fair.offer({ cameraId: 'z', capturedAtMs: 0 }, false);
  assert.throws(() => fair.offer({ cameraId: 'z', capturedAtMs: 1 }, false), /camera z offered a frame before its previous one was taken/);
  await Promise.all([busy, first]);
});

/**
 * Cameras in virtual time: a live camera sends a frame every `gapMs` and offers it at once; a
 * file offers its next frame as soon as the previous one was taken. The detector takes
 * `detectMs` of the camera's per frame (a "busy" camera can be slower), `firstMs` for the very
 * first frame (models loading). Returns per camera the frames detected and skipped, the
 * capture → detected delays, and when it ended.
 */
async function simulate(o: { detectMs: Record<string, number>; gapMs: number; seconds: number; files?: string[]; firstMs?: number }) {
  let now = 0;
  let outstanding = 0;
  let done = false;
  let first = true;
  let busyMs = 0;
  const waiters: Array<{ at: number; go: () => void }> = [];
  const wake = () => { for (const w of waiters.filter((x) => x.at <= now)) { waiters.splice(waiters.indexOf(w), 1); w.go(); } };
  const ids = Object.keys(o.detectMs);
  const r = Object.fromEntries(ids.map((id) => [id, { detected: 0, skipped: 0, delays: [] as number[], endedAtMs: 0 }]));
  const fair = new FairDetector<F, F>(async (f) => {
    const ms = first && o.firstMs ? o.firstMs : o.detectMs[f.cameraId];
    first = false;
    now += ms;
    busyMs += ms;
    r[f.cameraId].delays.push(now - f.capturedAtMs);
    wake();
    return f;
  });
  const record = (id: string) => (out: FairOutcome<F>) => { outstanding--; if (out.skipped) r[id].skipped++; else r[id].detected++; };
  // When nothing is on offer and every camera waits for its next frame, time moves on to the earliest one.
  const idle = () => {
    if (done) return;
    if (outstanding === 0 && waiters.length) { now = Math.max(now, Math.min(...waiters.map((w) => w.at))); wake(); }
    setImmediate(idle);
  };
  setImmediate(idle);
  const end = o.seconds * 1000;
  await Promise.all(ids.map(async (id, i) => {
    const taken: Array<Promise<void>> = [];
    for (let k = 0; k * o.gapMs < end; k++) {
      if (o.files?.includes(id)) {
        outstanding++;
        await fair.offer({ cameraId: id, capturedAtMs: now }, false).then(record(id));
        continue;
      }
      const at = k * o.gapMs + i;
      if (at > now) await new Promise<void>((go) => waiters.push({ at, go }));
      outstanding++;
      taken.push(fair.offer({ cameraId: id, capturedAtMs: at }, true).then(record(id)));
    }
    await Promise.all(taken);
    r[id].endedAtMs = now;
  }));
  done = true;
  return { by: r, busyShare: busyMs / now };
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

test('two live cameras at 10 fps on a detector that does 12.5 fps: equal shares, newest frames, no idle detector', async () => {
  const { by: r, busyShare } = await simulate({ detectMs: { a: 80, b: 80 }, gapMs: 100, seconds: 60 });
  for (const id of ['a', 'b']) {
    // Offered 600 frames each; the detector does 750 in the minute: 375 each, the rest skipped.
    assert.ok(Math.abs(r[id].detected - 375) <= 10, `${id}: ${r[id].detected} detected`);
    assert.equal(r[id].detected + r[id].skipped, 600);
    // A frame waits at most for the other camera's frame, then takes its own 80 ms.
    assert.ok(Math.max(...r[id].delays) <= 180, `${id}: longest capture → detected ${Math.max(...r[id].delays)} ms`);
  }
  assert.ok(Math.abs(r.a.detected - r.b.detected) <= 2, `equal shares: ${r.a.detected} vs ${r.b.detected}`);
  assert.ok(busyShare > 0.98, `the detector was busy ${(busyShare * 100).toFixed(1)}% of the time`);
});

test('a busy camera (slow frames, many faces) does not starve a quiet one; a file takes only what is left', async () => {
  // `busy` costs 150 ms a frame, `quiet` 40: together 1.9x what the detector has. One frame each per round.
  const { by: r } = await simulate({ detectMs: { busy: 150, quiet: 40 }, gapMs: 100, seconds: 60 });
  assert.ok(Math.abs(r.busy.detected - r.quiet.detected) <= 2, `frames per camera: busy ${r.busy.detected}, quiet ${r.quiet.detected}`);
  assert.ok(r.quiet.detected >= 300, `quiet camera: ${r.quiet.detected} of 600 frames`);
  assert.ok(p95(r.quiet.delays) <= 250, `quiet camera p95 ${p95(r.quiet.delays)} ms`);
  // A file read as fast as it goes beside a live camera: the camera keeps every frame and never
  // waits more than one file frame; the file loses nothing.
  const { by: f } = await simulate({ detectMs: { cam: 40, file: 40 }, gapMs: 100, seconds: 30, files: ['file'] });
  assert.equal(f.cam.skipped, 0, `camera skipped ${f.cam.skipped}`);
  assert.ok(Math.max(...f.cam.delays) <= 80, `camera waited at most ${Math.max(...f.cam.delays)} ms`);
  assert.equal(f.file.skipped, 0);
  assert.equal(f.file.detected, 300);
  // Its 30 s of frames in the detector's spare time (600 ms a second): about 20 s.
  assert.ok(f.file.endedAtMs < 22_000, `the file ended at ${f.file.endedAtMs} ms`);
});

test('a slow first detection (a model loading) costs the frames of that moment only', async () => {
  // One camera at 10 fps, 60 ms a frame once warm, 3 s for the first one.
  const { by: r } = await simulate({ detectMs: { cam: 60 }, gapMs: 100, seconds: 30, firstMs: 3000 });
  // The frames of those 3 s were replaced by the newest; every later one was analysed at once.
  assert.ok(r.cam.skipped <= 30 && r.cam.detected >= 270, `detected ${r.cam.detected}, skipped ${r.cam.skipped}`);
  assert.ok(Math.max(...r.cam.delays.slice(3)) <= 60, `longest capture → detected once warm: ${Math.max(...r.cam.delays.slice(3))} ms`);
});

test('with concurrency, frames of different cameras are detected side by side, never two of one camera, still in turns', async () => {
  let inFlight = 0, most = 0;
  const active = new Set<string>();
  const order: string[] = [];
  const fair = new FairDetector<F, F>(async (f) => {
    assert.ok(!active.has(f.cameraId), `two frames of ${f.cameraId} at once`);
    active.add(f.cameraId); inFlight++; most = Math.max(most, inFlight); order.push(f.cameraId);
    await new Promise((r) => setTimeout(r, 2));
    active.delete(f.cameraId); inFlight--;
    return f;
  }, { concurrency: 2 });
  // Three files and one live camera that offers faster than it is served.
  const file = async (id: string, n: number) => { for (let k = 0; k < n; k++) assert.equal((await fair.offer({ cameraId: id, capturedAtMs: k }, false)).skipped, false); };
  const live = async (n: number) => {
    const outcomes: Array<Promise<FairOutcome<F>>> = [];
    for (let k = 0; k < n; k++) { outcomes.push(fair.offer({ cameraId: 'live', capturedAtMs: k }, true)); await new Promise((r) => setTimeout(r, 1)); }
    return Promise.all(outcomes);
  };
  const [, , , liveOut] = await Promise.all([file('a', 8), file('b', 8), file('c', 8), live(30)]);
  assert.equal(most, 2, 'two frames in detection at once');
  assert.equal(order.filter((c) => c === 'a').length, 8);
  // Round-robin: no camera is served twice while another with a frame on offer waits a whole round.
  const firstRound = order.slice(0, 4).sort();
  assert.deepEqual(firstRound, ['a', 'b', 'c', 'live']);
  assert.ok(liveOut.some((o) => o.skipped) && liveOut.some((o) => !o.skipped), 'the live camera is served and skips the frames it could not wait for');
  assert.throws(() => new FairDetector(async () => undefined, { concurrency: 0 }), /concurrency must be a positive integer/);
});

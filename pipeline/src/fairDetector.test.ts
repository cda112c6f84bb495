import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairDetector, embeddedShed, type Schedulable } from './fairDetector.js';

test('cameras take turns: three busy cameras get one frame each per round, whoever offered first', async () => {
  const order: string[] = [];
  const fair = new FairDetector<Schedulable, Schedulable>(async (f) => { order.push(f.cameraId); await new Promise((r) => setImmediate(r)); return f; }, { shed: false });
  // `a` offers 30 frames, `b` and `c` 10 each, all as fast as they are taken (files: never shed).
  const cam = async (id: string, n: number) => { for (let k = 0; k < n; k++) assert.equal((await fair.offer({ cameraId: id, capturedAtMs: k }, false)).shed, false); };
  await Promise.all([cam('a', 30), cam('b', 10), cam('c', 10)]);
  assert.deepEqual(order.slice(0, 30), Array.from({ length: 10 }, () => ['a', 'b', 'c']).flat());
  assert.deepEqual(order.slice(30), Array(20).fill('a'), 'the rest goes to the one camera still offering');
  assert.deepEqual(fair.stats, { detected: 50, shed: 0 });
  // While the detector is busy with `y`, `z` may have one frame on offer, not two.
  const busy = fair.offer({ cameraId: 'y', capturedAtMs: 0 }, false);
  const first = fair.offer({ cameraId: 'z', capturedAtMs: 0 }, false);
  assert.throws(() => fair.offer({ cameraId: 'z', capturedAtMs: 1 }, false), /camera z offered a frame before its previous one was taken/);
  await Promise.all([busy, first]);
});

/**
 * Live cameras in virtual time: each sends a frame every `gapMs` into a queue of 8 (the oldest
 * dropped beyond), and offers its oldest waiting frame once its previous one was taken; the
 * detector takes `detectMs` per frame (per camera, so a "busy" camera can be slower). Returns
 * per camera the frames detected, shed and dropped, the capture → detected delays and when it
 * ended. A file offers its frames as fast as they are taken.
 */
async function liveCameras(o: { detectMs: Record<string, number>; gapMs: number; seconds: number; shed: boolean; files?: string[]; firstMs?: number }) {
  let now = 0;
  let outstanding = 0;
  let done = false;
  const waiters: Array<{ at: number; go: () => void }> = [];
  const wake = () => { for (const w of waiters.filter((x) => x.at <= now)) { waiters.splice(waiters.indexOf(w), 1); w.go(); } };
  const ids = Object.keys(o.detectMs);
  const r = Object.fromEntries(ids.map((id) => [id, { detected: 0, shed: 0, dropped: 0, delays: [] as number[], endedAtMs: 0 }]));
  const live = ids.filter((id) => !o.files?.includes(id));
  let first = true;
  const fair = new FairDetector<Schedulable, Schedulable>(async (f) => {
    now += first && o.firstMs ? o.firstMs : o.detectMs[f.cameraId];
    first = false;
    r[f.cameraId].delays.push(now - f.capturedAtMs);
    wake();
    return f;
  }, { shed: o.shed ? embeddedShed(live.length) : false, now: () => now, waiting: () => 0 });
  // When every camera waits for its next frame, time moves on to the earliest one.
  const idle = () => {
    if (done) return;
    if (outstanding === 0 && waiters.length) { now = Math.max(now, Math.min(...waiters.map((w) => w.at))); wake(); }
    setImmediate(idle);
  };
  setImmediate(idle);
  const end = o.seconds * 1000;
  await Promise.all(ids.map(async (id, i) => {
    const isFile = o.files?.includes(id);
    for (let k = 0; k * o.gapMs < end;) {
      const at = k * o.gapMs + i;
      if (!isFile && at > now) await new Promise<void>((go) => waiters.push({ at, go }));
      // The camera's queue holds 8 frames: older ones were dropped while this one waited.
      const newest = Math.floor((now - i) / o.gapMs);
      if (!isFile && newest - k >= 8) { r[id].dropped += newest - 7 - k; k = newest - 7; continue; }
      outstanding++;
      const out = await fair.offer({ cameraId: id, capturedAtMs: isFile ? now : at }, !isFile);
      outstanding--;
      if (out.shed) r[id].shed++; else r[id].detected++;
      k++;
    }
    r[id].endedAtMs = now;
  }));
  done = true;
  return r;
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

test('two live cameras at 10 fps on a detector that does 12.5 fps: fair shedding keeps both equal and recent', async () => {
  const o = { detectMs: { a: 80, b: 80 }, gapMs: 100, seconds: 60 };
  const shed = await liveCameras({ ...o, shed: true });
  const queued = await liveCameras({ ...o, shed: false });
  for (const id of ['a', 'b']) {
    // Offered 600 frames each; the detector does 750 in the minute: each camera gets about half of its frames.
    assert.ok(Math.abs(shed[id].detected - 300) <= 30, `${id}: ${shed[id].detected} detected with shedding`);
    assert.ok(p95(shed[id].delays.slice(50)) <= 300, `${id}: p95 capture → detected ${p95(shed[id].delays.slice(50))} ms with shedding`);
    // Without shedding the queues stay full: the same share, but every frame waits for 8 before it.
      assert.ok(p95(queued[id].delays.slice(50)) >= 800, `${id}: p95 ${p95(queued[id].delays.slice(50))} ms without shedding`);
    assert.ok(queued[id].dropped > 200, `${id}: ${queued[id].dropped} dropped from a full queue`);
  }
  assert.ok(Math.abs(shed.a.detected - shed.b.detected) <= 3, `equal shares: ${shed.a.detected} vs ${shed.b.detected}`);
});

test('a busy camera (slow frames, many faces) does not starve a quiet one; a file takes only what is left', async () => {
  // `busy` costs 150 ms a frame, `quiet` 40: together 1.9x what the detector has. Both get the
  // same frame rate: the shedder's spacing (2 cameras x ~95 ms x 1.25), rounded up to whole
  // frames of the camera (every third frame: 200 of 600).
  const r = await liveCameras({ detectMs: { busy: 150, quiet: 40 }, gapMs: 100, seconds: 60, shed: true });
  assert.ok(Math.abs(r.busy.detected - r.quiet.detected) <= 3, `frames per camera: busy ${r.busy.detected}, quiet ${r.quiet.detected}`);
  assert.ok(r.quiet.detected >= 180, `quiet camera: ${r.quiet.detected} of 600 frames`);
  assert.ok(p95(r.quiet.delays.slice(50)) <= 400, `quiet camera p95 ${p95(r.quiet.delays.slice(50))} ms`);
  // A file read as fast as it goes beside a live camera: the camera keeps every frame, never waits
  // more than one file frame, and the file is never shed.
  const f = await liveCameras({ detectMs: { cam: 40, file: 40 }, gapMs: 100, seconds: 30, shed: true, files: ['file'] });
  assert.equal(f.cam.shed + f.cam.dropped, 0, `camera lost ${f.cam.shed} shed + ${f.cam.dropped} dropped`);
  assert.ok(Math.max(...f.cam.delays) <= 80, `camera waited at most ${Math.max(...f.cam.delays)} ms`);
  assert.equal(f.file.shed, 0);
  assert.equal(f.file.detected, 300);
  // Its 30 s of frames in the detector's spare time (600 ms a second): about 20 s.
  assert.ok(f.file.endedAtMs < 22_000, `the file ended at ${f.file.endedAtMs} ms`);
});

test('a slow first detection (a model loading) does not make the shedder skip frames afterwards', async () => {
  // One camera at 10 fps, 60 ms a frame once warm, but 3 s for the first one.
  const r = await liveCameras({ detectMs: { cam: 60 }, gapMs: 100, seconds: 30, shed: true, firstMs: 3000 });
  assert.equal(r.cam.shed, 0, `${r.cam.shed} frames shed`);
  // The frames of the first 3 s overflowed the camera's queue of 8; every later one was analysed.
  assert.ok(r.cam.dropped <= 30 && r.cam.detected >= 270, `detected ${r.cam.detected}, dropped ${r.cam.dropped}`);
  assert.ok(p95(r.cam.delays.slice(40)) <= 100, `p95 capture → detected ${p95(r.cam.delays.slice(40))} ms once warm`);
});

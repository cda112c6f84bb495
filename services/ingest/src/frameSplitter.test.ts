import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameSplitter } from './frameSplitter.js';

function stream(frames: number, size: number): Buffer {
  const b = Buffer.alloc(frames * size);
  for (let i = 0; i < frames; i++) b.fill(i + 1, i * size, (i + 1) * size);
  return b;
}

test('frames spanning chunk boundaries come out whole and in order', () => {
  const size = 12;
  const all = stream(5, size);
  for (const chunk of [1, 5, 7, 12, 13, 25, 60]) {
    const s = new FrameSplitter(size);
    const out: Buffer[] = [];
    for (let o = 0; o < all.length; o += chunk) out.push(...s.push(all.subarray(o, o + chunk)));
    assert.equal(out.length, 5, `chunk ${chunk}`);
    out.forEach((f, i) => { assert.equal(f.length, size); assert.ok(f.every((v) => v === i + 1), `frame ${i} chunk ${chunk}`); });
    assert.equal(s.pendingBytes, 0);
  }
});

test('one chunk holding several frames and a partial tail', () => {
  const s = new FrameSplitter(4);
  const out = s.push(Buffer.from([1, 1, 1, 1, 2, 2, 2, 2, 3, 3]));
  assert.equal(out.length, 2);
  assert.equal(s.pendingBytes, 2);
  assert.equal(s.reset(), 2);
  assert.equal(s.push(Buffer.from([9, 9, 9, 9]))[0][0], 9);
});

test('frames do not alias the chunk memory', () => {
  const s = new FrameSplitter(2);
  const chunk = Buffer.from([1, 2]);
  const [f] = s.push(chunk);
  chunk[0] = 99;
  assert.equal(f[0], 1);
});

test('rejects a non-positive frame size', () => {
  assert.throws(() => new FrameSplitter(0), RangeError);
});

test('each frame has memory of its own: offset 0, not shared with another frame or Buffer\'s pool', () => {
  const s = new FrameSplitter(3);
  const frames = s.push(Buffer.from([1, 2, 3, 4, 5, 6, 7]));
  frames.push(...s.push(Buffer.from([8, 9])));
  assert.deepEqual(frames.map((f) => [...f]), [[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  for (const f of frames) {
    assert.equal(f.byteOffset, 0);
    assert.equal(f.buffer.byteLength, 3);
  }
  assert.notEqual(frames[0].buffer, frames[1].buffer);
  frames[0][0] = 42;
  assert.equal(frames[1][0], 4);
});

test('a frame begun before a reset does not leak into the next one', () => {
  const s = new FrameSplitter(4);
  assert.deepEqual(s.push(Buffer.from([7, 7, 7])), []);
  assert.equal(s.reset(), 3);
  const [f] = s.push(Buffer.from([1, 2, 3, 4]));
  assert.deepEqual([...f], [1, 2, 3, 4]);
  assert.equal(s.pendingBytes, 0);
});

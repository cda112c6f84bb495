import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packEmbedding, unpackEmbedding } from './embedding.js';

const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
};

test('an embedding packs to int8 base64 and keeps its direction', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const a = Array.from({ length: 1024 }, rnd);
  const b = a.map((x) => x + rnd() * 0.8);
  const pa = packEmbedding(a);
  assert.equal(pa.length, 1368);
  const ua = unpackEmbedding(pa);
  assert.equal(ua.length, 1024);
  assert.ok(cos(ua, a) > 0.999, `self similarity ${cos(ua, a)}`);
  assert.ok(Math.abs(cos(ua, unpackEmbedding(packEmbedding(b))) - cos(a, b)) < 0.005);
  assert.deepEqual(unpackEmbedding(packEmbedding([3, -4])), [95 / 127, -1]);
  assert.deepEqual(unpackEmbedding(packEmbedding([0, 0])), [0, 0], 'a zero vector stays zero');
});

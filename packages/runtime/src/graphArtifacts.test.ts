import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionArtifacts } from './graphArtifacts.js';
import type { GraphArtifacts } from './savedModel.js';

/** x → Mul(x, a) → Add(·, b) is `out`; Mul(x, c) is `other`. a and c are stored as float16, b as float32. */
function artifacts(): GraphArtifacts {
  const half = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x0001]); // 1, -2, 0.5, 2^-24 (the smallest subnormal)
  const b = new Float32Array([3.25, -7]);
  const c = new Uint16Array([0x7c00, 0x4000]); // +Infinity, 2
  const bytes = new Uint8Array(half.byteLength + b.byteLength + c.byteLength);
  bytes.set(new Uint8Array(half.buffer), 0);
  bytes.set(new Uint8Array(b.buffer), half.byteLength);
  bytes.set(new Uint8Array(c.buffer), half.byteLength + b.byteLength);
  const f16 = { dtype: 'float16', original_dtype: 'float32' };
  return {
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder' },
        { name: 'a', op: 'Const' },
        { name: 'b', op: 'Const' },
        { name: 'c', op: 'Const' },
        { name: 'mul', op: 'Mul', input: ['x', 'a'] },
        { name: 'out', op: 'Add', input: ['mul:0', 'b', '^x'] },
        { name: 'other', op: 'Mul', input: ['x', 'c'] },
      ],
    },
    weightSpecs: [
      { name: 'a', dtype: 'float32', shape: [4], quantization: f16 },
      { name: 'b', dtype: 'float32', shape: [2] },
      { name: 'c', dtype: 'float32', shape: [2], quantization: f16 },
    ],
    weightData: bytes.buffer,
  };
}

test('sessionArtifacts keeps what the output needs and widens float16 weights to float32', () => {
  const cut = sessionArtifacts(artifacts(), ['out']);
  assert.deepEqual(cut.modelTopology.node.map((n) => n.name), ['x', 'a', 'b', 'mul', 'out']);
  assert.deepEqual(cut.weightSpecs, [{ name: 'a', dtype: 'float32', shape: [4] }, { name: 'b', dtype: 'float32', shape: [2] }]);
  assert.deepEqual([...new Float32Array(cut.weightData)], [1, -2, 0.5, 2 ** -24, 3.25, -7]);
});

test('sessionArtifacts: every output kept, infinities widened; an unknown output or quantisation is an error', () => {
  const all = sessionArtifacts(artifacts(), ['out', 'other']);
  assert.equal(all.modelTopology.node.length, 7);
  assert.deepEqual([...new Float32Array(all.weightData)].slice(6), [Infinity, 2]);
  assert.throws(() => sessionArtifacts(artifacts(), ['nope']), /no node nope/);
  const a = artifacts();
  a.weightSpecs[2] = { ...a.weightSpecs[2], quantization: { dtype: 'uint8', min: 0, scale: 1 } };
  assert.throws(() => sessionArtifacts(a, ['out']), /weights take|uint8/);
});

test('sessionArtifacts widens every float16 value exactly (all 65,536 bit patterns against the formula)', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const a: GraphArtifacts = { modelTopology: { node: [{ name: 'w', op: 'Const' }] }, weightSpecs: [{ name: 'w', dtype: 'float32', shape: [65536], quantization: { dtype: 'float16' } }], weightData: all.buffer };
  const wide = new Float32Array(sessionArtifacts(a, ['w']).weightData);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    const want = exp === 0 ? sign * 2 ** -14 * (frac / 1024) : exp === 0x1f ? (frac ? NaN : sign * Infinity) : sign * 2 ** (exp - 15) * (1 + frac / 1024);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(wide[h]), `0x${h.toString(16)}`);
    else assert.ok(Object.is(wide[h], want), `0x${h.toString(16)}: ${wide[h]} against ${want}`);
  }
});

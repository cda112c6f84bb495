import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAP_GROWING_PERCENT, heapGrowingFlag } from './heap.js';

test('the heap growing factor: 2 by default, the variable\'s percent, V8\'s own at 0, node\'s own flag kept', () => {
  assert.equal(heapGrowingFlag({}, []), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(HEAP_GROWING_PERCENT, 100);
  assert.equal(heapGrowingFlag({ EMOSTREAM_HEAP_GROWING_PERCENT: ' 150 ' }, []), '--heap-growing-percent=150');
  assert.equal(heapGrowingFlag({ EMOSTREAM_HEAP_GROWING_PERCENT: '' }, []), '--heap-growing-percent=100');
  assert.equal(heapGrowingFlag({ EMOSTREAM_HEAP_GROWING_PERCENT: '0' }, []), undefined);
  assert.equal(heapGrowingFlag({}, ['--heap-growing-percent=50']), undefined);
  assert.equal(heapGrowingFlag({}, ['--heap_growing_percent', '50']), undefined);
  assert.equal(heapGrowingFlag({}, ['--heap-growing-percentage-x']), '--heap-growing-percent=100');
});

test('a bad EMOSTREAM_HEAP_GROWING_PERCENT names the variable, the value and the range', () => {
  for (const bad of ['-5', '1.5', 'lots', '2000']) {
    assert.throws(() => heapGrowingFlag({ EMOSTREAM_HEAP_GROWING_PERCENT: bad }, []),
      (e: Error) => e.message.startsWith(`EMOSTREAM_HEAP_GROWING_PERCENT=${bad}:`) && /0 \(V8 decides\) to 1000/.test(e.message));
  }
});

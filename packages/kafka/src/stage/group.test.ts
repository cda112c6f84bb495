import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StageError } from '../errors.js';
import { GroupMembership } from './group.js';
import { settle } from './fakes.js';

test('the first join is not a rejoin; every later one asks for one reload', () => {
  const g = new GroupMembership('emotions');
  assert.equal(g.joined, false);
  assert.deepEqual(g.assigned, []);
  g.join({ emotions: [0, 2], other: [1] });
  assert.equal(g.joined, true);
  assert.deepEqual(g.assigned, [0, 2]);
  assert.equal(g.takeRejoin(), false);
  g.join({ emotions: [1] });
  assert.deepEqual(g.assigned, [1]);
  assert.equal(g.takeRejoin(), true);
  assert.equal(g.takeRejoin(), false, 'taken once');
  g.join({ other: [3] });
  assert.deepEqual(g.assigned, [], 'no partition of the input topic');
  g.rejoinHandled();
  assert.equal(g.takeRejoin(), false, 'a resync reloaded the state already');
});

test('assigned is a copy of the assignment', () => {
  const g = new GroupMembership('in');
  const assignment = { in: [4, 5] };
  g.join(assignment);
  assignment.in.push(6);
  assert.deepEqual(g.assigned, [4, 5]);
});

test('a crash leaves the group but not the stage; the next join is a rejoin', async () => {
  const g = new GroupMembership('frames');
  g.join({ frames: [0] });
  g.crash();
  assert.equal(g.joined, false);
  let settled = false;
  g.done.then(() => { settled = true; }, () => { settled = true; });
  await settle();
  assert.equal(settled, false);
  g.join({ frames: [0] });
  assert.equal(g.joined, true);
  assert.equal(g.takeRejoin(), true);
});

test('fail rejects done with the error given', async () => {
  const g = new GroupMembership('frames');
  const e = new StageError('det: consumer stopped: group authorization failed', false);
  g.fail(e);
  await assert.rejects(g.done, (x) => x === e);
});

test('done never rejects unhandled (nobody has to listen)', async () => {
  const unhandled: unknown[] = [];
  const on = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', on);
  try {
    new GroupMembership('in').fail(new StageError('gone', false));
    await settle();
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', on);
  }
});

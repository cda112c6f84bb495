import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capOneDnnIsa } from './tf.js';

test('the oneDNN cap: AVX on x64, AVX2 where every network is a session call, unless the user chose; nothing elsewhere', () => {
  const env: NodeJS.ProcessEnv = {};
  capOneDnnIsa(env, 'x64');
  assert.equal(env.ONEDNN_MAX_CPU_ISA, 'AVX');
  const sessions: NodeJS.ProcessEnv = {};
  capOneDnnIsa(sessions, 'x64', 'sessions');
  assert.equal(sessions.ONEDNN_MAX_CPU_ISA, 'AVX2');
  const eager: NodeJS.ProcessEnv = {};
  capOneDnnIsa(eager, 'x64', 'eager');
  assert.equal(eager.ONEDNN_MAX_CPU_ISA, 'AVX');
  const chosen: NodeJS.ProcessEnv = { ONEDNN_MAX_CPU_ISA: 'ALL' };
  capOneDnnIsa(chosen, 'x64', 'sessions');
  assert.equal(chosen.ONEDNN_MAX_CPU_ISA, 'ALL', 'the user\'s choice is kept');
  const arm: NodeJS.ProcessEnv = {};
  capOneDnnIsa(arm, 'arm64', 'sessions');
  assert.equal(arm.ONEDNN_MAX_CPU_ISA, undefined);
});

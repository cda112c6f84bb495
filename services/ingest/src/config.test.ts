import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseSourceConfig, SourceConfigSchema } from './config.js';

test('defaults fill every field but url', () => {
  const c = parseSourceConfig({ url: 'a.mp4' });
  assert.equal(c.cameraId, 'cam0');
  assert.equal(c.rtspTransport, 'tcp');
  assert.equal(c.realtime, false);
  assert.ok(c.fpsLimit > 0 && c.stallTimeoutMs > 0 && c.queueMaxFrames > 0 && c.backoffMaxMs >= c.backoffInitialMs);
});

test('every field has a description', () => {
  for (const [k, v] of Object.entries(SourceConfigSchema.shape)) assert.ok((v as { description?: string }).description, k);
});

test('out-of-range values are rejected with the valid range', () => {
  assert.throws(() => parseSourceConfig({ url: 'a.mp4', fpsLimit: 0 }), /fpsLimit must be between 0.1 and 120/);
  assert.throws(() => parseSourceConfig({ url: 'a.mp4', stallTimeoutMs: 5 }), /stallTimeoutMs must be between 500 and 600000 ms/);
  assert.throws(() => parseSourceConfig({ url: 'a.mp4', queueMaxFrames: 1.5 }), /queueMaxFrames must be a whole number/);
  assert.throws(() => parseSourceConfig({ url: 'a.mp4', rtspTransport: 'http' }), /rtspTransport must be "tcp" or "udp"/);
  assert.throws(() => parseSourceConfig({ url: 'a.mp4', cameraId: 'a b' }), /cameraId must be/);
});

test('unknown keys fail and list the allowed ones', () => {
  assert.throws(() => parseSourceConfig({ url: 'a.mp4', fps: 5 }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /unknown key\(s\) fps; allowed: .*fpsLimit/);
    return true;
  });
});

test('missing url and bad combinations say what to change; the url is redacted', () => {
  assert.throws(() => parseSourceConfig({}), /url is required/);
  assert.throws(() => parseSourceConfig({ url: 'a.mp4', backoffInitialMs: 5000, backoffMaxMs: 1000 }), /raise backoffMaxMs/);
  assert.throws(() => parseSourceConfig({ url: 'rtsp://u:topsecret@h/s', realtime: true }), (e: unknown) => {
    assert.match((e as Error).message, /realtime applies to files only/);
    assert.ok(!(e as Error).message.includes('topsecret'));
    return true;
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, IngestSettingsSchema, ingestSettingsFromEnv, parseSourceConfig, SourceConfigSchema, SourceSettingsSchema } from './config.js';

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
  assert.throws(() => parseSourceConfig({ url: 'a.mp4', rotate: 45 }), /rotate must be 0, 90, 180 or 270 \(degrees clockwise\)/);
  assert.equal(parseSourceConfig({ url: 'a.mp4', rotate: 180 }).rotate, 180);
  assert.equal(parseSourceConfig({ url: 'a.mp4' }).rotate, 0);
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

test('one set of ingest fields and defaults: the service\'s INGEST_* settings and every camera\'s source config', () => {
  const s = ingestSettingsFromEnv({});
  // The service's defaults: retry within 3 s, for ever (analyze passes its own --give-up-after).
  assert.equal(s.backoffMaxMs, 3_000);
  assert.equal(s.giveUpAfterMs, 0);
  assert.equal(s.jpegQuality, 85);
  const c = parseSourceConfig({ url: 'a.mp4' });
  assert.equal(c.backoffMaxMs, 3_000);
  assert.equal(c.giveUpAfterMs, 0);
  for (const [k, field] of Object.entries(SourceSettingsSchema.shape)) {
    assert.equal((SourceConfigSchema.shape as Record<string, unknown>)[k], field, `${k}: the same field schema in SourceConfigSchema`);
    assert.equal((IngestSettingsSchema.shape as Record<string, unknown>)[k], field, `${k}: the same field schema in IngestSettingsSchema`);
  }
  assert.deepEqual(Object.keys(IngestSettingsSchema.shape).filter((k) => !(k in SourceConfigSchema.shape)), ['jpegQuality']);
});

test('ingestSettingsFromEnv: today\'s names (INGEST_FPS for fpsLimit), values by type, errors naming the variable', () => {
  const s = ingestSettingsFromEnv({
    INGEST_FPS: '2.5', INGEST_MAX_WIDTH: '320', INGEST_RTSP_TRANSPORT: 'udp', INGEST_REALTIME: 'true', INGEST_JPEG_QUALITY: '70',
    INGEST_GIVE_UP_AFTER_MS: '60000', INGEST_KILL_GRACE_MS: '500',
  });
  assert.equal(s.fpsLimit, 2.5);
  assert.equal(s.maxWidth, 320);
  assert.equal(s.rtspTransport, 'udp');
  assert.equal(s.realtime, true);
  assert.equal(s.jpegQuality, 70);
  assert.equal(s.giveUpAfterMs, 60_000);
  assert.equal(s.killGraceMs, 500);
  assert.throws(() => ingestSettingsFromEnv({ INGEST_FPS: 'ten' }), { message: 'invalid ingest settings: INGEST_FPS=ten: not a number (a number from 0.1 to 120)' });
  assert.throws(() => ingestSettingsFromEnv({ INGEST_FPS: '0' }), { message: 'invalid ingest settings: INGEST_FPS=0: INGEST_FPS must be between 0.1 and 120 frames per second' });
  assert.throws(() => ingestSettingsFromEnv({ INGEST_FPS_LIMIT: '5' }), /INGEST_FPS_LIMIT is not a setting; valid INGEST_\* names: INGEST_FPS, INGEST_MAX_WIDTH, /);
  assert.equal(ingestSettingsFromEnv({ INGEST_ROTATE: '270' }).rotate, 270);
  assert.throws(() => ingestSettingsFromEnv({ INGEST_ROTATE: '45' }), { message: 'invalid ingest settings: INGEST_ROTATE=45: INGEST_ROTATE must be 0, 90, 180 or 270 (degrees clockwise)' });
  assert.throws(() => ingestSettingsFromEnv({ INGEST_REALTIME: 'yes' }), { message: 'invalid ingest settings: INGEST_REALTIME=yes: must be true, false, 1 or 0' });
  assert.throws(() => ingestSettingsFromEnv({ INGEST_BACKOFF_INITIAL_MS: '5000' }),
    { message: 'invalid ingest settings: INGEST_BACKOFF_MAX_MS: INGEST_BACKOFF_MAX_MS (3000) must be >= INGEST_BACKOFF_INITIAL_MS (5000); raise INGEST_BACKOFF_MAX_MS or lower INGEST_BACKOFF_INITIAL_MS' });
});

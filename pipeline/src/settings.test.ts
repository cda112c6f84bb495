import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SettingsError } from '@emostream/runtime';
import { serviceSettingsFromEnv } from './settings.js';

test('serve ingest refuses a largest frame (INGEST_MAX_WIDTH x INGEST_MAX_HEIGHT) over the detector\'s pixel cap', () => {
  assert.doesNotThrow(() => serviceSettingsFromEnv('ingest', { INGEST_MAX_WIDTH: '4096', INGEST_MAX_HEIGHT: '4096' }), 'at the default cap');
  assert.throws(() => serviceSettingsFromEnv('ingest', { INGEST_MAX_WIDTH: '7680', INGEST_MAX_HEIGHT: '4320' }), (e: unknown) => {
    assert.ok(e instanceof SettingsError);
    assert.equal(e.message, 'invalid ingest settings: INGEST_MAX_WIDTH x INGEST_MAX_HEIGHT (7680x4320 = 33177600 pixels) is over EMOSTREAM_MAX_FRAME_PIXELS (16777216), the detector\'s cap: lower them, or raise EMOSTREAM_MAX_FRAME_PIXELS for ingest and the detector alike');
    return true;
  });
  assert.doesNotThrow(() => serviceSettingsFromEnv('ingest', { INGEST_MAX_WIDTH: '7680', INGEST_MAX_HEIGHT: '4320', EMOSTREAM_MAX_FRAME_PIXELS: String(7680 * 4320) }));
  assert.throws(() => serviceSettingsFromEnv('ingest', { EMOSTREAM_MAX_FRAME_PIXELS: '640' }), /\(1280x720 = 921600 pixels\) is over EMOSTREAM_MAX_FRAME_PIXELS \(640\)/);
  // Reported with the other bad variables, at once.
  assert.throws(() => serviceSettingsFromEnv('ingest', { EMOSTREAM_MAX_FRAME_PIXELS: '640', KAFKA_SSL: 'yes' }), (e: unknown) => e instanceof SettingsError && e.issues.length === 2);
  // Only ingest makes frames; the detector applies the cap.
  assert.equal(serviceSettingsFromEnv('detector', { EMOSTREAM_MAX_FRAME_PIXELS: '640' }).shared.maxFramePixels, 640);
});

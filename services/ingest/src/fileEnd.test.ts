import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedFrames, fileEnd, fileEndKind, type ExitEvent } from './fileEnd.js';

const exit = (o: Partial<ExitEvent> & { code?: number | null; signal?: string | null } = {}): ExitEvent => ({
  type: 'exit', exit: { code: o.code === undefined ? 0 : o.code, signal: o.signal ?? null, ...(o.exit?.error ? { error: o.exit.error } : {}) },
  framesEmitted: o.framesEmitted ?? 40, partialBytes: o.partialBytes ?? 0, errorLines: o.errorLines ?? [], errorCount: o.errorCount ?? o.errorLines?.length ?? 0,
});

test('fileEndKind: clean, damaged mid-file (all frames, errors), truncated (fewer), empty, failed', () => {
  assert.equal(fileEndKind(exit(), 40), 'clean');
  assert.equal(fileEndKind(exit({ errorLines: ['error while decoding MB 3 20'], errorCount: 36 }), 40), 'damaged');
  // 2 frames (or 2%) of slack: the fps filter's rounding at the end.
  assert.equal(fileEndKind(exit({ framesEmitted: 38, errorCount: 3 }), 40), 'damaged');
  assert.equal(fileEndKind(exit({ framesEmitted: 19, errorCount: 3 }), 40), 'truncated');
  // Errors and an unknown duration: cannot tell, called truncated (the warning says "or damaged").
  assert.equal(fileEndKind(exit({ errorCount: 3 }), undefined), 'truncated');
  // A partial frame at the end is a cut too, even without an error line.
  assert.equal(fileEndKind(exit({ framesEmitted: 19, partialBytes: 100 }), 40), 'truncated');
  assert.equal(fileEndKind(exit({ code: 1, errorCount: 1 }), 40), 'truncated');
  assert.equal(fileEndKind(exit({ framesEmitted: 0 }), 40), 'empty');
  assert.equal(fileEndKind(exit({ framesEmitted: 0, code: 1, errorCount: 1 }), 40), 'failed');
  assert.equal(fileEndKind(exit({ framesEmitted: 5, code: null, signal: 'SIGKILL' }), 40), 'failed');
});

test('fileEnd: a warning that counts the errors for damage, an error naming the file when there is no picture', () => {
  const damaged = fileEnd(exit({ errorLines: ['[h264] error while decoding MB 3 20'], errorCount: 36 }), 4004, { fps: 10, shown: 'a.mp4' });
  assert.ok(damaged.error === undefined);
  assert.equal(damaged.level, 'warn');
  assert.match(damaged.msg, /decoded with errors: damaged data mid-file/);
  assert.deepEqual([damaged.fields.decodeErrors, damaged.fields.expectedFrames], [36, 40]);
  const cut = fileEnd(exit({ framesEmitted: 19, errorCount: 2 }), 4004, { fps: 10, shown: 'a.mp4' });
  assert.ok(cut.error === undefined && /ended early/.test(cut.msg));
  const none = fileEnd(exit({ framesEmitted: 0 }), 4004, { fps: 10, shown: 'a.mp4' });
  assert.match(none.error ?? '', /ffmpeg decoded no picture from a\.mp4 .*check the file in a video player/);
  const failed = fileEnd(exit({ framesEmitted: 0, code: 1, errorLines: ['moov atom not found'] }), 4004, { fps: 10, shown: 'a.mp4' });
  assert.equal(failed.error, 'cannot decode a.mp4: ffmpeg exited with code 1 (moov atom not found); check that the file is a complete video ffmpeg can read');
  assert.equal(expectedFrames(undefined, 10), undefined);
  assert.equal(expectedFrames(4004, 10), 40);
});

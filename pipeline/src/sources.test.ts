import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingestSources, mergeSources, parseCamerasFile, parseSourceArg } from './sources.js';

test('a cameras file: one <id>=<url> per line, blanks and # comments skipped, spaces and CRLF tolerated', () => {
  const text = '# the shop\r\nfront=rtsp://viewer:s3cret@10.0.0.5/stream1\r\n\r\n  back = x\n  back=/videos/back door.mp4  \n# till=rtsp://10.0.0.7/s\n';
  assert.throws(() => parseCamerasFile(text, 'cams.txt'), /--cameras cams\.txt line 4 expects <cameraId>=<file\|rtsp-url>.*got 'back = x'/);
  const ok = parseCamerasFile(text.replace('  back = x\n', ''), 'cams.txt');
  assert.deepEqual(ok, [
    { cameraId: 'front', url: 'rtsp://viewer:s3cret@10.0.0.5/stream1' },
    { cameraId: 'back', url: '/videos/back door.mp4' },
  ]);
});

test('a cameras file: errors name the file and line, never a password; an empty file is an error', () => {
  assert.throws(() => parseCamerasFile('ok=a.mp4\nrtsp://admin:hunter2@10.0.0.9/s\n', 'cams.txt'), (e: Error) => {
    assert.match(e.message, /^--cameras cams\.txt line 2 expects <cameraId>=<file\|rtsp-url> with a camera id of 1-64 characters/);
    assert.match(e.message, /rtsp:\/\/\*\*\*@10\.0\.0\.9/);
    assert.ok(!e.message.includes('hunter2'), e.message);
    return true;
  });
  assert.throws(() => parseCamerasFile('# nothing yet\n\n', 'stdin'), /--cameras stdin: no camera in it; write one <cameraId>=<file\|rtsp-url> per line/);
});

test('camera ids: as the source config takes them (1-64 of A-Z a-z 0-9 . _ -), and never . or ..', () => {
  assert.deepEqual(parseSourceArg(`${'a'.repeat(64)}=x.mp4`), { cameraId: 'a'.repeat(64), url: 'x.mp4' });
  assert.deepEqual(parseSourceArg('cam-1.b_2=rtsp://h/s=1'), { cameraId: 'cam-1.b_2', url: 'rtsp://h/s=1' });
  for (const bad of [`${'a'.repeat(65)}=x.mp4`, 'caméra=x.mp4', 'a/b=x.mp4', '=x.mp4', 'cam=', 'cam']) {
    assert.throws(() => parseSourceArg(bad), /--source expects <cameraId>=<file\|rtsp-url>/, bad);
  }
  assert.throws(() => parseSourceArg('..=x.mp4'), /camera id '\.\.' is not allowed \(it names no folder of its own\)/);
  assert.throws(() => parseSourceArg('.=x.mp4', '--cameras c.txt line 3'), /: --cameras c\.txt line 3: camera id '\.' is not allowed/);
});

test('sources merged from several places: one URL twice counts once, two URLs for one id fail, each URL checked', () => {
  const a = { cameraId: 'a', url: 'a.mp4' };
  assert.deepEqual(mergeSources([{ from: '--source', sources: [a] }, { from: '--cameras c.txt', sources: [a, { cameraId: 'b', url: 'rtsp://h/s' }] }]),
    [a, { cameraId: 'b', url: 'rtsp://h/s' }]);
  assert.throws(() => mergeSources([{ from: '--source', sources: [a] }, { from: '--cameras c.txt', sources: [{ cameraId: 'a', url: 'other.mp4' }] }]),
    /camera a is given twice with different URLs \(--source \/ --cameras c\.txt\): keep one/);
  assert.throws(() => mergeSources([{ from: '--source', sources: [a, { cameraId: 'a', url: 'other.mp4' }] }]),
    /camera a is given twice with different URLs \(--source\): keep one/);
  assert.throws(() => mergeSources([{ from: '--source', sources: [{ cameraId: 'w', url: 'http://u:hunter2@h/x.m3u8' }] }]), (e: Error) => {
    assert.match(e.message, /^camera w: unsupported input/);
    assert.ok(!e.message.includes('hunter2'), e.message);
    return true;
  });
  // serve ingest's list goes through the same rules.
  assert.throws(() => ingestSources(['lobby=a.mp4'], 'lobby=b.mp4'), /camera lobby is given twice with different URLs \(--source \/ EMOSTREAM_SOURCES\): keep one/);
});

test('a camera\'s own turn: #rotate=<deg> at the end of its URL, in every list; a bad one names where and the choices', () => {
  assert.deepEqual(parseSourceArg('door=rtsp://viewer:s3cret@10.0.0.5/s#rotate=180'), { cameraId: 'door', url: 'rtsp://viewer:s3cret@10.0.0.5/s', settings: { rotate: 180 } });
  assert.deepEqual(parseSourceArg('hall=/videos/hall.mp4#rotate=0'), { cameraId: 'hall', url: '/videos/hall.mp4', settings: { rotate: 0 } });
  // Only a suffix that is the whole last option: a # elsewhere stays in the URL.
  assert.deepEqual(parseSourceArg('clip=/videos/take #2.mp4'), { cameraId: 'clip', url: '/videos/take #2.mp4' });
  assert.deepEqual(parseCamerasFile('a=x.mp4#rotate=90\nb=y.mp4\n', 'cams.txt'), [
    { cameraId: 'a', url: 'x.mp4', settings: { rotate: 90 } },
    { cameraId: 'b', url: 'y.mp4' },
  ]);
  assert.deepEqual(ingestSources(['a=x.mp4'], 'b=y.mp4#rotate=270,c=z.mp4'), [
    { cameraId: 'a', url: 'x.mp4' }, { cameraId: 'b', url: 'y.mp4', settings: { rotate: 270 } }, { cameraId: 'c', url: 'z.mp4' },
  ]);
  for (const bad of ['45', '', 'ninety', '-90', '360']) {
    assert.throws(() => parseCamerasFile(`a=rtsp://u:hunter2@h/s#rotate=${bad}\n`, 'cams.txt'), (e: Error) => {
      assert.match(e.message, /^--cameras cams\.txt line 1: #rotate= takes the degrees to turn the camera's frames clockwise: 0, 90, 180, 270; got '/);
      assert.ok(!e.message.includes('hunter2'), e.message);
      return true;
    }, bad);
  }
  // One camera given twice: the same turn counts once, two turns fail.
  const a = parseSourceArg('a=x.mp4#rotate=90');
  assert.deepEqual(mergeSources([{ from: '--source', sources: [a] }, { from: '--cameras c.txt', sources: [parseSourceArg('a=x.mp4#rotate=90')] }]), [a]);
  assert.throws(() => mergeSources([{ from: '--source', sources: [a] }, { from: '--cameras c.txt', sources: [parseSourceArg('a=x.mp4')] }]),
    /camera a is given twice with different turns \(#rotate=\) \(--source \/ --cameras c\.txt\): keep one/);
});

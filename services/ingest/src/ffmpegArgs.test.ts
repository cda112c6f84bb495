import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFfmpegArgs, classifyInput, ffconcatQuote, fpsArg, orientationFilter, rotationFilter, outputFps, outputSize, rtspInputList, toArgv, UnsupportedInputError } from './ffmpegArgs.js';

const base = { url: 'a.mp4', fps: 5, width: 320, height: 180 };
const valueAfter = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

test('file path: file,pipe whitelist, absolute file: input, no RTSP options', () => {
  const a = buildFfmpegArgs({ ...base, url: 'clips/a.mp4', cwd: '/data' });
  const argv = toArgv(a);
  assert.equal(a.kind, 'file');
  assert.equal(a.input, 'file:/data/clips/a.mp4');
  assert.equal(valueAfter(argv, '-protocol_whitelist'), 'file,pipe');
  assert.ok(!argv.includes('-rtsp_transport'));
  assert.ok(!argv.includes('-timeout'));
  assert.ok(!argv.includes('-re'));
  assert.ok(argv.includes('-nostdin'));
  assert.ok(argv.includes('-an'));
  assert.equal(valueAfter(argv, '-f'), 'rawvideo');
  assert.equal(valueAfter(argv, '-pix_fmt'), 'rgb24');
  assert.equal(argv.at(-1), 'pipe:1');
  assert.equal(a.frameBytes, 320 * 180 * 3);
  // whitelist and input options come before -i
  assert.ok(argv.indexOf('-protocol_whitelist') < argv.indexOf('-i'));
});

test('file: URL and realtime (-re before -i)', () => {
  const a = buildFfmpegArgs({ ...base, url: 'file:///tmp/x%20y.mp4', realtime: true });
  const argv = toArgv(a);
  assert.equal(a.input, 'file:/tmp/x y.mp4');
  assert.ok(argv.indexOf('-re') >= 0 && argv.indexOf('-re') < argv.indexOf('-i'));
});

test('rtsp: the URL is on stdin, never in argv: an ffconcat list with tcp and the timeout in µs; network whitelist without file', () => {
  const a = buildFfmpegArgs({ ...base, url: 'rtsp://u:s3cret@cam.local:554/s', readTimeoutMs: 2500 });
  const argv = toArgv(a);
  assert.equal(a.kind, 'rtsp');
  assert.ok(!argv.some((x) => x.includes('s3cret') || x.includes('cam.local')), `argv holds no part of the URL: ${argv.join(' ')}`);
  assert.equal(valueAfter(argv, '-i'), 'pipe:0');
  assert.deepEqual(argv.slice(argv.indexOf('-f'), argv.indexOf('-f') + 4), ['-f', 'concat', '-safe', '0']);
  assert.ok(argv.indexOf('-f') < argv.indexOf('-i'), 'the list format is an input option');
  assert.equal(a.stdin, "ffconcat version 1.0\nfile 'rtsp://u:s3cret@cam.local:554/s'\noption rtsp_transport tcp\noption timeout 2500000\n");
  const wl = valueAfter(argv, '-protocol_whitelist').split(',');
  assert.deepEqual(wl.sort(), ['pipe', 'rtp', 'rtsp', 'tcp', 'tls', 'udp']);
  assert.ok(!argv.includes('-stimeout') && !argv.includes('-rw_timeout'));
  assert.ok(!argv.includes('-re'), 'realtime is meaningless for a camera');
  assert.equal(buildFfmpegArgs(base).stdin, undefined, 'a file is named in argv, nothing on stdin');
});

test('the input list: a quote in the URL stays inside its entry; a line break is refused', () => {
  assert.equal(ffconcatQuote("rtsp://u:p'w@h/s"), "'rtsp://u:p'\\''w@h/s'");
  // A URL that tries to end its entry and add a directive of its own stays one quoted token.
  const evil = "rtsp://u:p@h/s'\\nfile '/etc/passwd";
  assert.equal(ffconcatQuote(evil).split("'\\''").length, 3);
  assert.throws(() => rtspInputList('rtsp://u:p@h/s\nfile /etc/passwd'), (e: unknown) => e instanceof UnsupportedInputError && /line break/.test((e as Error).message));
  assert.throws(() => buildFfmpegArgs({ ...base, url: 'rtsp://u:p@h/s\r\noption x y' }), /line break or NUL/);
});

test('fps filter and exact scale in the video filter chain', () => {
  const vf = valueAfter(toArgv(buildFfmpegArgs({ ...base, fps: 29.97 })), '-vf');
  assert.match(vf, /^fps=fps=2997\/100,scale=320:180/);
});

test('a still image: the fps filter passes its one picture on at the end instead of rounding it away', () => {
  assert.match(valueAfter(toArgv(buildFfmpegArgs({ ...base, still: true })), '-vf'), /^fps=fps=5:eof_action=pass,scale=/);
  assert.match(valueAfter(toArgv(buildFfmpegArgs({ ...base, still: false })), '-vf'), /^fps=fps=5,scale=/);
});

test('EXIF orientation: the turn first in the chain, autorotate off (no double turn); none for 1, unknown values and RTSP', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, undefined].map(orientationFilter), [
    undefined, 'hflip', 'hflip,vflip', 'vflip', 'transpose=cclock_flip', 'transpose=clock', 'transpose=clock_flip', 'transpose=cclock', undefined, undefined,
  ]);
  const turned = toArgv(buildFfmpegArgs({ ...base, width: 180, height: 320, still: true, orientation: 6 }));
  assert.match(valueAfter(turned, '-vf'), /^transpose=clock,fps=fps=5:eof_action=pass,scale=180:320:/);
  assert.ok(turned.indexOf('-noautorotate') >= 0 && turned.indexOf('-noautorotate') < turned.indexOf('-i'));
  const upright = toArgv(buildFfmpegArgs({ ...base, still: true, orientation: 1 }));
  assert.ok(!upright.includes('-noautorotate'));
  assert.match(valueAfter(upright, '-vf'), /^fps=/);
  assert.ok(!toArgv(buildFfmpegArgs({ ...base, url: 'rtsp://cam/s', orientation: 6 })).includes('-noautorotate'));
});

test('rotate: the turn after the scale (a quarter turn scales to the sides swapped), after an EXIF turn; other angles refused', () => {
  assert.deepEqual([0, 90, 180, 270, undefined].map(rotationFilter), [undefined, 'transpose=clock', 'hflip,vflip', 'transpose=cclock', undefined]);
  assert.throws(() => rotationFilter(45), /rotate must be 0, 90, 180 or 270 degrees, got 45/);
  assert.match(valueAfter(toArgv(buildFfmpegArgs({ ...base, width: 180, height: 320, rotate: 90 })), '-vf'), /^fps=fps=5,scale=320:180:flags=bilinear,transpose=clock,format=rgb24$/);
  assert.match(valueAfter(toArgv(buildFfmpegArgs({ ...base, rotate: 180 })), '-vf'), /^fps=fps=5,scale=320:180:flags=bilinear,hflip,vflip,format=rgb24$/);
  assert.match(valueAfter(toArgv(buildFfmpegArgs({ ...base, width: 180, height: 320, still: true, orientation: 6, rotate: 270 })), '-vf'),
    /^transpose=clock,fps=fps=5:eof_action=pass,scale=320:180:flags=bilinear,transpose=cclock,format=rgb24$/);
  assert.match(valueAfter(toArgv(buildFfmpegArgs({ ...base, rotate: 0 })), '-vf'), /scale=320:180:flags=bilinear,format=rgb24$/);
});

test('rejects schemes outside the whitelist with an error naming the redacted input', () => {
  for (const url of ['http://x/a.m3u8', 'concat:a.mp4|b.mp4', 'data:video/mp4;base64,AAAA', 'pipe:0', 'subfile:,,start,0,end,0,,:/etc/passwd', 'https://user:hunter22@x/y']) {
    assert.throws(() => buildFfmpegArgs({ ...base, url }), (e: unknown) => {
      assert.ok(e instanceof UnsupportedInputError);
      assert.match(e.message, /unsupported input .*scheme/);
      assert.match(e.message, /rtsp:\/\//, 'says what is accepted');
      assert.ok(!e.message.includes('hunter22'), 'password redacted');
      return true;
    });
  }
  assert.throws(() => classifyInput(''), /empty/);
  assert.throws(() => classifyInput('rtsp://'), UnsupportedInputError);
  // A password with an unencoded `/` makes no valid URL: none of it is shown.
  assert.throws(() => classifyInput('rtsp://u:pa/ss@10.0.0.5/s'), { message: 'unsupported input rtsp://***: not a valid URL (write a `/`, `?`, `#` or `@` in a user name or password as %2F, %3F, %23, %40); use a file path, a file: URL, or an rtsp:// or rtsps:// URL' });
});

test('outputSize keeps aspect, fits the box, rounds down to even', () => {
  assert.deepEqual(outputSize(640, 360, 1280, 720), { width: 640, height: 360 });
  assert.deepEqual(outputSize(1920, 1080, 1280, 720), { width: 1280, height: 720 });
  assert.deepEqual(outputSize(596, 336, 320, 320), { width: 320, height: 180 });
  // A portrait source fits the box turned: a phone's 1080x1920 as 720x1280, not 404x720.
  assert.deepEqual(outputSize(1080, 1920, 1280, 720), { width: 720, height: 1280 });
  assert.deepEqual(outputSize(336, 596, 320, 180), { width: 180, height: 318 });
  // A square box, or a landscape source, is not turned.
  assert.deepEqual(outputSize(1080, 1920, 720, 720), { width: 404, height: 720 });
  assert.deepEqual(outputSize(1920, 1080, 720, 1280), { width: 720, height: 404 });
  const odd = outputSize(641, 361, 9999, 9999);
  assert.deepEqual(odd, { width: 640, height: 360 });
  assert.throws(() => outputSize(0, 10, 100, 100), RangeError);
});

test('outputFps caps at the source rate and ignores absurd rates', () => {
  assert.equal(outputFps(10, 29.97), 10);
  assert.equal(outputFps(60, 29.97), 29.97);
  assert.equal(outputFps(10, undefined), 10);
  assert.equal(outputFps(10, 90000), 10);
  assert.equal(fpsArg(5), '5');
  assert.equal(fpsArg(29.97), '2997/100');
});

test('rejects odd output sizes and non-positive fps', () => {
  assert.throws(() => buildFfmpegArgs({ ...base, width: 321 }), RangeError);
  assert.throws(() => buildFfmpegArgs({ ...base, fps: 0 }), RangeError);
});

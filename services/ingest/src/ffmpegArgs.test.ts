import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFfmpegArgs, classifyInput, fpsArg, outputFps, outputSize, toArgv, UnsupportedInputError } from './ffmpegArgs.js';

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

test('rtsp: tcp by default, -timeout in µs before -i, network whitelist without file', () => {
  const a = buildFfmpegArgs({ ...base, url: 'rtsp://u:p@cam.local:554/s', readTimeoutMs: 2500 });
  const argv = toArgv(a);
  assert.equal(a.kind, 'rtsp');
  assert.equal(valueAfter(argv, '-rtsp_transport'), 'tcp');
  assert.equal(valueAfter(argv, '-timeout'), '2500000');
  assert.ok(argv.indexOf('-timeout') < argv.indexOf('-i'));
  const wl = valueAfter(argv, '-protocol_whitelist').split(',');
  assert.deepEqual(wl.sort(), ['rtp', 'rtsp', 'tcp', 'tls', 'udp']);
  assert.ok(!argv.includes('-stimeout') && !argv.includes('-rw_timeout'));
  assert.ok(!argv.includes('-re'), 'realtime is meaningless for a camera');
});

test('rtsp over udp and rtsps', () => {
  assert.equal(valueAfter(toArgv(buildFfmpegArgs({ ...base, url: 'rtsp://h/s', rtspTransport: 'udp' })), '-rtsp_transport'), 'udp');
  assert.equal(buildFfmpegArgs({ ...base, url: 'rtsps://h/s' }).kind, 'rtsp');
});

test('fps filter and exact scale in the video filter chain', () => {
  const vf = valueAfter(toArgv(buildFfmpegArgs({ ...base, fps: 29.97 })), '-vf');
  assert.match(vf, /^fps=fps=2997\/100,scale=320:180/);
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
});

test('outputSize keeps aspect, fits the box, rounds down to even', () => {
  assert.deepEqual(outputSize(640, 360, 1280, 720), { width: 640, height: 360 });
  assert.deepEqual(outputSize(1920, 1080, 1280, 720), { width: 1280, height: 720 });
  assert.deepEqual(outputSize(596, 336, 320, 320), { width: 320, height: 180 });
  assert.deepEqual(outputSize(1080, 1920, 1280, 720), { width: 404, height: 720 });
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './log.js';
import { redactText, redactUrl, urlSecrets } from './redact.js';

test('redactUrl: user:pass@ and a password with an unencoded @ (userinfo ends at the last @ before the host)', () => {
  assert.equal(redactUrl('rtsp://user:pass@camera.local:554/stream1'), 'rtsp://***@camera.local:554/stream1');
  assert.equal(redactUrl('rtsp://admin:p@ss@10.0.0.5/stream1'), 'rtsp://***@10.0.0.5/stream1');
  assert.equal(redactUrl('rtsp://admin:p@ss@w0rd@10.0.0.5:8554'), 'rtsp://***@10.0.0.5:8554');
  assert.equal(redactUrl("rtsp://viewer:Pr0c'li<st>\"pw@10.0.0.5/s"), 'rtsp://***@10.0.0.5/s', 'quotes and brackets in the password');
  assert.equal(redactUrl('rtsps://admin:p@ss@cam.local:322/live?channel=1#main'), 'rtsps://***@cam.local:322/live?channel=1#main');
  // already redacted, or nothing to redact: unchanged
  assert.equal(redactUrl('rtsp://***@10.0.0.7/stream1'), 'rtsp://***@10.0.0.7/stream1');
  assert.equal(redactUrl('rtsp://10.0.0.5:554/stream1?channel=1&subtype=0'), 'rtsp://10.0.0.5:554/stream1?channel=1&subtype=0');
  assert.equal(redactUrl('/videos/key=1.mp4'), '/videos/key=1.mp4');
  assert.equal(redactUrl('short_hamilton_clip.mp4'), 'short_hamilton_clip.mp4');
});

test('redactUrl: secret query parameters, any case, keeping the others', () => {
  assert.equal(redactUrl('rtsp://10.0.0.5:554/stream1?password=hunter2&channel=1'), 'rtsp://10.0.0.5:554/stream1?password=***&channel=1');
  assert.equal(
    redactUrl('rtsp://cam/s?pass=a1&pwd=b2&passwd=c3&token=d4&access_token=e5&auth=f6&key=g7&secret=h8&signature=i9&subtype=0'),
    'rtsp://cam/s?pass=***&pwd=***&passwd=***&token=***&access_token=***&auth=***&key=***&secret=***&signature=***&subtype=0');
  assert.equal(redactUrl('rtsp://cam/s?PassWord=x1&TOKEN=y2&Access_Token=z3&channel=2'), 'rtsp://cam/s?PassWord=***&TOKEN=***&Access_Token=***&channel=2');
  assert.equal(redactUrl('https://h.example/v.mp4?api_key=k1&X-Amz-Signature=abc%2Fdef%3D&accessToken=t1&monkey=banana'),
    'https://h.example/v.mp4?api_key=***&X-Amz-Signature=***&accessToken=***&monkey=banana');
  assert.equal(redactUrl('rtsp://admin:p@ss@10.0.0.5/stream1?channel=1&token=abc#frag'), 'rtsp://***@10.0.0.5/stream1?channel=1&token=***#frag');
  assert.equal(redactUrl('rtsp://10.0.0.5?pwd=x'), 'rtsp://10.0.0.5?pwd=***');
  assert.equal(redactUrl('rtsp://cam/s?password=&channel=1'), 'rtsp://cam/s?password=&channel=1');
});

test('redactText: URLs inside longer messages and ffmpeg output', () => {
  assert.equal(
    redactText("Input #0, rtsp, from 'rtsp://admin:p@ss@10.0.0.5/stream1?token=abc123&channel=2':"),
    "Input #0, rtsp, from 'rtsp://***@10.0.0.5/stream1?token=***&channel=2':");
  assert.equal(
    redactText('[rtsp @ 0x55d5c1a2b3c0] method DESCRIBE failed: 401 Unauthorized\nrtsp://admin:p@ss@10.0.0.5/stream1: Server returned 401 Unauthorized (authorization failed)'),
    '[rtsp @ 0x55d5c1a2b3c0] method DESCRIBE failed: 401 Unauthorized\nrtsp://***@10.0.0.5/stream1: Server returned 401 Unauthorized (authorization failed)');
  assert.equal(
    redactText('camera door: could not open rtsp://10.0.0.5/s?password=hunter2: Connection refused'),
    'camera door: could not open rtsp://10.0.0.5/s?password=***: Connection refused');
  assert.equal(
    redactText('camera door: no frame from rtsp://admin:p@ss@10.0.0.5: Connection timed out after 60 s'),
    'camera door: no frame from rtsp://***@10.0.0.5: Connection timed out after 60 s');
  assert.equal(
    redactText('{"msg":"ffmpeg exited","url":"rtsp://a:b@c@h/x?Secret=s3&q=1","other":"rtsp://u:v@h2/y"}'),
    '{"msg":"ffmpeg exited","url":"rtsp://***@h/x?Secret=***&q=1","other":"rtsp://***@h2/y"}');
  // bare key=value pairs outside a URL
  assert.equal(redactText('login with password=hunter2 and token=abc failed'), 'login with password=*** and token=*** failed');
  // option syntax that only looks like one is left alone
  assert.equal(
    redactText("--set expects section.key=value (e.g. detector.minScore=0.4), got 'detector.key=5'"),
    "--set expects section.key=value (e.g. detector.minScore=0.4), got 'detector.key=5'");
});

test('urlSecrets: every secret value of a URL, raw, decoded and encoded', () => {
  const url = 'rtsp://admin:p@ss@10.0.0.5/stream1?token=t0k3n%2Fx&channel=1&X-Amz-Signature=sig%3Dnature';
  const s = urlSecrets(url);
  for (const want of ['p@ss', 'p%40ss', 'admin:', 't0k3n%2Fx', 't0k3n/x', 'sig%3Dnature', 'sig=nature']) {
    assert.ok(s.includes(want), `${want} in ${JSON.stringify(s)}`);
  }
  assert.ok(!s.includes('1') && !s.includes('channel'), JSON.stringify(s));
  assert.deepEqual(urlSecrets('rtsp://10.0.0.5/stream1?channel=1'), []);
  assert.deepEqual(urlSecrets('clip.mp4'), []);
  assert.ok(urlSecrets('rtsp://u:s3cr%21t@h/x').includes('s3cr!t'));
  // a flag value is not scrubbed from every log line (`true` would break the JSON); a user name alone is no secret
  assert.deepEqual(urlSecrets('rtsp://viewer@cam/s?auth=true&token=abcdef'), ['abcdef']);
});

test('a logger given urlSecrets scrubs the secrets anywhere in free text', () => {
  const url = 'rtsp://admin:p@ss@10.0.0.5/stream1?token=t0k3n%2Fx&channel=1';
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), secrets: urlSecrets(url), level: 'debug' });
  log.error('ffmpeg said: bad password p@ss (p%40ss), token t0k3n/x aka t0k3n%2Fx', { url });
  const out = JSON.parse(lines[0]) as { msg: string; url: string };
  assert.equal(out.msg, 'ffmpeg said: bad password *** (***), token *** aka ***');
  assert.equal(out.url, 'rtsp://***@10.0.0.5/stream1?token=***&channel=1');
  for (const leak of ['p@ss', 'p%40ss', 't0k3n']) assert.ok(!lines[0].includes(leak), lines[0]);
});

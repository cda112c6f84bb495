/**
 * Property-based tests of the redaction (fast-check): generated camera URLs with credentials in
 * the userinfo (any printable characters a URL can hold there, `@`, `:` and quotes included) and
 * in secret query or fragment parameters; the secret never survives, the rest stays readable.
 * Secrets start with `ZQ9`, which nothing else generated contains, so "not in the output" is exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { redactText, redactUrl, urlSecrets } from './redact.js';

const lower = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnoprstuvwxy0123456789'), minLength: 1, maxLength: 10 });
/** Characters a password may hold unencoded in a userinfo (not `/`, `?`, `#` or blanks, which end it). */
const passwordChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPRSTUVWXYabcdefghijklmnoprstuvwxy0123456789@:!$\'()*+,;=-._~[]%');
const secret = fc.string({ unit: passwordChar, minLength: 0, maxLength: 16 }).map((s) => `ZQ9${s}`);
/** Characters a query value holds (up to `&`, `#`, `;` or a blank). */
const valueSecret = fc.string({ unit: fc.constantFrom(...'ABCDEFGHJKLMNPRSTUVWXYabcdefghijkmnoprstuvwxy0123456789-._~%+'), minLength: 1, maxLength: 16 }).map((s) => `ZQ9${s}`);
const secretName = fc.constantFrom('password', 'passwd', 'pwd', 'pass', 'token', 'access_token', 'auth', 'key', 'apikey', 'secret', 'signature',
  'Password', 'PWD', 'api_key', 'X-Amz-Signature', 'accessToken', 'sessionToken', 'client-secret');

const cameraUrl = fc.record({
  scheme: fc.constantFrom('rtsp', 'rtsps', 'rtmp', 'http', 'https', 'srt'),
  // Users start with U (hosts are lower case): a user name is scrubbed wherever it appears as `user:`.
  user: fc.option(lower.map((x) => `U${x}`), { nil: undefined }),
  password: fc.option(secret, { nil: undefined }),
  host: lower,
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  path: fc.array(lower, { maxLength: 3 }),
  secretParams: fc.array(fc.tuple(secretName, valueSecret), { maxLength: 3 }),
  plainParams: fc.array(fc.tuple(fc.constantFrom('channel', 'subtype', 'stream', 'profile'), lower), { maxLength: 2 }),
  fragmentSecret: fc.option(fc.tuple(secretName, valueSecret), { nil: undefined }),
}).map((u) => {
  const userinfo = u.user !== undefined || u.password !== undefined ? `${u.user ?? ''}${u.password !== undefined ? `:${u.password}` : ''}@` : '';
  const params = [...u.secretParams, ...u.plainParams].map(([k, v]) => `${k}=${v}`);
  const url = `${u.scheme}://${userinfo}${u.host}.example${u.port !== undefined ? `:${u.port}` : ''}/${u.path.join('/')}`
    + (params.length ? `?${params.join('&')}` : '') + (u.fragmentSecret ? `#${u.fragmentSecret[0]}=${u.fragmentSecret[1]}` : '');
  return { ...u, url };
});

test('redactUrl: no password or secret parameter survives; host, port, path and other parameters do', () => {
  fc.assert(fc.property(cameraUrl, (u) => {
    const out = redactUrl(u.url);
    assert.ok(!out.includes('ZQ9'), `${u.url} → ${out}`);
    assert.ok(out.includes(`${u.host}.example`), out);
    if (u.port !== undefined) assert.ok(out.includes(`:${u.port}`), out);
    for (const [k, v] of u.plainParams) assert.ok(out.includes(`${k}=${v}`), out);
  }), { numRuns: 2000 });
});

test('redactText: a URL inside log lines, errors and ffmpeg output, with the URL\'s secrets given as the logger gets them', () => {
  const around = fc.tuple(
    fc.constantFrom('', 'Input #0, rtsp, from \'', 'error opening ', 'camera "front": ', '[tcp @ 0x55d] Connection to ', '{"url":"'),
    fc.constantFrom('', '\': Invalid data found when processing input', ' failed: 401 Unauthorized', '"}', ': Connection refused', ' (retry 3)'),
  );
  fc.assert(fc.property(cameraUrl, around, (u, [before, after]) => {
    const text = `${before}${u.url}${after}`;
    const out = redactText(text, urlSecrets(u.url));
    assert.ok(!out.includes('ZQ9'), `${text} → ${out}`);
    assert.ok(out.includes(`${u.host}.example`), out);
  }), { numRuns: 2000 });
});

test('redactText: the password as written, decoded or encoded, wherever an error message prints it', () => {
  const decoded = (s: string) => { try { return decodeURIComponent(s); } catch { return s; } };
  fc.assert(fc.property(cameraUrl, fc.constantFrom('raw', 'decoded', 'encoded'), (u, form) => {
    fc.pre(u.password !== undefined);
    const p = form === 'raw' ? u.password! : form === 'decoded' ? decoded(u.password!) : encodeURIComponent(decoded(u.password!));
    const out = redactText(`auth failed for ${p} at ${u.host}.example`, urlSecrets(u.url));
    assert.ok(!out.includes('ZQ9'), `${u.url}: ${out}`);
  }), { numRuns: 2000 });
});

/**
 * Removes credentials from URLs and from any text that may contain one (ffmpeg output, errors):
 * the userinfo (`user:pass@`, up to the LAST `@` before the host, so a password with an
 * unencoded `@` goes too) and the values of secret query and fragment parameters (`password`, `pass`, `pwd`,
 * `passwd`, `token`, `access_token`, `auth`, `key`, `apikey`, `secret`, `signature`, any case,
 * also as the last word of a compound name: `api_key`, `X-Amz-Signature`, `accessToken`).
 * Scheme, host, port, path and the other query parameters stay readable.
 */

const SECRET_WORDS = ['password', 'passwd', 'pwd', 'pass', 'access_token', 'token', 'auth', 'apikey', 'key', 'secret', 'signature'];

function decode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

/** Whether a query parameter (or `name=value` pair) of this name holds a secret. */
export function isSecretParam(name: string): boolean {
  const n = decode(name);
  const lower = n.toLowerCase();
  return SECRET_WORDS.some((w) => {
    if (lower === w) return true;
    if (!lower.endsWith(w)) return false;
    const before = n[n.length - w.length - 1];
    const first = n[n.length - w.length];
    // `api_key`, `X-Amz-Signature`, `accessToken`; not `monkey`, not `section.key`
    return before === '_' || before === '-' || (/[a-z0-9]/.test(before) && /[A-Z]/.test(first));
  });
}

/** `scheme://` then everything up to whitespace, a quote or an angle bracket. */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s'"<>]*)/gi;

/** Replaces the userinfo of every `scheme://…` in `text`: it ends at the last `@` before the first `/`. */
function redactUserinfo(text: string): string {
  return text.replace(URL_IN_TEXT, (_m, scheme: string, rest: string) => {
    const slash = rest.indexOf('/');
    const at = (slash < 0 ? rest : rest.slice(0, slash)).lastIndexOf('@');
    return scheme + (at < 0 ? rest : '***' + rest.slice(at));
  });
}

/** Query and fragment parameters of a URL: after `?`, `&`, `;` or `#`. */
const PARAM_IN_URL = /([?&;#])([^\s=&#;?'"<>/]+)=([^\s&#;'"<>]*)/g;
/** The same, plus bare `name=value` pairs in free text (after whitespace, a quote, a bracket, a comma or a colon). */
const PARAM_IN_TEXT = /(^|[\s?&;#,:(\[{'"])([^\s=&#;?'"<>/,:(\[{]+)=([^\s&#;'"<>]*)/g;

function redactParams(text: string, inText: boolean): string {
  return text.replace(inText ? PARAM_IN_TEXT : PARAM_IN_URL, (m: string, pre: string, name: string, value: string, offset: number, whole: string) => {
    if (!value || !isSecretParam(name)) return m;
    // ffmpeg's `URL: message`: a colon that ends the value and is followed by a blank or the end is not the value's
    const next = whole[offset + m.length];
    const tail = inText && value.length > 1 && value.endsWith(':') && (next === undefined || /\s/.test(next)) ? ':' : '';
    return `${pre}${name}=***${tail}`;
  });
}

/**
 * `rtsp://user:p@ss@host/x?token=t&channel=1` → `rtsp://***@host/x?token=***&channel=1`;
 * leaves strings without credentials (file paths) alone.
 */
export function redactUrl(url: string): string {
  // One URL, not free text: its userinfo may hold quotes and brackets (`pa'ss`), which end a URL
  // found in text but not this one.
  const m = /^(\s*[a-z][a-z0-9+.-]*:\/\/)(\S*)$/i.exec(url);
  if (m) {
    const slash = m[2].indexOf('/');
    const at = (slash < 0 ? m[2] : m[2].slice(0, slash)).lastIndexOf('@');
    if (at >= 0) url = `${m[1]}***${m[2].slice(at)}`;
  }
  return redactParams(redactUserinfo(url), false);
}

/**
 * Redacts every URL's userinfo and secret query values in free text, bare `password=…`-style
 * pairs, and every string of `secrets` (see {@link urlSecrets}) wherever it appears.
 * ffmpeg prints the whole URL, password included, in its error and `Input #0` lines.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = redactParams(redactUserinfo(text), true);
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s.length >= 3) out = out.split(s).join('***');
  return out;
}

/**
 * The secrets of a URL: the password (and `user:`) and the values of secret query parameters
 * (but flag values such as `auth=true`), each as written, URL-decoded and URL-encoded, so that a
 * logger given them scrubs them from text that ffmpeg or an error message mangled. Strings under
 * three characters are not scrubbed from free text (see {@link redactText}).
 */
export function urlSecrets(url: string): string[] {
  const m = /^\s*[a-z][a-z0-9+.-]*:\/\/(\S*)/i.exec(url);
  if (!m) return [];
  const out: string[] = [];
  const push = (s: string) => { if (s && !out.includes(s)) out.push(s); };
  const add = (v: string) => {
    if (!v) return;
    const plain = decode(v);
    for (const f of [v, plain, decode(v.replace(/\+/g, ' ')), encodeURIComponent(plain)]) push(f);
  };
  let rest = m[1];
  const slash = rest.indexOf('/');
  const at = (slash < 0 ? rest : rest.slice(0, slash)).lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) {
      add(userinfo.slice(colon + 1));
      if (colon > 0) push(`${userinfo.slice(0, colon)}:`);
    }
    rest = rest.slice(at + 1);
  }
  try { add(new URL(url.trim()).password); } catch { /* not parseable: the manual split above is all */ }
  for (const p of rest.matchAll(/[?&;]([^=&#;?]+)=([^&#;]*)/g)) {
    // scrubbing `true` from every log line would break the JSON, and a flag is no secret
    if (isSecretParam(p[1]) && !/^(true|false|null|yes|no|on|off)$/i.test(p[2])) add(p[2]);
  }
  return out;
}

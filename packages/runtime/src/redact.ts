/** Removes credentials from URLs and from any text that may contain one (ffmpeg output, errors). */

/** `rtsp://user:pass@host/x` → `rtsp://***@host/x`; leaves other strings alone. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i, '$1***@');
}

/**
 * Redacts every `scheme://user:pass@` in free text, plus `password=`/`passwd=` query values.
 * ffmpeg prints the whole URL, password included, in its error and `Input #0` lines.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]*@/gi, '$1***@');
  out = out.replace(/((?:password|passwd|pwd|pass)=)[^&\s'"]+/gi, '$1***');
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join('***');
  return out;
}

/** The user:password part of a URL (decoded and raw), for redacting it from text that ffmpeg mangles. */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const out: string[] = [];
    if (u.password) out.push(u.password, decodeURIComponent(u.password));
    if (u.username) out.push(`${u.username}:`);
    return out;
  } catch {
    return [];
  }
}

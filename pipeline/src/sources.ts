/** The camera list of the ingest service: `--source` options and `EMOSTREAM_SOURCES`. */
import { redactText, urlSecrets } from '@emostream/runtime';
import { classifyInput, parseSourceConfig, type SourceConfig } from '@emostream/ingest';
import type { IngestSource } from './distributed/ingest.js';

/** `cameraId=url` → source (`from` names where it came from in the error). */
export function parseSourceArg(v: string, from = '--source'): IngestSource {
  const at = v.indexOf('=');
  const cameraId = at > 0 ? v.slice(0, at) : '';
  const url = at > 0 ? v.slice(at + 1) : '';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(cameraId) || !url) throw new Error(`${from} expects <cameraId>=<file|rtsp-url> with a camera id of A-Z a-z 0-9 . _ -, got '${redactText(v)}'`);
  return { cameraId, url };
}

/**
 * The cameras of `EMOSTREAM_SOURCES` (the Kubernetes Secret's key): `<cameraId>=<url>` entries
 * separated by newlines, spaces or commas (a comma inside a URL must be written %2C).
 */
export function parseSourcesEnv(v: string | undefined): IngestSource[] {
  if (!v) return [];
  return v.split(/[\s,]+/).filter(Boolean).map((e) => parseSourceArg(e, 'EMOSTREAM_SOURCES'));
}

/**
 * `--source` options and `EMOSTREAM_SOURCES` together: a camera named in both with the same URL
 * counts once (a manifest may pass the Secret both ways); with two different URLs it is an error.
 * Every source is checked here, so a bad camera id, URL scheme or setting fails at start with
 * the camera named and the credentials out of the message.
 */
export function ingestSources(args: string[], env: string | undefined, settings: Partial<SourceConfig> = {}): IngestSource[] {
  const byId = new Map<string, IngestSource>();
  for (const s of [...args.map((a) => parseSourceArg(a)), ...parseSourcesEnv(env)]) {
    const seen = byId.get(s.cameraId);
    if (seen && seen.url !== s.url) throw new Error(`camera ${s.cameraId} is given twice with different URLs (--source / EMOSTREAM_SOURCES): keep one`);
    if (seen) continue;
    try {
      parseSourceConfig({ ...settings, cameraId: s.cameraId, url: s.url });
      classifyInput(s.url);
    } catch (e) {
      throw new Error(`camera ${s.cameraId}: ${redactText((e as Error).message, urlSecrets(s.url))}`);
    }
    byId.set(s.cameraId, s);
  }
  return [...byId.values()];
}

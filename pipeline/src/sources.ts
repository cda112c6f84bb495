/**
 * Camera lists: `serve ingest`'s `--source` options and `EMOSTREAM_SOURCES`, and `analyze`'s
 * `--source` options and cameras file (`--cameras`). One grammar everywhere: `<cameraId>=<url>`,
 * the URL optionally ending in `#rotate=<deg>`, that camera's own turn.
 */
import { CAMERA_ID, CAMERA_ID_RULE } from '@emostream/contracts';
import { redactText, urlSecrets } from '@emostream/runtime';
import { ROTATIONS, classifyInput, parseRotation, parseSourceConfig, type SourceConfig } from '@emostream/ingest';
import type { IngestSource } from './distributed/ingest.js';

/** A camera's own turn at the end of its URL, as go2rtc writes source options: `rtsp://host/stream#rotate=180`. */
const ROTATE_SUFFIX = /#rotate=([^#]*)$/;

/**
 * A source's URL without its options suffix, and the settings the suffix sets: `#rotate=<deg>`
 * (0, 90, 180 or 270, clockwise) turns that camera's frames whatever `--rotate`/`INGEST_ROTATE`
 * say for the others. `from` names where it came from in the error.
 */
export function sourceOptions(url: string, from: string): { url: string; settings?: Partial<SourceConfig> } {
  const m = ROTATE_SUFFIX.exec(url);
  if (!m) return { url };
  const deg = parseRotation(m[1]);
  if (deg === undefined) {
    throw new Error(`${from}: #rotate= takes the degrees to turn the camera's frames clockwise: ${ROTATIONS.join(', ')}; got '${m[1].slice(0, 20)}'`);
  }
  return { url: url.slice(0, m.index), settings: { rotate: deg } };
}

/** `cameraId=url[#rotate=deg]` → source (`from` names where it came from in the error). */
export function parseSourceArg(v: string, from = '--source'): IngestSource {
  const at = v.indexOf('=');
  const cameraId = at > 0 ? v.slice(0, at) : '';
  const raw = at > 0 ? v.slice(at + 1) : '';
  const { url, settings } = sourceOptions(raw, from);
  if (!CAMERA_ID.test(cameraId) || !url) throw new Error(`${from} expects <cameraId>=<file|rtsp-url> with a camera id of ${CAMERA_ID_RULE}, got '${redactText(v)}'`);
  // `.` and `..` are valid ids but not folder names of their own (analyze writes <out>/<cameraId>/).
  if (cameraId === '.' || cameraId === '..') throw new Error(`${from}: camera id '${cameraId}' is not allowed (it names no folder of its own): choose another`);
  return settings ? { cameraId, url, settings } : { cameraId, url };
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
 * A cameras file (`analyze --cameras FILE`): one `<cameraId>=<url>` per line, surrounding spaces
 * ignored; blank lines and lines starting with `#` are skipped. `name` (the file's name, or
 * `stdin`) and the line number are in every error; a URL in an error is redacted.
 */
export function parseCamerasFile(text: string, name: string): IngestSource[] {
  const out: IngestSource[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    out.push(parseSourceArg(line, `--cameras ${name} line ${i + 1}`));
  });
  if (out.length === 0) throw new Error(`--cameras ${name}: no camera in it; write one <cameraId>=<file|rtsp-url> per line (# starts a comment)`);
  return out;
}

/**
 * Sources from several places together (`from` names each place in errors): a camera given
 * twice with the same URL counts once (a manifest may pass a Secret both ways); with two
 * different URLs it is an error. Every source is checked here, so a bad camera id, URL scheme
 * or setting fails at start with the camera named and the credentials out of the message.
 */
export function mergeSources(groups: ReadonlyArray<{ from: string; sources: readonly IngestSource[] }>, settings: Partial<SourceConfig> = {}): IngestSource[] {
  const byId = new Map<string, { s: IngestSource; from: string }>();
  for (const { from, sources } of groups) {
    for (const s of sources) {
      const seen = byId.get(s.cameraId);
      if (seen && (seen.s.url !== s.url || seen.s.settings?.rotate !== s.settings?.rotate)) {
        const where = seen.from === from ? from : `${seen.from} / ${from}`;
        throw new Error(`camera ${s.cameraId} is given twice with different ${seen.s.url !== s.url ? 'URLs' : 'turns (#rotate=)'} (${where}): keep one`);
      }
      if (seen) continue;
      try {
        parseSourceConfig({ ...settings, ...s.settings, cameraId: s.cameraId, url: s.url });
        classifyInput(s.url);
      } catch (e) {
        throw new Error(`camera ${s.cameraId}: ${redactText((e as Error).message, urlSecrets(s.url))}`);
      }
      byId.set(s.cameraId, { s, from });
    }
  }
  return [...byId.values()].map((v) => v.s);
}

/** `serve ingest`'s cameras: its `--source` options and `EMOSTREAM_SOURCES` (see {@link mergeSources}). */
export function ingestSources(args: string[], env: string | undefined, settings: Partial<SourceConfig> = {}): IngestSource[] {
  return mergeSources([
    { from: '--source', sources: args.map((a) => parseSourceArg(a)) },
    { from: 'EMOSTREAM_SOURCES', sources: parseSourcesEnv(env) },
  ], settings);
}

/**
 * What `analyze` runs on: one source (`analyze <file|url>`, or `-` for its URL on stdin) with
 * `--camera`, or several cameras (`--source <id>=<url>`, repeatable, and `--cameras <file>`, a
 * file of such lines, or `-` for that file on stdin). Checked before any model loads.
 */
import fs from 'node:fs';
import { CAMERA_ID_RULE, isCameraId } from '@emostream/contracts';
import { urlSecrets } from '@emostream/runtime';
import { mergeSources, parseCamerasFile, parseSourceArg, type IngestSource } from '@emostream/pipeline';

/** One source, as `analyze` always took it, or several cameras. */
export type AnalyzeTarget =
  | { kind: 'single'; source: string; camera: string }
  | { kind: 'cameras'; sources: IngestSource[] };

/** The options that name the sources. */
export interface SourceOptions {
  /** The positional `<source>`. */
  source?: string;
  /** `--source <id>=<url>` options, in order. */
  sources: readonly string[];
  /** `--cameras <file|->`. */
  cameras?: string;
  /** `--camera <id>` (default cam0). */
  camera: string;
  /** Whether `--camera` was given on the command line. */
  cameraGiven: boolean;
}

/** Where the text of stdin and of files comes from (tests pass their own). */
export interface SourceReaders {
  stdin: () => Promise<string>;
  readFile: (file: string) => string;
  /** The file's permission bits, for the warning about credentials other users can read. */
  mode: (file: string) => number;
  /** A warning for the user (stderr). */
  warn: (line: string) => void;
}

/** Reads all of stdin. */
export async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

/** The process's own readers: stdin, the file system, stderr. */
export const PROCESS_READERS: SourceReaders = {
  stdin: readStdin,
  readFile: (file) => fs.readFileSync(file, 'utf8'),
  mode: (file) => fs.statSync(file).mode,
  warn: (line) => process.stderr.write(`warning: ${line}\n`),
};

/** `analyze -`: the first non-blank line of stdin (a URL with a password then appears in no command line). */
function firstLine(text: string): string {
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim();
  if (!first) throw new Error('analyze -: no source on stdin (give a file path or an rtsp:// URL on its first line)');
  return first;
}

/** The cameras of `--cameras FILE` (or `-`: stdin); warns when a file with credentials is readable by other users. */
async function camerasOf(file: string, r: SourceReaders): Promise<IngestSource[]> {
  if (file === '-') return parseCamerasFile(await r.stdin(), 'stdin');
  let text: string;
  try {
    text = r.readFile(file);
  } catch (e) {
    throw new Error(`--cameras ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a file of <id>=<url> lines, or - to read them from stdin`);
  }
  const cameras = parseCamerasFile(text, file);
  const mode = r.mode(file) & 0o777;
  if (mode & 0o044 && cameras.some((c) => urlSecrets(c.url).length > 0)) {
    r.warn(`--cameras ${file} holds camera credentials and other users may read it (mode ${mode.toString(8)}): chmod 600 ${file}`);
  }
  return cameras;
}

/**
 * The run's target from its options. One source: the positional argument (or `-`, read from
 * stdin), any file name, and `--camera` (default cam0), a valid camera id. Several: `--source` options and the cameras file
 * together, every camera id and URL checked (a camera named twice with one URL counts once).
 */
export async function analyzeTarget(o: SourceOptions, r: SourceReaders = PROCESS_READERS): Promise<AnalyzeTarget> {
  const several = o.sources.length > 0 || o.cameras !== undefined;
  if (o.source !== undefined && several) {
    throw new Error('give one source (analyze <file|rtsp-url>) or cameras (--source <id>=<url>, --cameras <file>), not both');
  }
  if (!several) {
    if (o.source === undefined) throw new Error('missing source: give a video file or an rtsp:// URL (- reads it from stdin), or cameras with --source <id>=<url> or --cameras <file>');
    // The camera id goes on every event and into metric labels; the file's name is never one.
    if (!isCameraId(o.camera)) throw new Error(`--camera '${o.camera.slice(0, 80)}': a camera id is ${CAMERA_ID_RULE}; choose another`);
    return { kind: 'single', source: o.source === '-' ? firstLine(await r.stdin()) : o.source, camera: o.camera };
  }
  if (o.cameraGiven) throw new Error('--camera names the camera of one source; with --source or --cameras each camera has its id: <id>=<url>');
  const given = o.sources.map((s) => parseSourceArg(s));
  const stdinUrl = given.find((s) => s.url === '-');
  if (stdinUrl) throw new Error(`--source ${stdinUrl.cameraId}=-: to read cameras from stdin, write their <id>=<url> lines there and give --cameras -`);
  const groups = [{ from: '--source', sources: given }];
  if (o.cameras !== undefined) groups.push({ from: `--cameras ${o.cameras}`, sources: await camerasOf(o.cameras, r) });
  return { kind: 'cameras', sources: mergeSources(groups) };
}

/** A live camera for the benchmark: scripts/rtsp-server.py (GStreamer) looping a file over RTSP. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/rtsp-server.py');
/** The system python: GStreamer's bindings (`gi`) live there, not in a pyenv python. */
const PYTHON = '/usr/bin/python3';

/** Starts the looping server on a free port; resolves with its URL once it prints `ready`. */
export async function startLoopingCamera(file: string): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(PYTHON, [SCRIPT, '--port', '0', '--file', file, '--path', '/cam'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-2000); });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`RTSP server not ready in 15 s: ${err}`)); }, 15_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^ready (\S+)/m.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`RTSP server exited (${code}): ${err}`)); });
  });
  return {
    url,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const k = setTimeout(() => proc.kill('SIGKILL'), 2000);
      proc.once('exit', () => { clearTimeout(k); resolve(); });
      proc.kill('SIGTERM');
    }),
  };
}

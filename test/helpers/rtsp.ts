/** Starts scripts/rtsp-server.py (GStreamer) as a real RTSP camera looping a file, for integration tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/rtsp-server.py');
/** The system python: the pyenv python3 on PATH has no GStreamer bindings (`gi`). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Options of {@link startRtspServer}. */
export interface RtspServerOptions {
  /** An MP4 with an H.264 video track; it loops for ever. */
  file: string;
  /** Fixed port (to restart a server on the same port); a free one by default. */
  port?: number;
  /** Mount path, default /cam. */
  path?: string;
  /** Basic auth; the returned `url` then carries `user:password@`. */
  user?: string;
  password?: string;
  /** How long to wait for the "ready" line (ms). */
  readyTimeoutMs?: number;
}

/** A running server. */
export interface RtspServer {
  /** rtsp://[user:password@]127.0.0.1:PORT/PATH */
  url: string;
  /** The URL without credentials. */
  plainUrl: string;
  port: number;
  pid: number;
  /** SIGTERM, SIGKILL after 2 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL at once (a camera that dies); resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Why the RTSP server cannot run here (missing python/GStreamer), or undefined when it can. */
export function rtspServerUnavailable(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found (install python3-gi and gir1.2-gst-rtsp-server-1.0)`;
  if (!existsSync(SCRIPT)) return `${SCRIPT} not found`;
  return undefined;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
// A test that crashes must not leave cameras running.
process.once('exit', () => { for (const p of live) p.kill('SIGKILL'); });

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

/** Starts the server and waits until it listens. Rejects with its stderr when it cannot start. */
export async function startRtspServer(opts: RtspServerOptions): Promise<RtspServer> {
  const why = rtspServerUnavailable();
  if (why) throw new Error(`cannot start the RTSP test server: ${why}`);
  if (!existsSync(opts.file)) throw new Error(`RTSP test server: no such file ${opts.file}`);
  const port = opts.port ?? await freePort();
  const mount = opts.path ?? '/cam';
  const args = [SCRIPT, '--port', String(port), '--file', opts.file, '--path', mount];
  if (opts.user !== undefined) args.push('--user', opts.user, '--password', opts.password ?? '');
  const proc = spawn(SYSTEM_PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });

  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`RTSP test server did not get ready in ${opts.readyTimeoutMs ?? 10_000} ms: ${stderr}`));
    }, opts.readyTimeoutMs ?? 10_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/^ready /m.test(out)) { clearTimeout(timer); resolve(); }
    });
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`RTSP test server exited before ready (code ${code}, signal ${sig}): ${stderr.trim()}`));
    });
  });

  const cred = opts.user !== undefined ? `${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.password ?? '')}@` : '';
  const plainUrl = `rtsp://127.0.0.1:${port}${mount}`;
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
    await exited(proc);
    clearTimeout(t);
  };
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await exited(proc);
  };
  return { url: `rtsp://${cred}127.0.0.1:${port}${mount}`, plainUrl, port, pid: proc.pid!, stop, kill };
}

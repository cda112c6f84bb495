/** Deployment tools for tests: finding kustomize/promtool/hadolint, and a real Prometheus server on 127.0.0.1. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { freePort } from './rtsp.js';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function goBin(): string | undefined {
  const r = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  return r.status === 0 ? path.join(r.stdout.trim(), 'bin') : undefined;
}

/**
 * A tool's path: .cache/tools/bin (scripts/install-tools.sh), Go's bin folder, then PATH;
 * undefined when it is nowhere.
 */
export function findTool(name: string): string | undefined {
  const dirs = [path.join(ROOT, '.cache/tools/bin'), goBin(), ...(process.env.PATH ?? '').split(path.delimiter)];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

/** Why a tool is missing, as a skip message that says how to install it. */
export function missingTool(name: string): string {
  return `${name} not found (looked in .cache/tools/bin, $(go env GOPATH)/bin and PATH): run bash scripts/install-tools.sh`;
}

/** Runs a tool to completion; stdout, stderr and the exit code. */
export function runTool(cmd: string, args: string[], opts: { cwd?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** One sample series of an instant or range query. */
export interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

/** A running Prometheus server. */
export interface PrometheusServer {
  url: string;
  port: number;
  /** Folder holding its config and TSDB (removed by stop()). */
  dir: string;
  /** GET /api/v1/<path> with query parameters; throws with Prometheus' error on failure. */
  api<T = unknown>(apiPath: string, params?: Record<string, string | string[]>): Promise<T>;
  /** Instant query. */
  query(expr: string, time?: number): Promise<PromSeries[]>;
  /** Range query (start/end in seconds since the epoch). */
  queryRange(expr: string, start: number, end: number, stepSeconds: number): Promise<PromSeries[]>;
  /** SIGTERM, SIGKILL after 5 s; removes its folder. Idempotent. */
  stop(): Promise<void>;
  /** Its log so far (for failure messages). */
  log(): string;
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  /** The configuration (an object is written as YAML). Relative rule_files resolve from `dir`. */
  config: Record<string, unknown> | string;
  /** Extra files to put beside the config (name → content), e.g. rule files. */
  files?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** Why Prometheus cannot run here, or undefined. */
export function prometheusUnavailable(): string | undefined {
  return findTool('prometheus') ? undefined : missingTool('prometheus');
}

/** Starts `prometheus` (the Debian package's binary) on a free 127.0.0.1 port and waits until it is ready. */
export async function startPrometheus(o: PrometheusOptions): Promise<PrometheusServer> {
  const bin = findTool('prometheus');
  if (!bin) throw new Error(missingTool('prometheus'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-prom-'));
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, typeof o.config === 'string' ? o.config : YAML.stringify(o.config));
  for (const [name, text] of Object.entries(o.files ?? {})) fs.writeFileSync(path.join(dir, name), text);
  const port = await freePort();
  let logText = '';
  const child: ChildProcess = spawn(bin, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    '--log.level=warn',
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => { logText += d; });
  child.stderr?.on('data', (d) => { logText += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) { await stop(); throw new Error(`prometheus exited with code ${child.exitCode}: ${logText}`); }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { await stop(); throw new Error(`prometheus not ready after ${o.readyTimeoutMs ?? 20_000} ms: ${logText}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  const api = async <T>(apiPath: string, params: Record<string, string | string[]> = {}): Promise<T> => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
    const r = await fetch(`${url}/api/v1/${apiPath}?${qs}`);
    const body = await r.json() as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${apiPath} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    return body.data;
  };
  return {
    url, port, dir, api, stop, log: () => logText,
    query: async (expr, time) => (await api<{ result: PromSeries[] }>('query', { query: expr, ...(time ? { time: String(time) } : {}) })).result,
    queryRange: async (expr, start, end, step) =>
      (await api<{ result: PromSeries[] }>('query_range', { query: expr, start: String(start), end: String(end), step: String(step) })).result,
  };
}

/** A tiny structured logger (JSON lines to stderr); every message passes through redaction. */
import { redactText } from './redact.js';

/** Log levels, least to most severe. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The logger every stage receives. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: Level;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  /** Extra strings to redact (passwords from URLs). */
  secrets?: string[];
  base?: Record<string, unknown>;
}

/** A logger writing one redacted JSON object per line. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? ((process.env.EMOSTREAM_LOG_LEVEL as Level | undefined) ?? 'info');
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const secrets = opts.secrets ?? [];
  const base = opts.base ?? {};
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const line = JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...base, ...fields }, (_k, v) =>
      v instanceof Error ? { message: v.message, name: v.name } : v);
    write(redactText(line, secrets));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ level, write, secrets, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests, `--json` runs that keep stderr for progress). */
export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {}, child() { return silentLogger; },
};

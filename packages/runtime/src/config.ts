/** Shared helpers of the services' strict config schemas: one error listing every bad field; env reading. */
import type { z } from 'zod';

/** Parses `input` with `schema`; throws one error naming every bad field and what to change. */
export function parseConfig<S extends z.ZodType>(schema: S, what: string, input: unknown = {}): z.output<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`invalid ${what} config: ${lines.join('; ')}`);
}

/**
 * Collects `PREFIX_FIELD_NAME=value` variables into raw config fields (`fieldName`), turning
 * numbers and true/false into their types. Unknown names are passed through as they are, so the
 * strict schema rejects them by name.
 */
export function configFromEnv(env: NodeJS.ProcessEnv, prefix: string, fields: readonly string[]): Record<string, unknown> {
  const byEnvName = new Map(fields.map((k) => [k.replace(/([A-Z])/g, '_$1').toUpperCase(), k]));
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined) continue;
    const key = name.slice(prefix.length);
    const n = Number(value);
    raw[byEnvName.get(key) ?? key] = value === 'true' ? true : value === 'false' ? false
      : value.trim() !== '' && Number.isFinite(n) ? n : value;
  }
  return raw;
}

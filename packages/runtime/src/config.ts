/** Parsing a service's strict config schema: one error listing every bad field (env reading: ./settings.ts). */
import type { z } from 'zod';

/** Parses `input` with `schema`; throws one error naming every bad field and what to change. */
export function parseConfig<S extends z.ZodType>(schema: S, what: string, input: unknown = {}): z.output<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`invalid ${what} config: ${lines.join('; ')}`);
}

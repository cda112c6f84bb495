/**
 * The one way settings are read from the environment. A service's settings are one strict zod
 * object with one env prefix: the variable of field `fooBarMs` is `PREFIX_FOO_BAR_MS` (a field
 * may name its own suffix with `.meta({ env: 'FOO' })`, for a name older than the rule). Each
 * value is converted by its field's own type, never guessed:
 *
 *   number          `Number(text)`; anything else is an error naming the variable
 *   boolean         `true`, `false`, `1` or `0` only
 *   string, enum    the text as it is (`"1"` stays the string "1")
 *   array of text   comma-separated, blanks dropped
 *
 * An empty value counts as unset. A variable with the prefix that is no field is an error that
 * lists the valid names, except the names in `ignore` (read by other code) and the service links
 * Kubernetes puts into every pod (`<SERVICE>_SERVICE_HOST`, `<SERVICE>_PORT=tcp://…`). Errors
 * name the variable (not the field) and its valid values, and never echo a text value (it may
 * be a password or a camera URL).
 */
import { z } from 'zod';

/** A settings schema: a (strict) zod object, refinements allowed. */
export type SettingsSchema = z.ZodObject;

/** How a field's text is converted. */
export type SettingKind = 'number' | 'boolean' | 'string' | 'enum' | 'list' | 'unsupported';

/** One field of a settings schema, as the environment sees it. */
export interface SettingField {
  /** The field name (`smoothingMs`). */
  key: string;
  /** The environment variable (`AGGREGATOR_SMOOTHING_MS`). */
  name: string;
  kind: SettingKind;
  /** The field's schema. */
  schema: z.ZodType;
  /** The default value, or undefined when the field has none. */
  default: unknown;
  /** The field's description. */
  description: string;
  /** What the field accepts, in words ("a whole number from 0 to 65535"). */
  values: string;
}

/** A bad setting (or several); `issues` has one line each, naming the variable. */
export class SettingsError extends Error {
  constructor(message: string, readonly issues: string[]) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** The parts of a zod v4 schema definition the reader looks at. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  entries?: Record<string, unknown>;
  values?: unknown[];
  defaultValue?: unknown;
  checks?: Array<{ _zod: { def: Record<string, unknown> } }>;
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** The type under `.default()`, `.optional()` and similar wrappers. */
function unwrap(s: z.ZodType): { inner: z.ZodType; default: unknown } {
  let inner = s;
  let dflt: unknown;
  for (let d = defOf(inner); ; d = defOf(inner)) {
    if (d.type === 'default' && dflt === undefined) dflt = d.defaultValue;
    if (WRAPPERS.has(d.type) && d.innerType) inner = d.innerType;
    else if (d.type === 'pipe' && d.in) inner = d.in;
    else return { inner, default: dflt };
  }
}

function kindOf(inner: z.ZodType): SettingKind {
  const d = defOf(inner);
  if (d.type === 'number' || d.type === 'boolean' || d.type === 'string' || d.type === 'enum') return d.type;
  if (d.type === 'literal') return 'enum';
  if (d.type === 'array' && d.element && defOf(unwrap(d.element).inner).type === 'string') return 'list';
  return 'unsupported';
}

/** What a field accepts, in words. */
export function describeValues(field: z.ZodType): string {
  // A field whose values no check states (a refinement) names them in its metadata.
  const named = (z.globalRegistry.get(field) as { values?: string } | undefined)?.values;
  if (named) return named;
  const { inner } = unwrap(field);
  const d = defOf(inner);
  switch (kindOf(inner)) {
    case 'boolean': return 'true, false, 1 or 0';
    case 'enum': return `one of ${(d.type === 'literal' ? d.values ?? [] : Object.values(d.entries ?? {})).join(', ')}`;
    case 'list': return `a comma-separated list, each ${describeValues(d.element!).replace(/^an? /, '')}`;
    case 'string': {
      const pattern = d.checks?.map((c) => c._zod.def).find((c) => c.format === 'regex')?.pattern as RegExp | undefined;
      const min = d.checks?.map((c) => c._zod.def).find((c) => c.check === 'min_length')?.minimum as number | undefined;
      return pattern ? `text matching ${pattern.source}` : min ? 'non-empty text' : 'text';
    }
    case 'number': {
      let int = false;
      let lo: { v: unknown; inclusive: boolean } | undefined, hi: typeof lo;
      for (const c of d.checks?.map((x) => x._zod.def) ?? []) {
        if (c.check === 'number_format' && /int/.test(String(c.format))) int = true;
        if (c.check === 'greater_than') lo = { v: c.value, inclusive: Boolean(c.inclusive) };
        if (c.check === 'less_than') hi = { v: c.value, inclusive: Boolean(c.inclusive) };
      }
      const what = int ? 'a whole number' : 'a number';
      if (lo?.inclusive && hi?.inclusive) return `${what} from ${lo.v} to ${hi.v}`;
      const bounds = [lo && `${lo.inclusive ? '≥' : '>'} ${lo.v}`, hi && `${hi.inclusive ? '≤' : '<'} ${hi.v}`].filter(Boolean);
      return bounds.length ? `${what} ${bounds.join(' and ')}` : what;
    }
    default: return 'not settable from the environment';
  }
}

/** `fooBarMs` → `FOO_BAR_MS`. */
export function upperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The fields of a settings schema with their variable names, in the schema's order. */
export function settingFields(schema: SettingsSchema, prefix: string): SettingField[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) => {
    const meta = z.globalRegistry.get(field) as { env?: string; description?: string } | undefined;
    const { inner, default: dflt } = unwrap(field);
    return {
      key, name: prefix + (meta?.env ?? upperSnake(key)), kind: kindOf(inner), schema: field,
      default: dflt, description: meta?.description ?? field.description ?? '', values: describeValues(field),
    };
  });
}

/**
 * Converts one text value by its field's type. Returns the value, or `{ error }` saying what is
 * wrong (without the text). Used by the environment reader and by command-line `--set` options.
 */
export function coerceSetting(field: Pick<SettingField, 'kind' | 'values'>, text: string): { value: unknown } | { error: string } {
  const t = text.trim();
  switch (field.kind) {
    case 'number': {
      const n = Number(t);
      return t !== '' && Number.isFinite(n) ? { value: n } : { error: `not a number (${field.values})` };
    }
    case 'boolean':
      if (t === 'true' || t === '1') return { value: true };
      if (t === 'false' || t === '0') return { value: false };
      return { error: `must be true, false, 1 or 0` };
    case 'list': return { value: t.split(',').map((s) => s.trim()).filter(Boolean) };
    case 'unsupported': return { error: 'cannot be set from text' };
    default: return { value: text };
  }
}

/** Whether a text value may appear in a message: numbers, booleans and choices; never free text. */
export const showsValue = (kind: SettingKind) => kind === 'number' || kind === 'boolean' || kind === 'enum';

/** Kubernetes' service links (`enableServiceLinks`), present in every pod of the namespace. */
function isServiceLink(name: string, value: string): boolean {
  return /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$/.test(name) || /_PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/.test(name)
    || (/_PORT$/.test(name) && /^(tcp|udp|sctp):\/\//.test(value));
}

/** Replaces field names in a schema's own message by their variable names. */
function withNames(message: string, fields: SettingField[]): string {
  let m = message;
  for (const f of fields) m = m.replace(new RegExp(`\\b${f.key}\\b`, 'g'), f.name);
  return m;
}

/**
 * Turns a failed parse into one line per issue, each naming where the value came from (`label`
 * of the field: the variable, or a command-line option) and what the field accepts.
 */
export function settingIssues(error: z.ZodError, fields: SettingField[], label: (f: SettingField) => string = (f) => f.name): string[] {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  return error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown setting(s) ${i.keys.join(', ')}; valid: ${fields.map((f) => f.key).join(', ')}`;
    const f = byKey.get(String(i.path[0]));
    if (!f) return `${i.path.join('.') || '(settings)'}: ${withNames(i.message, fields)}`;
    const message = withNames(i.message, fields);
    // The schema's own messages name the variable already; zod's generic ones get the valid values.
    return message.includes(f.name) || i.code === 'custom' ? `${label(f)}: ${message}` : `${label(f)}: ${message} (${f.values})`;
  });
}

/** Options of {@link settingsFromEnv}. */
export interface SettingsFromEnvOptions<S extends SettingsSchema> {
  /** Values from elsewhere (command-line options, tests), over the environment's; undefined ones are left out. */
  overrides?: Partial<z.input<S>>;
  /** Variables with the prefix that other code reads (not fields of this schema). */
  ignore?: readonly string[];
  /** Names the settings in the error (`invalid <what> settings: …`); default: the prefix. */
  what?: string;
}

/** Reads `schema`'s fields from `PREFIX_FIELD_NAME` variables; throws a {@link SettingsError} naming every bad variable. */
export function settingsFromEnv<S extends SettingsSchema>(schema: S, prefix: string, env: NodeJS.ProcessEnv = process.env, o: SettingsFromEnvOptions<S> = {}): z.output<S> {
  const fields = settingFields(schema, prefix);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const raw: Record<string, unknown> = {};
  const issues: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined) continue;
    const f = byName.get(name);
    if (!f) {
      if (!o.ignore?.includes(name) && !isServiceLink(name, value)) issues.push(`${name} is not a setting; valid ${prefix}* names: ${fields.map((x) => x.name).join(', ')}`);
      continue;
    }
    if (value.trim() === '') continue;
    const c = coerceSetting(f, value);
    if ('error' in c) issues.push(`${f.name}${showsValue(f.kind) ? `=${value}` : ''}: ${c.error}`);
    else raw[f.key] = c.value;
  }
  const what = o.what ?? `${prefix}*`;
  if (issues.length) throw new SettingsError(`invalid ${what} settings: ${issues.join('; ')}`, issues);
  // An override left undefined keeps the environment's value.
  const overrides = Object.fromEntries(Object.entries(o.overrides ?? {}).filter(([, v]) => v !== undefined));
  const r = schema.safeParse({ ...raw, ...overrides });
  if (r.success) return r.data;
  const label = (f: SettingField) => (f.key in overrides ? f.key
    : f.key in raw && showsValue(f.kind) ? `${f.name}=${env[f.name]}` : f.name);
  const shown = settingIssues(r.error, fields, label);
  throw new SettingsError(`invalid ${what} settings: ${shown.join('; ')}`, shown);
}

/** Markdown of a schema's settings: one row per variable (name, default, description and what it accepts). */
export function settingsMarkdown(schema: SettingsSchema, prefix: string): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const dflt = (v: unknown) => (v === undefined ? 'none' : v === '' ? 'empty' : `\`${Array.isArray(v) ? v.join(',') : String(v)}\``);
  const accepts = (values: string) => values.replace(/text matching (\S+)/, (_, re: string) => `text matching \`${re}\``);
  const rows = settingFields(schema, prefix).map((f) =>
    `| \`${f.name}\` | ${cell(dflt(f.default))} | ${cell(f.description.replace(/\.$/, ''))}. Accepts ${cell(accepts(f.values))}. |`);
  return ['| env variable | default | description |', '| --- | --- | --- |', ...rows].join('\n');
}

/**
 * `analyze --config FILE` and `--set section.key=value`: the detector, classifier (batching and
 * reuse) and aggregator settings `serve` reads from DETECTOR_*, CLASSIFIER_* and AGGREGATOR_*,
 * given on the command line. The sections are the
 * services' own schemas; a `--set` value is converted by its field's type exactly as the
 * environment reader does (`coerceSetting`), and every bad key or value fails with one line
 * naming the option and what the field accepts.
 */
import fs from 'node:fs';
import { coerceSetting, settingFields, settingIssues, type SettingField, type SettingsSchema } from '@emostream/runtime';
import { DetectorConfigSchema, type DetectorConfigInput } from '@emostream/detector';
import { AggregatorConfigSchema, type AggregatorConfigInput } from '@emostream/aggregator';
import { ClassifyStageSchema, type ClassifyStageInput } from '@emostream/classifier';

/** The sections: the stage settings `analyze` takes. */
const SECTIONS = { detector: DetectorConfigSchema, classifier: ClassifyStageSchema, aggregator: AggregatorConfigSchema } satisfies Record<string, SettingsSchema>;
type Section = keyof typeof SECTIONS;
const SECTION_NAMES = Object.keys(SECTIONS) as Section[];

/** The stage settings of an analyze run, as partial inputs (the schemas' defaults fill the rest). */
export interface StageSettings {
  detectorSettings: DetectorConfigInput;
  classifierSettings: ClassifyStageInput;
  aggregatorSettings: AggregatorConfigInput;
}

/** A section's fields, named `section.key` (as messages name them). */
const fieldsOf = (section: Section): SettingField[] => settingFields(SECTIONS[section], '').map((f) => ({ ...f, name: `${section}.${f.key}` }));
const keysOf = (section: Section) => fieldsOf(section).map((f) => f.key).join(', ');
const isSection = (s: string): s is Section => (SECTION_NAMES as string[]).includes(s);

/** Reads `--config FILE`: JSON `{ "detector": {...}, "classifier": {...}, "aggregator": {...} }`; unknown sections or keys fail naming the file and the key. */
function readConfigFile(file: string): Record<Section, Record<string, unknown>> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--config ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`--config ${file}: not JSON (${(e as Error).message})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(json)) throw new Error(`--config ${file}: expected an object { "detector": {...}, "classifier": {...}, "aggregator": {...} }`);
  const out = { detector: {}, classifier: {}, aggregator: {} } as Record<Section, Record<string, unknown>>;
  for (const [section, values] of Object.entries(json)) {
    if (!isSection(section)) throw new Error(`--config ${file}: unknown section "${section}"; valid: ${SECTION_NAMES.join(', ')}`);
    if (!isObject(values)) throw new Error(`--config ${file}: section "${section}" must be an object of settings`);
    const keys = new Set(fieldsOf(section).map((f) => f.key));
    for (const key of Object.keys(values)) {
      if (!keys.has(key)) throw new Error(`--config ${file}: unknown key ${section}.${key}; valid ${section} keys: ${keysOf(section)}`);
    }
    out[section] = { ...values };
  }
  return out;
}

/** One `--set section.key=value`: the section, the key and the value converted by the field's type. */
function parseSet(option: string): { section: Section; key: string; value: unknown } {
  const m = /^([^.=\s]+)\.([^.=\s]+)=(.*)$/s.exec(option);
  if (!m) throw new Error(`--set expects section.key=value (e.g. detector.minScore=0.4), got '${option}'`);
  const [, section, key, text] = m;
  if (!isSection(section)) throw new Error(`--set ${option}: unknown section "${section}"; valid: ${SECTION_NAMES.join(', ')}`);
  const field = fieldsOf(section).find((f) => f.key === key);
  if (!field) throw new Error(`--set ${option}: unknown key ${section}.${key}; valid ${section} keys: ${keysOf(section)}`);
  const c = coerceSetting(field, text);
  if ('error' in c) throw new Error(`--set ${option}: ${c.error}`);
  return { section, key, value: c.value };
}

/**
 * The stage settings of `--config FILE` and the `--set` options (later ones win; `--set` over
 * the file). Each section is checked against its schema here, so a bad value fails before any
 * model loads, with one line naming the option that gave it and what the field accepts.
 */
export function stageSettings(o: { config?: string; set?: readonly string[] }): StageSettings {
  const values = o.config ? readConfigFile(o.config) : { detector: {}, classifier: {}, aggregator: {} } as Record<Section, Record<string, unknown>>;
  const from = new Map<string, string>();
  if (o.config) for (const s of SECTION_NAMES) for (const k of Object.keys(values[s])) from.set(`${s}.${k}`, `--config ${o.config} (${s}.${k})`);
  for (const option of o.set ?? []) {
    const { section, key, value } = parseSet(option);
    values[section][key] = value;
    from.set(`${section}.${key}`, `--set ${option}`);
  }
  for (const section of SECTION_NAMES) {
    const r = SECTIONS[section].safeParse(values[section]);
    if (r.success) continue;
    const issues = settingIssues(r.error, fieldsOf(section), (f) => from.get(f.name) ?? f.name);
    throw new Error(`bad ${section} settings: ${issues.join('; ')}`);
  }
  return { detectorSettings: values.detector as DetectorConfigInput, classifierSettings: values.classifier as ClassifyStageInput, aggregatorSettings: values.aggregator as AggregatorConfigInput };
}

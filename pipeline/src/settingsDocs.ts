/**
 * The settings tables of the READMEs, generated from the schemas' descriptions
 * (`npm run docs:settings`; `-- --check` fails when a README differs, and so does
 * test/settings-docs.test.ts). Each table sits between `<!-- settings:<id> -->` and
 * `<!-- /settings:<id> -->` in the README of the package that owns the schema.
 */
import { settingsMarkdown, type SettingsSchema } from '@emostream/runtime';
import { KAFKA_PREFIX, KafkaConnectionSchema, SHARED_PREFIX, SharedSettingsSchema } from '@emostream/kafka';
import { INGEST_PREFIX, IngestSettingsSchema } from '@emostream/ingest';
import { DETECTOR_PREFIX, DetectorConfigSchema } from '@emostream/detector';
import { CLASSIFIER_PREFIX, ClassifierSettingsSchema } from '@emostream/classifier';
import { AGGREGATOR_PREFIX, AggregatorServiceConfigSchema } from '@emostream/aggregator';
import { API_PREFIX, ApiSettingsSchema } from './api/settings.js';

/** One generated table. */
export interface SettingsDoc {
  /** The marker id (`<!-- settings:<id> -->`). */
  id: string;
  /** The README holding it, from the repository root. */
  readme: string;
  /** The schema and the name of its export (named in the table's comment). */
  schema: SettingsSchema;
  schemaName: string;
  prefix: string;
}

/** Every settings schema and the README that documents it. */
export const SETTINGS_DOCS: readonly SettingsDoc[] = [
  { id: 'kafka', readme: 'packages/kafka/README.md', schema: KafkaConnectionSchema, schemaName: 'KafkaConnectionSchema (packages/kafka/src/config.ts)', prefix: KAFKA_PREFIX },
  { id: 'emostream', readme: 'packages/kafka/README.md', schema: SharedSettingsSchema, schemaName: 'SharedSettingsSchema (packages/kafka/src/settings.ts)', prefix: SHARED_PREFIX },
  { id: 'ingest', readme: 'services/ingest/README.md', schema: IngestSettingsSchema, schemaName: 'IngestSettingsSchema (src/config.ts)', prefix: INGEST_PREFIX },
  { id: 'detector', readme: 'services/detector/README.md', schema: DetectorConfigSchema, schemaName: 'DetectorConfigSchema (src/config.ts)', prefix: DETECTOR_PREFIX },
  { id: 'classifier', readme: 'services/classifier/README.md', schema: ClassifierSettingsSchema, schemaName: 'ClassifierSettingsSchema (src/config.ts)', prefix: CLASSIFIER_PREFIX },
  { id: 'aggregator', readme: 'services/aggregator/README.md', schema: AggregatorServiceConfigSchema, schemaName: 'AggregatorServiceConfigSchema (src/config.ts)', prefix: AGGREGATOR_PREFIX },
  { id: 'api', readme: 'pipeline/README.md', schema: ApiSettingsSchema, schemaName: 'ApiSettingsSchema (src/api/settings.ts)', prefix: API_PREFIX },
];

const open = (id: string) => `<!-- settings:${id} -->`;
const close = (id: string) => `<!-- /settings:${id} -->`;

/** The generated block of a table, markers included. */
export function settingsBlock(doc: SettingsDoc): string {
  return [
    open(doc.id),
    `<!-- generated from ${doc.schemaName} by \`npm run docs:settings\`: edit the schema's descriptions, not this table -->`,
    '',
    settingsMarkdown(doc.schema, doc.prefix),
    '',
    close(doc.id),
  ].join('\n');
}

/** The block of `id` as it stands in a README's text (undefined when its markers are missing). */
export function currentBlock(text: string, id: string): string | undefined {
  const start = text.indexOf(open(id));
  const end = text.indexOf(close(id), start);
  return start < 0 || end < 0 ? undefined : text.slice(start, end + close(id).length);
}

/** The README's text with the block of `doc` generated anew; throws when its markers are missing. */
export function withSettingsBlock(text: string, doc: SettingsDoc): string {
  const now = currentBlock(text, doc.id);
  if (now === undefined) throw new Error(`${doc.readme} has no ${open(doc.id)} … ${close(doc.id)} markers`);
  return text.replace(now, () => settingsBlock(doc));
}

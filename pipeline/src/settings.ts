/**
 * The settings of a service process (`emostream serve <service>`): each env prefix is one strict
 * schema, owned by the package it configures and read by the one reader (`settingsFromEnv` of
 * @emostream/runtime):
 *
 *   KAFKA_*       the Kafka connection             @emostream/kafka      KafkaConnectionSchema
 *   EMOSTREAM_*   what every service shares        @emostream/kafka      SharedSettingsSchema
 *   INGEST_*      the ingest service               @emostream/ingest     IngestSettingsSchema
 *   DETECTOR_*    the detector service             @emostream/detector   DetectorConfigSchema
 *   CLASSIFIER_*  the classifier service           @emostream/classifier ClassifierSettingsSchema
 *   AGGREGATOR_*  the aggregator service           @emostream/aggregator AggregatorServiceConfigSchema
 *   API_*         the live API service             ./api/settings.ts     ApiSettingsSchema
 *
 * A service reads KAFKA_*, EMOSTREAM_* and its own prefix; every bad variable is reported at once.
 */
import { SettingsError } from '@emostream/runtime';
import { kafkaConfigOf, kafkaConnectionFromEnv, sharedSettingsFromEnv, type KafkaConfig, type SharedSettings, type SharedSettingsInput } from '@emostream/kafka';
import { ingestSettingsFromEnv, type IngestSettings, type SourceConfig } from '@emostream/ingest';
import { detectorConfigFromEnv, type DetectorConfig } from '@emostream/detector';
import { classifierSettingsFromEnv, type ClassifierSettings } from '@emostream/classifier';
import { aggregatorConfigFromEnv, type AggregatorServiceConfig } from '@emostream/aggregator';
import { apiSettingsFromEnv, type ApiSettings } from './api/settings.js';

/** The four pipeline services and the live API. */
export const SERVICES = ['ingest', 'detector', 'classifier', 'aggregator', 'api'] as const;
/** A service name. */
export type ServiceName = (typeof SERVICES)[number];

/** Each service's own settings. */
export interface OwnSettings {
  ingest: IngestSettings;
  detector: DetectorConfig;
  classifier: ClassifierSettings;
  aggregator: AggregatorServiceConfig;
  api: ApiSettings;
}

const OWN: { [S in ServiceName]: (env: NodeJS.ProcessEnv) => OwnSettings[S] } = {
  ingest: ingestSettingsFromEnv,
  detector: detectorConfigFromEnv,
  classifier: classifierSettingsFromEnv,
  aggregator: aggregatorConfigFromEnv,
  api: apiSettingsFromEnv,
};

/** What a service process runs with. */
export interface ServiceSettings<S extends ServiceName> {
  /** EMOSTREAM_*. */
  shared: SharedSettings;
  /** KAFKA_* with the shared topic and group naming. */
  kafka: KafkaConfig;
  /** The service's own prefix. */
  own: OwnSettings[S];
}

/**
 * The settings of `service` from the environment (`overrides`: command-line options over the
 * shared settings, e.g. `--metrics-port`). Throws one {@link SettingsError} naming every bad variable.
 */
export function serviceSettingsFromEnv<S extends ServiceName>(service: S, env: NodeJS.ProcessEnv = process.env, overrides: Partial<SharedSettingsInput> = {}): ServiceSettings<S> {
  const errors: SettingsError[] = [];
  const read = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      errors.push(e);
      return undefined as T;
    }
  };
  const shared = read(() => sharedSettingsFromEnv(env, overrides));
  const connection = read(() => kafkaConnectionFromEnv(env));
  const own = read(() => OWN[service](env));
  if (service === 'ingest' && shared && own) read(() => checkFrameSize(own as IngestSettings, shared));
  if (errors.length) throw new SettingsError(errors.map((e) => e.message).join('; '), errors.flatMap((e) => e.issues));
  return { shared, kafka: kafkaConfigOf(connection, shared), own };
}

/** Ingest's largest frame must pass the detector's pixel cap, or every frame of a large source would be a dead letter. */
function checkFrameSize(ingest: Pick<IngestSettings, 'maxWidth' | 'maxHeight'>, shared: Pick<SharedSettings, 'maxFramePixels'>): void {
  const { maxWidth: w, maxHeight: h } = ingest;
  if (w * h <= shared.maxFramePixels) return;
  const issue = `INGEST_MAX_WIDTH x INGEST_MAX_HEIGHT (${w}x${h} = ${w * h} pixels) is over EMOSTREAM_MAX_FRAME_PIXELS (${shared.maxFramePixels}), the detector's cap: lower them, or raise EMOSTREAM_MAX_FRAME_PIXELS for ingest and the detector alike`;
  throw new SettingsError(`invalid ingest settings: ${issue}`, [issue]);
}

/**
 * Every camera's settings from the ingest service's: all but the JPEG quality (the service's own)
 * and `realtime` (files only: the service adds it per camera).
 */
export function sourceSettingsOf(s: IngestSettings): Partial<SourceConfig> {
  const { jpegQuality: _jpegQuality, realtime: _realtime, ...source } = s;
  return source;
}

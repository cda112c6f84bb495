/**
 * @emostream/pipeline: the four stage operators wired both ways. Embedded: one process, the
 * operators chained (`analyze`). Distributed: each operator in its Kafka runner (`serve`).
 */
export { createEmbeddedPipeline, embeddedPipeline, embeddedStages, type EmbeddedDeps, type EmbeddedPipeline, type StageDeps } from './embedded.js';
export { createCamerasPipeline, type CameraInput, type CamerasOutput, type CamerasPipeline } from './cameras.js';
export { FairDetector, type FairOutcome, type Schedulable } from './fairDetector.js';
export { DEFAULT_CLASSIFY, openDetector, openModel, valveFor, warmUp, type DetectorParts, type ModelSource } from './wiring.js';
export {
  analyze, analyzeCameras, type AnalyzeOptions, type AnalyzeHooks, type AnalyzeProgress, type AnalyzeResult,
  type CamerasOptions, type CamerasResult, type CameraResult,
} from './analyze.js';
export { OUTPUT_FILES } from './analyzeOutput.js';
export type { ServiceDeps } from './distributed/deps.js';
export { startIngest, type IngestSource, type IngestSummary } from './distributed/ingest.js';
export { startDetector } from './distributed/detector.js';
export { startClassifier } from './distributed/classifier.js';
export { startAggregator } from './distributed/aggregator.js';
export { AggregatorStateRecords, loadAggregatorRecords, loadAggregatorState, cameraStateMessage, parseCameraState } from './distributed/aggregatorState.js';
export { serviceSettingsFromEnv, sourceSettingsOf, type ServiceSettings, type OwnSettings } from './settings.js';
export { parseSourceArg, parseSourcesEnv, parseCamerasFile, mergeSources, ingestSources, sourceOptions } from './sources.js';
export { runService, SERVICES, type ServiceName } from './service.js';
export { subscribeEvents, type EventsOptions } from './events.js';
export { LiveTimelines, DEFAULT_LIVE_LIMITS, START_ID, type LiveLimits, type LivePerson, type LiveCamera, type StreamedEvent } from './api/live.js';
export { buildApi, startApiServer, type ApiServer, type ApiServerOptions } from './api/server.js';
export { startApiService, type ApiService } from './api/service.js';
export { ApiSettingsSchema, API_PREFIX, apiSettingsFromEnv, type ApiSettings } from './api/settings.js';
export { livePage } from './api/page.js';
export { SETTINGS_DOCS, settingsBlock, currentBlock, withSettingsBlock, type SettingsDoc } from './settingsDocs.js';

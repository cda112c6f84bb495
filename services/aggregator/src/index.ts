/** @emostream/aggregator: faces over time → person tracks, smoothed emotions, timelines, events, the report. */
export {
  AggregatorConfigSchema, AggregatorServiceConfigSchema, AGGREGATOR_PREFIX, DEFAULT_AGGREGATOR_CONFIG, parseAggregatorConfig, aggregatorConfigFromEnv,
  type AggregatorConfig, type AggregatorConfigInput, type AggregatorServiceConfig,
} from './config.js';
export { solveAssignment } from './assignment.js';
export {
  FaceTracker, iou, cosineSimilarity, predictBox, matchCost,
  type TrackerConfig, type TrackState, type TrackerState, type TrackerUpdate,
} from './tracker.js';
export { smoothProbabilities, type SmoothedProbabilities, type SmoothingSpace } from './smoothing.js';
export { updateDominant, type DominantEmotion, type DominantStep, type HysteresisConfig } from './hysteresis.js';
export { addToTimeline, emptyTimeline, mergeSegments, timelineSegments, type TimelineState } from './timeline.js';
export { cropDescriptor } from './appearance.js';
export {
  Aggregator, type AggregatorDeps, type AggregatorSnapshot, type AggregatorStats, type AppearanceDescriptor, type CameraSnapshot,
} from './aggregator.js';
export { aggregate, createAggregatorStage, type AggregateDeps, type AggregatorOutput, type AggregatorStage } from './aggregate.js';
export {
  renderReport, renderTimelineSvg, summarisePerson, escapeHtml, EMOTION_COLORS,
  type ReportInput, type RunFigures, type PersonSummary,
} from './report.js';
export { emotionShareBuckets, timelineEvents, MAX_EVENT_ROWS, type ReportEvent, type ShareBucket } from './report-charts.js';

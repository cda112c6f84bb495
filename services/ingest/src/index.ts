/** emostream ingest: sources (files, RTSP cameras) decoded by a supervised ffmpeg into frames. */
export {
  SourceConfigSchema, SourceSettingsSchema, IngestSettingsSchema, INGEST_PREFIX, ingestSettingsFromEnv, parseSourceConfig, ConfigError, ROTATIONS, parseRotation,
  type SourceConfig, type Rotation, type SourceConfigInput, type IngestSettings,
} from './config.js';
export {
  buildFfmpegArgs, toArgv, classifyInput, outputSize, outputFps, fpsArg, orientationFilter, rotationFilter, rotationSwapsSides, PROTOCOL_WHITELIST, UnsupportedInputError,
  type FfmpegArgs, type FfmpegArgsOptions, type ClassifiedInput, type InputKind,
} from './ffmpegArgs.js';
export { probeSource, parseRate, exifOrientation, SourceProbeError, type ProbeResult, type ProbeOptions, type ProbeFn } from './probe.js';
export { backoffDelayMs, backoffSchedule, type BackoffPolicy } from '@emostream/runtime';
export { FrameSplitter } from './frameSplitter.js';
export {
  spawnFfmpeg, runFfmpeg, stopFfmpeg, StallError,
  type SpawnFfmpeg, type FfmpegProcess, type FfmpegExit, type RunEvent, type RunDeps,
} from './supervisor.js';
export {
  frameSource, createIngestStats, dropCounter, mediaTimeOf, restartBaseMs, IngestError,
  type FrameSourceDeps, type IngestStats,
} from './frameSource.js';
export { boundedQueue, type BoundedQueueOptions } from './boundedQueue.js';
export { createValve, type Valve } from './valve.js';

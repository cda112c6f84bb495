/** Runtime services every stage receives: the TensorFlow.js backend, logging, redaction. */
export * from './tf.js';
export * from './savedModel.js';
export { GraphWriter, readGraphArtifacts, sessionArtifacts, weightBytes } from './graphArtifacts.js';
export * from './heap.js';
export * from './redact.js';
export * from './log.js';
export * from './metrics.js';
export * from './http.js';
export * from './config.js';
export * from './settings.js';
export { backoffDelayMs, backoffSchedule, type BackoffPolicy } from './backoff.js';
export { mulberry32 } from './random.js';
export { settlesWithin } from './deadline.js';

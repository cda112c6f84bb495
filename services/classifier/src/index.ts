/** The classifier service: batched emotion inference with hot model reload. */
export * from './emotionModel.js';
export * from './workerModel.js';
export * from './classifyFaces.js';
export * from './hotReload.js';
export * from './config.js';
export * from './breaker.js';
export * from './reuse.js';

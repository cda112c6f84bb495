/** The emotion CNN shared by the classifier and the retraining job: preprocessing, architecture, loading. */
export * from './preprocess.js';
export * from './resize.js';
export * from './architecture.js';
export * from './predict.js';
export * from './inference.js';
export * from './inferenceGraph.js';
export * from './io.js';
export * from './heads.js';
export * from './prune.js';

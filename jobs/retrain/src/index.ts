/** The retraining batch job: data loading, augmentation, training, evaluation. */
export * from './datasets.js';
export * from './ferplus.js';
export * from './video.js';
export * from './interpolate.js';
export * from './augment.js';
export * from './configs.js';
export * from './metrics.js';
export * from './train.js';
export * from './job.js';
export * from './report.js';
export * from './folds.js';
export * from './crossval.js';
export * from './adjust.js';
export * from './torch-bridge.js';
export * from './evaluate.js';
export * from './selection.js';
export * from './head.js';

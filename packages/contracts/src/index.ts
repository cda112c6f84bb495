/** The contracts every emostream stage shares: labels, message schemas, topic names. */
export * from './labels.js';
export * from './messages.js';
export * from './topics.js';
export * from './embedding.js';
export * from './jsonSchema.js';
export * from './box.js';
export * from './limits.js';
export * from './mediaTime.js';

/** The adapter's error: says whether retrying may help, where it happened, and why (cause). */

/** An error of the Kafka adapter. kafkajs restarts a consumer whose eachBatch throws a retriable error. */
export class StageError extends Error {
  constructor(message: string, readonly retriable: boolean, readonly context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StageError';
  }
}

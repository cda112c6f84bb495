/** The adapter's error: says whether retrying may help, where it happened, and why (cause). */

/** An error and what it wraps, outermost first: kafkajs's `originalError`, else `cause`; at most `max` links. */
export function errorChain(e: unknown, max = 6): Array<Error & { type?: string; retriable?: boolean }> {
  type Link = Error & { type?: string; retriable?: boolean; originalError?: unknown; cause?: unknown };
  const chain: Link[] = [];
  for (let x = e as Link | undefined; x && chain.length < max; x = (x.originalError ?? x.cause) as Link | undefined) chain.push(x);
  return chain;
}

/** An error of the Kafka adapter. kafkajs restarts a consumer whose eachBatch throws a retriable error. */
export class StageError extends Error {
  constructor(message: string, readonly retriable: boolean, readonly context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StageError';
  }
}

/**
 * Group membership of a stage's consumer: whether it is in the group, which partitions of the
 * input topic it holds, whether state must be reloaded after a rejoin, and the stage's `done`,
 * which rejects when the stage fails for good.
 */
import type { StageError } from '../errors.js';

/** Membership state, moved by the consumer's GROUP_JOIN and CRASH events. */
export class GroupMembership {
  private inGroup = false;
  private joins = 0;
  private rejoinPending = false;
  /** Partitions of the input topic assigned to this member (from the last group join). */
  private partitions: number[] = [];
  private fatal: ((e: unknown) => void) | undefined;
  /** Rejects when the stage fails for good (the process should exit and be restarted). */
  readonly done: Promise<void>;

  constructor(private readonly inputTopic: string) {
    this.done = new Promise<void>((_resolve, reject) => { this.fatal = reject; });
    this.done.catch(() => {});
  }

  /** In the group (joined, not crashed since). */
  get joined(): boolean {
    return this.inGroup;
  }

  /** Partitions of the input topic assigned at the last join. */
  get assigned(): number[] {
    return this.partitions;
  }

  /** GROUP_JOIN: every join but the first asks for a state reload before the next batch. */
  join(memberAssignment: Record<string, number[]>): void {
    this.inGroup = true;
    this.joins++;
    if (this.joins > 1) this.rejoinPending = true;
    this.partitions = [...(memberAssignment[this.inputTopic] ?? [])];
  }

  /** Whether a reload is due after a rejoin; clears it (the caller reloads now). */
  takeRejoin(): boolean {
    if (!this.rejoinPending) return false;
    this.rejoinPending = false;
    return true;
  }

  /** State was reloaded another way (a resync): no reload due. */
  rejoinHandled(): void {
    this.rejoinPending = false;
  }

  /** CRASH: out of the group (until the next join; see ConsumerSupervisor for whether one comes). */
  crash(): void {
    this.inGroup = false;
  }

  /** The stage cannot go on: `done` rejects with `error`. */
  fail(error: StageError): void {
    this.fatal?.(error);
  }
}

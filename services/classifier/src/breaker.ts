/**
 * The classifier's circuit breaker. A batch whose every model call failed (after its retries and
 * frame by frame) is dead-lettered with its reason, which is right for a bad input; but a model
 * that fails on every call (a broken GPU or backend, a version that loads and cannot predict)
 * would dead-letter everything for ever while the service looks healthy. After
 * `failedBatches` failed batches in a row with no success between, the breaker opens: the
 * service's /healthz answers 503 (Kubernetes restarts the pod), the gauge
 * `emostream_classifier_breaker_open` is 1 (alert EmostreamClassifierBreakerOpen) and one error
 * line gives the last error. A batch that succeeds closes it. Batches without faces never call
 * the model and count as neither.
 */
import client from 'prom-client';
import type { Logger } from '@emostream/runtime';

/** Default `failedBatches`: five failed batches in a row (each already retried twice, then frame by frame). */
export const DEFAULT_BREAKER_FAILED_BATCHES = 5;

/** A health check's answer (as /healthz and /readyz take it). */
export interface HealthAnswer { ok: boolean; reasons: string[] }

/** Options of {@link ClassifierBreaker}. */
export interface BreakerOptions {
  /** Failed batches in a row that open it; 0: never opens. */
  failedBatches: number;
  logger: Logger;
  /** Registers `emostream_classifier_breaker_open` and `emostream_classifier_failed_batches` here. */
  registry?: client.Registry;
  now?: () => number;
}

/** Counts failed batches in a row; open at the threshold, closed by a success. */
export class ClassifierBreaker {
  private failures = 0;
  private lastError = '';
  private openedAt: number | undefined;
  private readonly openGauge?: client.Gauge;
  private readonly failedGauge?: client.Gauge;

  constructor(private readonly o: BreakerOptions) {
    if (o.registry) {
      // One per process in a service; several classifiers in one process (tests) share them.
      const gauge = (name: string, help: string) => (o.registry!.getSingleMetric(name) as client.Gauge | undefined) ?? new client.Gauge({ name, help, registers: [o.registry!] });
      this.openGauge = gauge('emostream_classifier_breaker_open', 'Classifier circuit breaker: 1 while open (the model failed every call of CLASSIFIER_BREAKER_FAILED_BATCHES batches in a row; /healthz answers 503)');
      this.failedGauge = gauge('emostream_classifier_failed_batches', 'Classifier batches in a row whose every model call failed (0 after a success)');
      this.openGauge.set(0);
      this.failedGauge.set(0);
    }
  }

  /** Whether it is open. */
  get open(): boolean {
    return this.openedAt !== undefined;
  }

  /** Failed batches since the last success. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** A batch whose faces were classified (all, or some frames of it). */
  success(): void {
    if (this.openedAt !== undefined) {
      this.o.logger.info('circuit breaker closed: the model classified a batch again', { openForMs: (this.o.now?.() ?? Date.now()) - this.openedAt, failedBatches: this.failures });
    }
    this.failures = 0;
    this.openedAt = undefined;
    this.openGauge?.set(0);
    this.failedGauge?.set(0);
  }

  /** A batch whose every model call failed with (the last) `error`. */
  failure(error: Error): void {
    this.failures++;
    this.lastError = String(error?.message ?? error).split('\n')[0].slice(0, 300);
    this.failedGauge?.set(this.failures);
    if (this.openedAt !== undefined || this.o.failedBatches <= 0 || this.failures < this.o.failedBatches) return;
    this.openedAt = this.o.now?.() ?? Date.now();
    this.openGauge?.set(1);
    this.o.logger.error('circuit breaker open: the model failed every call of the last batches; /healthz answers 503 so the process is restarted', {
      failedBatches: this.failures, threshold: this.o.failedBatches, lastError: this.lastError,
    });
  }

  /** The liveness answer: not ok while open, saying why. */
  health(): HealthAnswer {
    if (this.openedAt === undefined) return { ok: true, reasons: [] };
    return { ok: false, reasons: [`classifier circuit breaker open: the model failed every call of ${this.failures} batches in a row (threshold ${this.o.failedBatches}); last error: ${this.lastError}`] };
  }
}

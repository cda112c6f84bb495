/**
 * The process shell of a distributed service (`emostream serve <service>`): settings, Kafka
 * client and topics, the metrics server, the service itself, and a clean stop on SIGTERM/SIGINT.
 */
import os from 'node:os';
import { createLogger, createMetrics, loadTf, redactText, settlesWithin, startMetricsServer, urlSecrets, type BackendChoice } from '@emostream/runtime';
import { classifyInput, createIngestStats, type IngestStats } from '@emostream/ingest';
import { classifyConfigOf } from '@emostream/classifier';
import { brokerDownReason, createKafka, ensureTopics, probeKafka, shedOptionsOf, userOfService, userTopicSpecs, waitForBroker, type RunningStage } from '@emostream/kafka';
import { startIngest } from './distributed/ingest.js';
import { startDetector } from './distributed/detector.js';
import { startClassifier } from './distributed/classifier.js';
import { startAggregator } from './distributed/aggregator.js';
import type { ServiceDeps } from './distributed/deps.js';
import { serviceSettingsFromEnv, sourceSettingsOf, type OwnSettings, type ServiceName } from './settings.js';
import { ingestSources } from './sources.js';
import { openDetector, openModel } from './wiring.js';
import { startApiService } from './api/service.js';

export { SERVICES, type ServiceName } from './settings.js';

/** Runs one service until SIGTERM/SIGINT (or, for `ingest --once`, until its files end). */
export async function runService(service: ServiceName, o: { source: string[]; once: boolean; metricsPort?: number }): Promise<void> {
  if (service !== 'ingest' && (o.source.length || o.once)) throw new Error(`--source and --once are options of serve ingest, not of serve ${service}`);
  const settings = serviceSettingsFromEnv(service, process.env, o.metricsPort !== undefined ? { metricsPort: o.metricsPort } : {});
  const { shared, kafka: config } = settings;
  const ingest = service === 'ingest' ? (settings.own as OwnSettings['ingest']) : undefined;
  const sourceSettings = ingest ? sourceSettingsOf(ingest) : {};
  const sources = ingest ? ingestSources(o.source, shared.sources, sourceSettings) : [];
  if (ingest && sources.length === 0) throw new Error('serve ingest needs at least one camera: --source <cameraId>=<file|rtsp-url> (repeatable) or EMOSTREAM_SOURCES');
  // The SASL password is a secret too: no log line may carry it (kafkajs's errors do not, today).
  const secrets = [...sources.flatMap((s) => urlSecrets(s.url)), ...(config.saslPassword ? [config.saslPassword] : [])];
  const logger = createLogger({ secrets, base: { service } });
  const metrics = createMetrics({ defaults: true });
  const kafka = createKafka(config, `${service}-${os.hostname()}`, logger);
  const deps: ServiceDeps = { kafka, config, logger, metrics, stallMs: shared.stallTimeoutMs };
  let waiting = 'waiting for the Kafka broker';
  let ready: () => { ok: boolean; reasons: string[] } = () => ({ ok: false, reasons: [waiting] });
  // Liveness: alive unless the service says it cannot go on (the classifier's circuit breaker).
  let healthy: () => { ok: boolean; reasons: string[] } = () => ({ ok: true, reasons: [] });
  // Up before the broker wait: /healthz answers (alive) and /readyz says why not ready meanwhile.
  const server = await startMetricsServer({ port: shared.metricsPort, host: shared.metricsHost, registry: metrics.registry, ready: () => ready(), healthy: () => healthy() });
  logger.info('metrics server listening', { port: server.port });
  // From a stop signal on, the shutdown has `stopGraceMs`: past it the process exits anyway
  // (an unreachable broker made kafkajs's disconnects take 45 s, past Kubernetes' 30 s).
  let stopBy = Infinity;
  const stopSignal = new Promise<string>((resolve) => {
    const stop = (sig: string) => { stopBy = Date.now() + shared.stopGraceMs; resolve(sig); };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  const inTime = async (what: string, work: Promise<unknown>) => {
    if (await settlesWithin(work, stopBy - Date.now())) return true;
    logger.warn(`stopping took longer than EMOSTREAM_STOP_GRACE_MS (${shared.stopGraceMs} ms): exiting without waiting for ${what}`);
    return false;
  };
  const cleanups: Array<() => Promise<void> | void> = [() => server.close()];
  try {
    // Only the topics this service reads or writes: on a secured cluster its user sees no other.
    // A broker not there yet (a cluster starting in any order) is waited for as long as the
    // process runs, each attempt on a client that fails fast; a stop signal ends the wait.
    const probe = probeKafka(config, `${service}-${os.hostname()}`, logger);
    const topics = await waitForBroker(() => ensureTopics(probe, userTopicSpecs(config, userOfService(service)), logger), {
      logger, stopped: stopSignal, onAttempt: (n, e) => { waiting = redactText(`waiting for the Kafka broker (attempt ${n}: ${String(e.message).split('\n')[0]})`, secrets); },
    });
    if (topics === undefined) { logger.info('stopping before the Kafka broker was reachable'); return; }
    if (ingest) {
      const stats: Record<string, IngestStats> = Object.fromEntries(sources.map((s) => [s.cameraId, createIngestStats()]));
      // realtime applies to files only (a camera is real time already).
      const realtime = (url: string) => (ingest.realtime && classifyInput(url).kind === 'file' ? { realtime: true } : {});
      const run = startIngest(sources.map((s) => ({ ...s, settings: { ...sourceSettings, ...realtime(s.url), ...s.settings } })), { ...deps, jpegQuality: ingest.jpegQuality, stats });
      ready = () => {
        const idle = Object.entries(stats).filter(([, s]) => s.framesDecoded === 0).map(([id]) => `no frame from ${id} yet`);
        const down = brokerDownReason(kafka);
        const reasons = down ? [...idle, down] : idle;
        return { ok: reasons.length === 0, reasons };
      };
      const r = await Promise.race([run.done.then((s) => ({ kind: 'ended' as const, s })), stopSignal.then((sig) => ({ kind: 'signal' as const, sig }))]);
      if (r.kind === 'signal') { run.stop(); await inTime('the last frames to be acknowledged', run.done); return; }
      logger.info('all sources ended; every frame acknowledged by the broker', { summary: r.s });
      const failed = Object.entries(r.s.cameras).filter(([, c]) => c.failed).map(([id]) => id);
      if (o.once && failed.length) throw new Error(`${failed.length} of ${sources.length} camera(s) failed: ${failed.map((id) => `${id} (${r.s.cameras[id].failed})`).join('; ')}`);
      if (o.once) return;
      ready = () => ({ ok: true, reasons: [] });
      await stopSignal;
      return;
    }
    let stage: Pick<RunningStage, 'ready' | 'done' | 'stop'> & { stats?: unknown };
    if (service === 'api') {
      const api = await startApiService({ config, settings: settings.own as OwnSettings['api'], logger });
      stage = { ...api, get stats() { return api.live.stats; } };
    } else if (service === 'detector') {
      const rt = await loadTf(shared.backend as BackendChoice, { sessions: true });
      const detectorConfig = settings.own as OwnSettings['detector'];
      const parts = await openDetector(detectorConfig, rt);
      cleanups.push(() => parts.dispose());
      stage = await startDetector({ ...deps, detector: parts.detector, embedder: parts.embedder, detectorConfig, shed: shedOptionsOf(shared), maxFramePixels: shared.maxFramePixels });
    } else if (service === 'classifier') {
      const c = settings.own as OwnSettings['classifier'];
      const rt = await loadTf(shared.backend as BackendChoice, { sessions: c.model !== 'human' });
      const handle = await openModel(rt, { model: c.model, head: c.head, worker: c.worker, pollMs: c.modelPollMs, logger, metrics });
      cleanups.push(() => handle.close());
      const cls = await startClassifier({ ...deps, model: handle.current, classify: classifyConfigOf(c), backend: rt.provider, breakerFailedBatches: c.breakerFailedBatches });
      healthy = () => cls.health();
      stage = cls;
    } else {
      const { transactionalId, ...aggregatorConfig } = settings.own as OwnSettings['aggregator'];
      stage = await startAggregator({ ...deps, aggregatorConfig, transactionalId });
    }
    cleanups.unshift(() => stage.stop());
    ready = stage.ready;
    const r = await Promise.race([stopSignal, stage.done.then(() => 'done')]);
    logger.info('stopping', { reason: r, stats: stage.stats });
  } finally {
    if (stopBy === Infinity) stopBy = Date.now() + shared.stopGraceMs;
    for (const c of cleanups) if (!(await inTime('the rest of the shutdown', Promise.resolve().then(c)))) break;
  }
}

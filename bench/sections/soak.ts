/**
 * The soak (issue 15): the four services as separate processes (`node bin/emostream.mjs serve …`,
 * as the fault suite starts them) on a real broker, ingest reading a looping RTSP camera
 * (GStreamer, bench/lib/rtsp.ts) that shows a rendered scene where people come and go
 * (soakScene.ts). Every 30 s (--quick: 10 s) one sample: each service's RSS (/proc, with its
 * children) and its Node RSS and heap (/metrics), each consumer group's lag on its input topic
 * (admin), the size of the camera's record on the compacted aggregator-state topic (followed from
 * the start), the counters so far; each sample is appended as a JSON line to a log whose path is
 * printed (BENCH_SOAK_LOG; default runs/soak-<time>.jsonl), so a run stopped early leaves its
 * samples (`node --import tsx bench/sections/soakReport.ts LOG` turns them into figures).
 * Figures: per series the least-squares slope after a warm-up (10 min with --long, 1 min
 * otherwise) per hour, absolute and as a share of the mean, with first, last and max.
 * Default: 4.5 min of wall time; --long: 60 min; --quick: 90 s. Nothing is asserted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '@emostream/runtime';
import { HEADER, ensureTopics, header, pipelineTopicSpecs, pipelineTopics, readCompacted } from '@emostream/kafka';
import { DATA_DIR, type BenchContext, type Row } from '../lib/context.js';
import { startBroker } from '../lib/broker.js';
import { startLoopingCamera } from '../lib/rtsp.js';
import { loadCkPlusCatalogue, renderScene } from '../scene/render.js';
import { groupLag, groups, kafkaFor, serviceEnv, startService, type ServiceProcess } from '../../test/helpers/faults.js';
import { describeSoakScene, generateSoakScene } from './soakScene.js';
import { GROUPS, SERVICES, countersOf, logIssues, soakPlan, processMemory, soakFigures, soakRows, type MetricSample, type ServiceName, type SoakSample } from './soakSamples.js';

const CAMERA = 'soak';
const SEED = 915;
const FPS = 10;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** Runs the section. */
export async function soakSection(ctx: BenchContext): Promise<{ figures: Record<string, unknown>; rows: Row[] }> {
  const plan = soakPlan(ctx);
  const catalogue = loadCkPlusCatalogue(DATA_DIR);
  const scene = generateSoakScene(SEED, catalogue, { durationMs: plan.sceneMs, fps: FPS });
  const clip = path.join(ctx.tmp, `soak-${SEED}-${plan.sceneMs / 1000}s.mp4`);
  const about = describeSoakScene(scene);
  ctx.log(`soak: rendering ${scene.name} (${scene.width}x${scene.height} ${FPS} fps, ${plan.sceneMs / 1000} s: ${about.visits} visits by ${about.people} people, ${about.returns} returns, up to ${about.maxAtOnce} at once)`);
  if (!fs.existsSync(clip)) await renderScene(scene, clip);
  const logFile = path.resolve(process.env.BENCH_SOAK_LOG ?? path.join(ROOT, 'runs', `soak-${new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, '')}.jsonl`));
  fs.mkdirSync(path.dirname(logFile), { recursive: true });

  const broker = startBroker(ctx.log);
  ctx.figures.kafkaVersion ??= broker.version;
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => broker.release()];
  const procs: Partial<Record<ServiceName, ServiceProcess>> = {};
  try {
    const prefix = `benchsoak${randomBytes(3).toString('hex')}.`;
    const { kafka, config } = kafkaFor(broker.brokers, prefix, 1);
    await ensureTopics(kafka, pipelineTopicSpecs(config));
    const t = pipelineTopics(prefix);
    const gid = groups(config);
    const inputOf: Record<(typeof GROUPS)[number], string> = { detector: t.frames, classifier: t.faces, aggregator: t.emotions };

    // The follower: the camera's latest state record and the events' person ids, from the start.
    const followed = { stateBytes: null as number | null, stateRecords: 0, persons: new Set<string>(), returning: 0 };
    const follower = kafka.consumer({ groupId: `${prefix}soak-follower`, readUncommitted: false, maxBytesPerPartition: 8 * 2 ** 20 });
    await follower.connect();
    cleanups.unshift(() => follower.disconnect());
    await follower.subscribe({ topics: [t.aggregatorState, t.events], fromBeginning: true });
    await follower.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === t.aggregatorState) {
          if (message.key?.toString('utf8') !== CAMERA || header(message, HEADER.kind) !== 'state') return;
          followed.stateBytes = message.value?.length ?? 0;
          followed.stateRecords++;
          return;
        }
        try {
          const e = JSON.parse(message.value?.toString('utf8') ?? '') as { personId?: string; type?: string; returning?: boolean };
          if (e.personId) followed.persons.add(e.personId);
          if (e.type === 'person.appeared' && e.returning) followed.returning++;
        } catch { /* not an event: not counted */ }
      },
    });

    const camera = await startLoopingCamera(clip);
    cleanups.unshift(() => camera.stop());
    const env = serviceEnv(broker.brokers, prefix, 1, { CLASSIFIER_MODEL: ctx.model.dir, INGEST_FPS: String(FPS) });
    // The fault suite's 6 s session timeout is for quick fail-over; the soak runs the services'
    // default (30 s), as deployed, so a busy machine's late heartbeat is no rebalance.
    delete env.KAFKA_SESSION_TIMEOUT_MS;
    const stop = async (p?: ServiceProcess) => p?.stop().catch(() => {});
    cleanups.unshift(() => Promise.all(SERVICES.map((s) => stop(procs[s]))));
    for (const s of ['detector', 'classifier', 'aggregator'] as const) procs[s] = await startService(s, { env, tag: `soak-${s}` });
    await Promise.all(GROUPS.map((s) => procs[s]!.ready()));
    procs.ingest = await startService('ingest', { env: { ...env, EMOSTREAM_SOURCES: `${CAMERA}=${camera.url}` }, tag: 'soak-ingest' });
    await procs.ingest.ready(90_000);
    ctx.log(`soak: four services up (logs ${path.dirname(procs.ingest.logFile)}); ${plan.durationS / 60} min, a sample every ${plan.everyS} s to ${logFile}`);

    const samples: SoakSample[] = [];
    const t0 = Date.now();
    const takeSample = async (): Promise<SoakSample> => {
      const m: Partial<Record<ServiceName, MetricSample[]>> = {};
      await Promise.all(SERVICES.map(async (s) => { m[s] = await procs[s]!.metrics().catch(() => undefined); }));
      const lag = Object.fromEntries(await Promise.all(GROUPS.map(async (g) => [g, await groupLag(kafka, gid[g], inputOf[g]).catch(() => null)] as const))) as SoakSample['lag'];
      const services = Object.fromEntries(SERVICES.map((s) => {
        const p = procs[s]!;
        return [s, { alive: p.alive(), rssBytes: p.rssBytes(), ...processMemory(m[s]) }];
      })) as SoakSample['services'];
      return {
        tS: (Date.now() - t0) / 1000, at: new Date().toISOString(), services, lag,
        stateBytes: followed.stateBytes, stateRecords: followed.stateRecords, counters: countersOf(m),
        personsDistinct: followed.persons.size, returning: followed.returning, load1: os.loadavg()[0],
      };
    };
    let died: string | undefined;
    for (let k = 0; ; k++) {
      const wake = t0 + k * plan.everyS * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, wake - Date.now())));
      const s = await takeSample();
      samples.push(s);
      fs.appendFileSync(logFile, JSON.stringify(s) + '\n');
      const mb = (svc: ServiceName) => Math.round(s.services[svc].rssBytes / 2 ** 20);
      ctx.log(`soak ${Math.round(s.tS)} s: RSS MiB ${SERVICES.map((x) => `${x} ${mb(x)}`).join(', ')}; lag ${GROUPS.map((g) => `${g} ${s.lag[g]}`).join(', ')}; state ${s.stateBytes} B; `
        + `${s.counters.framesDecoded} frames, ${s.counters.events} events, ${s.personsDistinct} persons; load ${s.load1.toFixed(2)}`);
      const dead = SERVICES.filter((x) => !s.services[x].alive);
      if (dead.length) { died = dead.join(', '); ctx.log(`soak: ${died} died (logs ${path.dirname(procs.ingest.logFile)}); stopping early`); break; }
      if (s.tS >= plan.durationS) break;
    }
    // A cross-check of the follower: the camera's record as a restoring aggregator reads it.
    const restored = (await readCompacted(kafka, t.aggregatorState, { groupPrefix: `${prefix}soak-check`, logger: silentLogger }).catch(() => undefined))?.get(CAMERA);
    const issues = Object.fromEntries(SERVICES.map((s) => [s, logIssues(fs.readFileSync(procs[s]!.logFile, 'utf8').split('\n'), new Date(t0).toISOString())]));
    const f = soakFigures(samples, plan.warmupS);
    const rows = soakRows(f);
    rows.push({
      section: 'soak', figure: 'errors in the service logs during the soak', value: `${SERVICES.reduce((a, s) => a + issues[s].errors, 0)}`,
      detail: SERVICES.map((s) => `${s} ${issues[s].errors} errors, ${issues[s].warnings} warnings (${issues[s].startErrors} errors at start-up)${issues[s].mostFrequent ? `, most often: ${issues[s].mostFrequent}` : ''}`).join('; ')
        + `; samples in ${logFile}${died ? `; DIED: ${died}` : ''}`,
    });
    return {
      figures: {
        soak: {
          mode: ctx.long ? 'long' : ctx.quick ? 'quick' : 'bounded', plan, logFile, camera: { scene: scene.name, ...about, width: scene.width, height: scene.height, fps: FPS, loopS: plan.sceneMs / 1000 },
          broker: `Kafka ${broker.version} (same machine)`, partitions: 1, died: died ?? null, restoredStateBytes: restored?.length ?? null, logIssues: issues, ...f,
        },
      },
      rows,
    };
  } finally {
    for (const c of cleanups) await Promise.resolve().then(c).catch(() => {});
  }
}

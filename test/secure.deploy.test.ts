/**
 * The deployment is secure by default, checked on what kustomize builds: the namespace enforces
 * Pod Security "restricted" and every pod (emostream's and Strimzi's) passes it; Kafka listeners
 * all use TLS and SCRAM-SHA-512 with `authorization: simple`; one KafkaUser per service whose
 * ACLs are exactly the table of packages/kafka/src/access.ts; each service logs in as its own
 * user, with its password from that user's Secret and the cluster CA mounted; every Secret
 * referenced is one Strimzi makes or one secret.example.yaml documents; biometric topics 1 h.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { KAFKA_USERS, aclsFor, kafkaUserName, userOfService, type KafkaUser } from '@emostream/kafka';
import { ROOT } from './helpers/prometheus.js';
import { BUILDS, build, byKind, configOf, named, noKustomize, podTemplates, type Obj } from './helpers/deploy.js';
import { requireResource } from './helpers/resources.js';

const SERVICES = ['ingest', 'detector', 'classifier', 'aggregator'];
const STRIMZI_BUILDS = ['deploy/k8s', 'deploy/k8s/overlays/gpu', 'deploy/k8s/overlays/cpu', 'deploy/k8s/overlays/hpa'];
const KAFKA_BUILDS = [...STRIMZI_BUILDS, 'deploy/k8s/overlays/external-kafka'];
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/**
 * The Pod Security Standard "restricted" (v1.30) rules a pod breaks, given its pod-level and
 * each container's security context (a container inherits runAsNonRoot and seccomp from the pod).
 */
export function restrictedViolations(pod: Obj, containers: Array<{ name: string; securityContext?: Obj; ports?: Obj[] }>, spec: Obj = {}): string[] {
  const out: string[] = [];
  const p = pod ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push('host namespaces');
  for (const v of spec.volumes ?? []) if (!RESTRICTED_VOLUMES.some((k) => k in v)) out.push(`volume ${v.name} of a type restricted forbids`);
  if (p.runAsUser === 0) out.push('pod runAsUser 0');
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}`;
    if (!(sc.runAsNonRoot ?? p.runAsNonRoot)) out.push(`${at}: runAsNonRoot not true`);
    if (sc.runAsUser === 0) out.push(`${at}: runAsUser 0`);
    const seccomp = (sc.seccompProfile ?? p.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${at}: seccompProfile ${seccomp ?? 'unset'}`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation not false`);
    if (sc.privileged) out.push(`${at}: privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${at}: capabilities not dropping ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${at}: adds ${cap}`);
    for (const port of c.ports ?? []) if (port.hostPort) out.push(`${at}: hostPort ${port.hostPort}`);
  }
  return out;
}

/** Every pod a build makes: its own templates and the Strimzi pods' templates. */
function allPods(objs: Obj[]): Array<{ owner: string; violations: string[] }> {
  const out = podTemplates(objs).map(({ owner, spec }) => ({ owner, violations: restrictedViolations(spec.securityContext, [...(spec.initContainers ?? []), ...spec.containers], spec) }));
  for (const pool of byKind(objs, 'KafkaNodePool')) {
    const t = pool.spec.template ?? {};
    out.push({ owner: `KafkaNodePool/${pool.metadata.name}`, violations: restrictedViolations(t.pod?.securityContext, [{ name: 'kafka', ...t.kafkaContainer }, { name: 'init', ...t.initContainer }]) });
  }
  for (const k of byKind(objs, 'Kafka')) {
    const t = k.spec.entityOperator?.template ?? {};
    out.push({ owner: `Kafka/${k.metadata.name} entity operator`, violations: restrictedViolations(t.pod?.securityContext, [{ name: 'topic-operator', ...t.topicOperatorContainer }, { name: 'user-operator', ...t.userOperatorContainer }]) });
    // Other Strimzi pods would need their own templates: none may be turned on without them.
    for (const extra of ['cruiseControl', 'kafkaExporter']) assert.equal(k.spec[extra], undefined, `Kafka/${k.metadata.name}: ${extra} has no restricted template here`);
  }
  return out;
}

test('the restricted check finds what Pod Security would refuse (it can fail)', () => {
  const ok = { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
  const pod = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
  assert.deepEqual(restrictedViolations(pod, [{ name: 'a', ...ok }]), []);
  assert.deepEqual(restrictedViolations({}, [{ name: 'a', ...ok }]), ['container a: runAsNonRoot not true', 'container a: seccompProfile unset']);
  assert.deepEqual(restrictedViolations(pod, [{ name: 'a', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } } }]), ['container a: adds NET_ADMIN']);
  assert.deepEqual(restrictedViolations(pod, [{ name: 'a', ...ok }], { volumes: [{ name: 'h', hostPath: { path: '/' } }] }), ['volume h of a type restricted forbids']);
});

for (const dir of BUILDS) {
  test(`${dir}: the namespace enforces Pod Security "restricted" and every pod passes it`, (t) => {
    if (!requireResource(t, 'kustomize', noKustomize)) return;
    const objs = build(dir);
    for (const ns of byKind(objs, 'Namespace')) assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted', `Namespace/${ns.metadata.name}`);
    const pods = allPods(objs);
    assert.ok(pods.length > 0);
    for (const p of pods) assert.deepEqual(p.violations, [], `${p.owner} passes "restricted"`);
  });
}

/** A KafkaUser's ACLs as `type|pattern|name|operation` lines (Strimzi's `prefix` = Kafka's prefixed). */
function strimziAcls(user: Obj): string[] {
  return user.spec.authorization.acls.flatMap((a: Obj) => a.operations.map((op: string) => `${a.resource.type}|${a.resource.patternType === 'prefix' ? 'prefixed' : 'literal'}|${a.resource.name}|${op}`)).sort();
}

test('Strimzi: TLS + SCRAM-SHA-512 on every listener, authorization simple, one KafkaUser per service with exactly the ACL table', (t) => {
  if (!requireResource(t, 'kustomize', noKustomize)) return;
  for (const dir of STRIMZI_BUILDS) {
    const objs = build(dir);
    const kafka = named(objs, 'Kafka', 'emostream');
    assert.deepEqual(kafka.spec.kafka.authorization, { type: 'simple' }, `${dir}: authorization simple`);
    for (const l of kafka.spec.kafka.listeners) {
      assert.equal(l.tls, true, `${dir}: listener ${l.name} uses TLS`);
      assert.equal(l.authentication?.type, 'scram-sha-512', `${dir}: listener ${l.name} authenticates with SCRAM-SHA-512`);
      assert.ok(l.networkPolicyPeers?.length, `${dir}: listener ${l.name} names who may reach it`);
    }
    assert.ok(kafka.spec.kafka.listeners.some((l: Obj) => l.name === 'apps'), `${dir}: a listener for users' own applications`);
    const config = configOf(objs);
    const naming = { topicPrefix: config.data.EMOSTREAM_TOPIC_PREFIX ?? '', groupPrefix: config.data.EMOSTREAM_GROUP_PREFIX };
    const users = byKind(objs, 'KafkaUser');
    assert.deepEqual(users.map((u) => u.metadata.name).sort(), KAFKA_USERS.map(kafkaUserName).sort(), `${dir}: one KafkaUser per service and the subscriber`);
    for (const user of KAFKA_USERS) {
      const u = named(objs, 'KafkaUser', kafkaUserName(user));
      assert.equal(u.metadata.labels['strimzi.io/cluster'], 'emostream');
      assert.equal(u.spec.authentication.type, 'scram-sha-512');
      assert.equal(u.spec.authorization.type, 'simple');
      const want = aclsFor(user, naming).map((a) => `${a.resourceType}|${a.patternType}|${a.name}|${a.operation}`).sort();
      assert.deepEqual(strimziAcls(u), want, `${dir}: ${kafkaUserName(user)}'s ACLs are the table's`);
    }
  }
});

test('each service logs in as its own user over TLS: password from that user\'s Secret, the cluster CA mounted', (t) => {
  if (!requireResource(t, 'kustomize', noKustomize)) return;
  for (const dir of KAFKA_BUILDS) {
    const objs = build(dir);
    const config = configOf(objs);
    assert.equal(config.data.KAFKA_SSL, 'true', `${dir}: TLS`);
    assert.equal(config.data.KAFKA_SASL_MECHANISM, 'scram-sha-512', `${dir}: SCRAM-SHA-512`);
    assert.equal(config.data.KAFKA_SSL_REJECT_UNAUTHORIZED, undefined, `${dir}: certificates verified`);
    for (const s of SERVICES) {
      const spec = named(objs, 'Deployment', `emostream-${s}`).spec.template.spec;
      const c = spec.containers[0];
      const env = (n: string) => c.env.find((e: Obj) => e.name === n);
      const user = kafkaUserName(userOfService(s) as KafkaUser);
      assert.equal(env('KAFKA_SASL_USERNAME')?.value, user, `${dir} ${s}: user ${user}`);
      assert.deepEqual(env('KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef, { name: user, key: 'password' }, `${dir} ${s}: its own user's password`);
      const caDir = path.posix.dirname(config.data.KAFKA_SSL_CA_FILE);
      const mount = c.volumeMounts.find((m: Obj) => m.mountPath === caDir);
      assert.ok(mount?.readOnly, `${dir} ${s}: the CA mounted read-only at ${caDir}`);
      const vol = spec.volumes.find((v: Obj) => v.name === mount.name);
      assert.equal(vol.secret.secretName, 'emostream-cluster-ca-cert', `${dir} ${s}: the cluster CA Secret`);
      assert.ok(vol.secret.items.some((i: Obj) => i.key === 'ca.crt' && i.path === path.posix.basename(config.data.KAFKA_SSL_CA_FILE)), `${dir} ${s}: ca.crt is KAFKA_SSL_CA_FILE`);
    }
    if (STRIMZI_BUILDS.includes(dir)) {
      const port = Number(config.data.KAFKA_BROKERS.split(':')[1]);
      const l = named(objs, 'Kafka', 'emostream').spec.kafka.listeners.find((x: Obj) => x.port === port);
      assert.equal(l?.authentication?.type, 'scram-sha-512', `${dir}: KAFKA_BROKERS is a SCRAM listener`);
      // The services may reach the brokers on that listener only (no way around authentication).
      const toKafka = named(objs, 'NetworkPolicy', 'emostream-services').spec.egress.filter((r: Obj) => r.to.some((p: Obj) => p.podSelector?.matchLabels?.['strimzi.io/cluster']));
      assert.deepEqual(toKafka.flatMap((r: Obj) => r.ports.map((p: Obj) => p.port)), [port], `${dir}: egress to Kafka on port ${port} only`);
    }
    for (const so of byKind(objs, 'ScaledObject')) {
      const trig = so.spec.triggers[0];
      assert.deepEqual([trig.metadata.sasl, trig.metadata.tls], ['scram_sha512', 'enable'], `${dir} ${so.metadata.name}: KEDA over TLS + SCRAM`);
      named(objs, 'TriggerAuthentication', trig.authenticationRef.name);
    }
  }
});

/** Every Secret a build's objects read: `name/key`, or `name/*` for a whole Secret. */
function secretRefs(objs: Obj[]): string[] {
  const refs: string[] = [];
  for (const { spec } of podTemplates(objs)) {
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) refs.push(`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`);
      for (const e of c.envFrom ?? []) if (e.secretRef) refs.push(`${e.secretRef.name}/*`);
    }
    for (const v of spec.volumes ?? []) if (v.secret) for (const i of v.secret.items ?? [{ key: '*' }]) refs.push(`${v.secret.secretName}/${i.key}`);
  }
  for (const ta of byKind(objs, 'TriggerAuthentication')) for (const r of ta.spec.secretTargetRef ?? []) refs.push(`${r.name}/${r.key}`);
  return [...new Set(refs)].sort();
}

test('every Secret referenced exists: made by Strimzi from a KafkaUser or the Kafka, or documented in secret.example.yaml', (t) => {
  if (!requireResource(t, 'kustomize', noKustomize)) return;
  const example = fs.readFileSync(path.join(ROOT, 'deploy/k8s/secret.example.yaml'), 'utf8');
  for (const dir of BUILDS) {
    const objs = build(dir);
    const strimzi = new Set<string>();
    for (const u of byKind(objs, 'KafkaUser')) strimzi.add(`${u.metadata.name}/password`);
    for (const k of byKind(objs, 'Kafka')) strimzi.add(`${k.metadata.name}-cluster-ca-cert/ca.crt`);
    for (const ref of secretRefs(objs)) {
      if (strimzi.has(ref)) continue;
      const [name, key] = ref.split('/');
      // The user makes it: secret.example.yaml names the Secret and the key (per-service users
      // as emostream-<service>, shown once).
      const userSecret = KAFKA_USERS.map(kafkaUserName).includes(name) && key === 'password';
      assert.ok(userSecret || (example.includes(`name: ${name}`) && example.includes(`${key}:`)), `${dir}: Secret ${ref} is neither made by Strimzi nor documented in secret.example.yaml`);
      if (userSecret) assert.match(example, /emostream-<service>/, 'secret.example.yaml explains the per-service user Secrets');
    }
  }
  // With Strimzi, the only Secret the user makes is the cameras'.
  const strimziBuild = build('deploy/k8s');
  const made = new Set([...byKind(strimziBuild, 'KafkaUser').map((u) => `${u.metadata.name}/password`), 'emostream-cluster-ca-cert/ca.crt']);
  assert.deepEqual(secretRefs(strimziBuild).filter((r) => !made.has(r)), ['emostream-secrets/EMOSTREAM_SOURCES']);
});

test('biometric topics (frames, faces, emotions and their dead letters) are kept 1 h; emotion-events keeps the default', (t) => {
  if (!requireResource(t, 'kustomize', noKustomize)) return;
  const topics = new Map(byKind(build('deploy/k8s'), 'KafkaTopic').map((x) => [x.spec.topicName, x.spec.config ?? {}]));
  for (const name of ['frames', 'faces', 'emotions', 'frames.dlq', 'faces.dlq', 'emotions.dlq']) assert.equal(topics.get(name)?.['retention.ms'], 3_600_000, `${name}: 1 h`);
  assert.equal(topics.get('emotion-events')?.['retention.ms'], undefined, 'emotion-events: the broker\'s default');
});

test('serve api logs in as the read-only subscriber: its Secret, the cluster CA, groups emostream-events-* its ACLs allow', (t) => {
  if (!requireResource(t, 'kustomize', noKustomize)) return;
  assert.equal(userOfService('api'), 'subscriber');
  const user = kafkaUserName('subscriber');
  assert.equal(user, 'emostream-subscriber');
  for (const dir of KAFKA_BUILDS) {
    const objs = build(dir);
    const config = configOf(objs);
    const spec = named(objs, 'Deployment', 'emostream-api').spec.template.spec;
    const c = spec.containers[0];
    const env = (n: string) => c.env.find((e: Obj) => e.name === n);
    assert.equal(env('KAFKA_SASL_USERNAME')?.value, user, `${dir}: user ${user}`);
    assert.deepEqual(env('KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef, { name: user, key: 'password' }, `${dir}: the subscriber's password`);
    const caDir = path.posix.dirname(config.data.KAFKA_SSL_CA_FILE);
    const mount = c.volumeMounts.find((m: Obj) => m.mountPath === caDir);
    assert.ok(mount?.readOnly, `${dir}: the CA mounted read-only at ${caDir}`);
    assert.equal(spec.volumes.find((v: Obj) => v.name === mount.name).secret.secretName, 'emostream-cluster-ca-cert');
    assert.deepEqual(restrictedViolations(spec.securityContext, spec.containers, spec), [], `${dir}: restricted`);
    // serve api's consumer group is <topic prefix>emostream-events-<uuid> (pipeline/src/events.ts):
    // the prefix the subscriber's group ACL grants, under this deployment's topic prefix.
    const acls = aclsFor('subscriber', { topicPrefix: config.data.EMOSTREAM_TOPIC_PREFIX ?? '', groupPrefix: config.data.EMOSTREAM_GROUP_PREFIX });
    const group = acls.find((a) => a.resourceType === 'group');
    assert.deepEqual([group?.name, group?.patternType, group?.operation], [`${config.data.EMOSTREAM_TOPIC_PREFIX ?? ''}emostream-events-`, 'prefixed', 'Read']);
    assert.deepEqual(acls.filter((a) => a.operation !== 'Read'), [], 'read only');
    if (STRIMZI_BUILDS.includes(dir)) {
      const ku = named(objs, 'KafkaUser', user);
      assert.ok(ku.spec.authorization.acls.some((a: Obj) => a.resource.type === 'group' && a.resource.name === group?.name && a.resource.patternType === 'prefix'), `${dir}: the KafkaUser grants ${group?.name}*`);
    }
  }
  const events = fs.readFileSync(path.join(ROOT, 'pipeline/src/events.ts'), 'utf8');
  assert.match(events, /groupId: o\.group \?\? `\$\{o\.config\.topicPrefix\}emostream-events-\$\{randomUUID\(\)\}`/, 'serve api names its group emostream-events-<uuid>');
});

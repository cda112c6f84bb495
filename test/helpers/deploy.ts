/**
 * The deployment as kustomize builds it, for the deploy tests: building an overlay (cached),
 * finding objects, each pod template, NetworkPolicy selection, and schema validation of an
 * object against the Kubernetes and CRD models.
 */
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { findTool, missingTool, runTool } from './prometheus.js';

/** Every kustomization a user may apply. */
export const BUILDS = ['deploy/k8s', 'deploy/k8s/overlays/gpu', 'deploy/k8s/overlays/cpu', 'deploy/k8s/overlays/hpa', 'deploy/k8s/overlays/external-kafka', 'deploy/k8s/retrain-now'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

/** The model class module of an object's apiVersion/kind (core, then the CRD packages). */
function modelModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const crdPackages: Record<string, string> = {
    'keda.sh': '@kubernetes-models/keda',
    'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
    'kafka.strimzi.io': '@kubernetes-models/strimzi-kafka-operator',
  };
  if (crdPackages[group]) return `${crdPackages[group]}/${group}/${version}/${kind}`;
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

/** Validates one object with its schema; the error message names the object. */
export async function validateObject(o: Obj): Promise<void> {
  const mod = modelModule(o.apiVersion, o.kind);
  let Model: new (data: Obj) => { validate(): void };
  try {
    Model = (await import(mod))[o.kind];
  } catch (e) {
    throw new Error(`no schema for ${o.apiVersion} ${o.kind} (${mod}): ${(e as Error).message}`);
  }
  assert.ok(Model, `${mod} exports no ${o.kind}`);
  try {
    new Model(structuredClone(o)).validate();
  } catch (e) {
    throw new Error(`${o.kind}/${o.metadata?.name}: ${(e as Error).message}`);
  }
}

export const kustomize = findTool('kustomize');
const builtCache = new Map<string, Obj[]>();
export function build(dir: string): Obj[] {
  if (!kustomize) throw new Error(missingTool('kustomize'));
  const cached = builtCache.get(dir);
  if (cached) return cached;
  const r = runTool(kustomize, ['build', dir]);
  assert.equal(r.code, 0, `kustomize build ${dir} failed:\n${r.stderr}`);
  const objs = YAML.parseAllDocuments(r.stdout).map((d) => d.toJSON() as Obj).filter(Boolean);
  builtCache.set(dir, objs);
  return objs;
}

export const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
/** The emostream-config ConfigMap of a build (its name carries kustomize's hash suffix). */
export const configOf = (objs: Obj[]): Obj => {
  const c = objs.find((x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('emostream-config'));
  assert.ok(c, 'the emostream-config ConfigMap');
  return c;
};
export const named = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind}/${name} missing`);
  return o;
};

/** Each pod template of the build: Deployments, Jobs and CronJobs. */
export function podTemplates(objs: Obj[]): { owner: string; spec: Obj; labels: Record<string, string> }[] {
  const out: { owner: string; spec: Obj; labels: Record<string, string> }[] = [];
  for (const o of objs) {
    const tpl = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template : ['Deployment', 'Job', 'StatefulSet', 'DaemonSet'].includes(o.kind) ? o.spec.template : undefined;
    if (tpl) out.push({ owner: `${o.kind}/${o.metadata.name}`, spec: tpl.spec, labels: tpl.metadata?.labels ?? {} });
  }
  return out;
}

/** Does a NetworkPolicy's podSelector select these labels? */
export function selects(selector: Obj, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Why kustomize is missing, or undefined (for requireResource). */
export const noKustomize = kustomize ? undefined : missingTool('kustomize');

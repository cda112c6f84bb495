/**
 * Writes every generated deployment file, or with --check says which ones are stale:
 *   - deploy/grafana/dashboards/*.json (from deploy/grafana/src, Grafana Foundation SDK)
 *   - deploy/k8s/base/monitoring/prometheusrule.yaml (deploy/prometheus/rules.yml as a PrometheusRule)
 *   node --import tsx deploy/generate.ts [--check]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { dashboardFiles } from './grafana/src/build.js';
import { writeGenerated } from './writeGenerated.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The PrometheusRule of deploy/k8s: the very groups of deploy/prometheus/rules.yml. */
export function prometheusRuleFile(): Map<string, string> {
  const rules = YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/rules.yml'), 'utf8')) as { groups: unknown[] };
  const doc = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'emostream',
      labels: { 'app.kubernetes.io/name': 'emostream', 'app.kubernetes.io/part-of': 'emostream', release: 'kube-prometheus-stack' },
    },
    spec: { groups: rules.groups },
  };
  const header = '# GENERATED from deploy/prometheus/rules.yml by `node --import tsx deploy/generate.ts`: edit that file, not this one.\n';
  return new Map([['deploy/k8s/base/monitoring/prometheusrule.yaml', header + YAML.stringify(doc, { lineWidth: 0 })]]);
}

/** Every generated file (path from the repository root → content). */
export function generatedFiles(): Map<string, string> {
  return new Map([...dashboardFiles(), ...prometheusRuleFile()]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = writeGenerated(generatedFiles(), process.argv.includes('--check'));
}

/**
 * Builds the Grafana dashboards (deploy/grafana/dashboards/*.json) from their typed sources.
 *   node --import tsx deploy/grafana/src/build.ts    (or deploy/generate.ts for every generated file)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { overviewDashboard } from './overview.js';
import { cameraDashboard } from './camera.js';
import { writeGenerated } from '../../writeGenerated.js';

/** The dashboards folder, relative to the repository root. */
export const DASHBOARDS_DIR = 'deploy/grafana/dashboards';

/** Each dashboard file (path from the repository root) and its JSON text. */
export function dashboardFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of [overviewDashboard(), cameraDashboard()]) {
    // Stable panel ids (Grafana would assign them on import, and links to a panel use them).
    d.panels?.forEach((p, i) => { p.id = i + 1; });
    out.set(`${DASHBOARDS_DIR}/${d.uid}.json`, JSON.stringify(d, null, 2) + '\n');
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = writeGenerated(dashboardFiles(), process.argv.includes('--check'));
}

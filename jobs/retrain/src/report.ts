/**
 * The evaluation report: a self-contained HTML page laid out like the paper's Tables 2–5
 * (per-class precision/recall/F1, then a confusion matrix per test set) with pictures: a
 * confusion heat map, per-class bars and the training curves.
 */
import type { EvaluationSummary } from '@emostream/model';
import type { EpochRecord } from './train.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function heatmap(s: EvaluationSummary): string {
  const labels = Object.keys(s.perClass);
  const k = labels.length, cell = 46, left = 80, top = 30;
  const rows = s.confusion.map((r) => r.reduce((a, b) => a + b, 0));
  let out = `<svg class="heatmap" role="img" aria-label="confusion matrix of ${esc(s.data)}" width="${left + k * cell + 10}" height="${top + k * cell + 50}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">`;
  labels.forEach((l, j) => { out += `<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${esc(l)}</text>`; });
  s.confusion.forEach((r, i) => {
    out += `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(labels[i])}</text>`;
    r.forEach((v, j) => {
      const f = rows[i] ? v / rows[i] : 0;
      const shade = Math.round(255 - f * 200);
      out += `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 1}" height="${cell - 1}" fill="rgb(${shade},${shade},255)"><title>${esc(labels[i])} → ${esc(labels[j])}: ${v} (${pct(f)})</title></rect>`;
      out += `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${f > 0.5 ? '#fff' : '#000'}">${v}</text>`;
    });
  });
  out += `<text x="${left + (k * cell) / 2}" y="${top + k * cell + 30}" text-anchor="middle">predicted (rows: true class, shade: row share)</text></svg>`;
  return out;
}

function bars(s: EvaluationSummary): string {
  const labels = Object.keys(s.perClass);
  const w = 520, h = 180, left = 40, bw = (w - left) / labels.length;
  const colours = { precision: '#4c78a8', recall: '#f58518', f1: '#54a24b' } as const;
  let out = `<svg class="bars" role="img" aria-label="per-class precision, recall and F1 of ${esc(s.data)}" width="${w}" height="${h + 40}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">`;
  for (const t of [0, 0.5, 1]) out += `<line x1="${left}" x2="${w}" y1="${h - t * h + 5}" y2="${h - t * h + 5}" stroke="#ddd"/><text x="${left - 4}" y="${h - t * h + 9}" text-anchor="end">${t * 100}%</text>`;
  labels.forEach((l, i) => {
    (['precision', 'recall', 'f1'] as const).forEach((m, j) => {
      const v = s.perClass[l][m];
      out += `<rect x="${left + i * bw + 4 + j * (bw - 8) / 3}" y="${h - v * h + 5}" width="${(bw - 8) / 3 - 1}" height="${v * h}" fill="${colours[m]}"><title>${esc(l)} ${m}: ${pct(v)}</title></rect>`;
    });
    out += `<text x="${left + i * bw + bw / 2}" y="${h + 20}" text-anchor="middle">${esc(l)}</text>`;
  });
  out += `<text x="${left}" y="${h + 36}">■ precision <tspan fill="${colours.recall}">■ recall</tspan> <tspan fill="${colours.f1}">■ F1</tspan></text></svg>`;
  return out.replace('■ precision', `<tspan fill="${colours.precision}">■ precision</tspan>`);
}

function curves(history: EpochRecord[]): string {
  if (history.length === 0) return '<p>No training history in this model\'s card.</p>';
  const w = 520, h = 200, left = 40;
  const xs = (e: number) => left + ((e - 1) / Math.max(1, history.length - 1)) * (w - left - 10);
  const ys = (v: number) => 10 + (1 - v) * h;
  const line = (vals: (number | undefined)[], colour: string) => {
    const pts = vals.map((v, i) => (v === undefined ? '' : `${xs(i + 1).toFixed(1)},${ys(v).toFixed(1)}`)).filter(Boolean).join(' ');
    return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts}"/>`;
  };
  let out = `<svg class="curves" role="img" aria-label="training curves" width="${w}" height="${h + 50}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">`;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) out += `<line x1="${left}" x2="${w}" y1="${ys(t)}" y2="${ys(t)}" stroke="#eee"/><text x="${left - 4}" y="${ys(t) + 4}" text-anchor="end">${t * 100}%</text>`;
  out += line(history.map((r) => r.accuracy), '#4c78a8') + line(history.map((r) => r.valAccuracy), '#f58518');
  const maxLoss = Math.max(...history.map((r) => r.loss));
  out += line(history.map((r) => r.loss / maxLoss), '#aaa');
  out += `<text x="${left}" y="${h + 30}"><tspan fill="#4c78a8">■ train accuracy</tspan> <tspan fill="#f58518">■ validation accuracy</tspan> <tspan fill="#888">■ loss (scaled to its max ${maxLoss.toFixed(2)})</tspan> — ${history.length} epochs</text></svg>`;
  return out;
}

/** Renders the report for one model over one or more test sets. */
export function renderEvaluationReport(input: { title: string; model: string; results: EvaluationSummary[]; history?: EpochRecord[]; paperClaims?: Record<string, number> }): string {
  const labels = input.results.length ? Object.keys(input.results[0].perClass) : [];
  let body = `<h1>${esc(input.title)}</h1><p>Model: <code>${esc(input.model)}</code></p>`;
  body += '<h2>Summary</h2><table><tr><th>test set</th><th>n</th><th>accuracy</th><th>balanced accuracy</th><th>ECE</th>' + (input.paperClaims ? '<th>paper claims</th>' : '') + '</tr>';
  for (const r of input.results) body += `<tr><td>${esc(r.data)}</td><td>${r.n}</td><td>${pct(r.accuracy)}</td><td>${pct(r.balancedAccuracy)}</td><td>${r.ece.toFixed(3)}</td>${input.paperClaims ? `<td>${input.paperClaims[r.data] !== undefined ? pct(input.paperClaims[r.data]) : '—'}</td>` : ''}</tr>`;
  body += '</table>';
  body += '<h2>Table 2 layout: classification results per class</h2>';
  for (const r of input.results) {
    body += `<h3>${esc(r.data)}</h3><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1-score</th><th>support</th></tr>`;
    for (const l of labels) { const c = r.perClass[l]; body += `<tr><td>${esc(l)}</td><td>${c.precision.toFixed(2)}</td><td>${c.recall.toFixed(2)}</td><td>${c.f1.toFixed(2)}</td><td>${c.support}</td></tr>`; }
    body += `<tr><td><b>accuracy</b></td><td></td><td></td><td>${r.accuracy.toFixed(2)}</td><td>${r.n}</td></tr></table>`;
    body += `<figure>${bars(r)}<figcaption>Per-class precision, recall and F1 on ${esc(r.data)}</figcaption></figure>`;
  }
  body += '<h2>Tables 3–5 layout: confusion matrices</h2>';
  for (const r of input.results) {
    body += `<h3>${esc(r.data)}</h3><table class="cm"><tr><th>true \\ predicted</th>${labels.map((l) => `<th>${esc(l)}</th>`).join('')}</tr>`;
    r.confusion.forEach((row, i) => { body += `<tr><th>${esc(labels[i])}</th>${row.map((v) => `<td>${v}</td>`).join('')}</tr>`; });
    body += `</table><figure>${heatmap(r)}<figcaption>Confusion heat map, ${esc(r.data)}</figcaption></figure>`;
  }
  body += `<h2>Training curves</h2><figure>${curves(input.history ?? [])}</figure>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title><style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1000px;color:#222}table{border-collapse:collapse;margin:.5rem 0 1rem}
td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
figure{margin:.5rem 0 1.5rem}figcaption{color:#666;font-size:.9em}code{background:#f4f4f4;padding:0 .3em}</style></head><body>${body}</body></html>\n`;
}

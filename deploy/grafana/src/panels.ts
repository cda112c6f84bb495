/** Small typed helpers over the Grafana Foundation SDK builders, shared by the emostream dashboards. */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel queries the Prometheus chosen in the dashboard's `datasource` variable. */
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** One PromQL query; `legend` uses Grafana's `{{label}}` syntax. */
export interface Query {
  expr: string;
  legend?: string;
}

function target(q: Query, i: number): prometheus.DataqueryBuilder {
  const b = new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .refId(String.fromCharCode(65 + i))
    .expr(q.expr)
    .range();
  return q.legend ? b.legendFormat(q.legend) : b;
}

/** Options of a time-series panel. */
export interface SeriesOptions {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  width?: number;
  height?: number;
  /** Stack the series (`percent` for a mix that sums to 100%). */
  stack?: 'normal' | 'percent';
  min?: number;
  max?: number;
  /** A link on each series, e.g. to the per-camera dashboard. */
  link?: { title: string; url: string };
}

/** A time-series panel with a table legend (mean, max, last). */
export function series(o: SeriesOptions): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.width ?? 12)
    .height(o.height ?? 8)
    .lineWidth(1)
    .fillOpacity(o.stack ? 60 : 10)
    .showPoints(common.VisibilityMode.Never)
    .legend(new common.VizLegendOptionsBuilder()
      .displayMode(common.LegendDisplayMode.Table)
      .placement(common.LegendPlacement.Bottom)
      .showLegend(true)
      .calcs(['mean', 'max', 'lastNotNull']))
    .targets(o.queries.map(target));
  if (o.stack) p.stacking(new common.StackingConfigBuilder().mode(o.stack === 'percent' ? common.StackingMode.Percent : common.StackingMode.Normal));
  if (o.min !== undefined) p.min(o.min);
  if (o.max !== undefined) p.max(o.max);
  if (o.link) p.dataLinks([new dashboard.DashboardLinkBuilder(o.link.title).url(o.link.url)]);
  return p;
}

/** Options of a single-value panel. */
export interface StatOptions {
  title: string;
  description: string;
  unit: string;
  query: Query;
  width?: number;
  /** Show the series name (labels through `legend`) instead of the value, e.g. the model version. */
  showName?: boolean;
  decimals?: number;
  /** Red at or above this value. */
  redAbove?: number;
}

/** A stat panel (last value, sparkline). */
export function single(o: StatOptions): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.width ?? 4)
    .height(4)
    .graphMode(o.showName ? common.BigValueGraphMode.None : common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(o.showName ? common.BigValueTextMode.Name : common.BigValueTextMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .targets([target(o.query, 0)]);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  if (o.redAbove !== undefined) {
    p.thresholds(new dashboard.ThresholdsConfigBuilder()
      .mode(dashboard.ThresholdsMode.Absolute)
      .steps([{ value: null, color: 'green' }, { value: o.redAbove, color: 'red' }]));
  }
  return p;
}

/**
 * Input fps per `by` label set: emostream_input_fps (what the source delivered over the last 5 s)
 * while frames are decoded, else the decode rate (0): the gauge keeps its last value when a
 * camera goes silent.
 */
export function inputFps(cameraMatcher: string, by: string): string {
  const decoded = `sum by (${by}) (rate(emostream_frames_decoded_total{${cameraMatcher}}[$__rate_interval]))`;
  return `(max by (${by}) (emostream_input_fps{${cameraMatcher}}) and (${decoded} > 0)) or ${decoded}`;
}

/** Each emotion's share of the classified faces (0..1, summing to 1): its rate over the total. */
export function emotionShares(cameraMatcher: string): string {
  const rate = `rate(emostream_emotions_total{${cameraMatcher}}[$__rate_interval])`;
  return `sum by (emotion) (${rate}) / ignoring (emotion) group_left sum(${rate})`;
}

/** Options of an annotation: a PromQL query whose samples mark the time axis of every panel. */
export interface AnnotationOptions {
  name: string;
  /** Non-empty (and non-zero) while the event is recent: each run of samples becomes one mark. */
  expr: string;
  /** Grafana's `{{label}}` syntax. */
  title: string;
  text?: string;
  /** Labels that become the annotation's tags, comma separated. */
  tags?: string;
  color: string;
}

/** A Prometheus annotation on the dashboard's datasource, on by default. */
export function annotation(o: AnnotationOptions): dashboard.AnnotationQueryBuilder {
  const a = new dashboard.AnnotationQueryBuilder()
    .name(o.name)
    .datasource(DATASOURCE)
    .enable(true)
    .iconColor(o.color)
    .expr(o.expr)
    .step('15s')
    .titleFormat(o.title)
    .useValueForTime(false);
  if (o.text) a.textFormat(o.text);
  if (o.tags) a.tagKeys(o.tags);
  return a;
}

/**
 * Model reloads: a model version that was not served a minute earlier (a hot reload or a
 * rollout; the first load of a fresh deployment too). `emostream_model_info` only changes then.
 */
export function modelReloadAnnotation(): dashboard.AnnotationQueryBuilder {
  return annotation({
    name: 'Model reloads', color: 'purple', title: 'model {{version}} loaded', tags: 'version',
    expr: 'count by (version) (emostream_model_info) unless count by (version) (emostream_model_info offset 1m)',
  });
}

/**
 * ffmpeg restarts of the selected cameras: the restart counter grew in the last minute, or its
 * series appeared (prom-client creates a labelled counter at its first increment, which
 * `increase()` alone cannot see).
 */
export function ffmpegRestartAnnotation(cameraMatcher: string): dashboard.AnnotationQueryBuilder {
  const c = `emostream_ffmpeg_restarts_total{${cameraMatcher}}`;
  return annotation({
    name: 'ffmpeg restarts', color: 'orange', title: 'ffmpeg restart: {{camera}}', text: 'reason: {{reason}}', tags: 'camera,reason',
    expr: `(sum by (camera, reason) (increase(${c}[1m])) > 0) or (sum by (camera, reason) (${c}) unless sum by (camera, reason) (${c} offset 1m))`,
  });
}

/** The `datasource` variable (any Prometheus). */
export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus');
}

/** The `camera` variable: the cameras that have decoded frames. */
export function cameraVariable(multi: boolean): dashboard.QueryVariableBuilder {
  const v = new dashboard.QueryVariableBuilder('camera')
    .label('Camera')
    .datasource(DATASOURCE)
    .query('label_values(emostream_frames_decoded_total, camera)')
    .definition('label_values(emostream_frames_decoded_total, camera)')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(multi);
  return multi ? v.includeAll(true).allValue('.*') : v;
}

/** Common dashboard settings: time range, refresh, tags, the link to the other dashboard. */
export function baseDashboard(title: string, uid: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['emostream'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .link(new dashboard.DashboardLinkBuilder('emostream dashboards')
      .type(dashboard.DashboardLinkType.Dashboards)
      .tags(['emostream'])
      .asDropdown(true)
      .includeVars(true)
      .keepTime(true))
    .withVariable(datasourceVariable());
}

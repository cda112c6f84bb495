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

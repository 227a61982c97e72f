/**
 * What the HTML report embeds for each chart (in the `<script type="application/json">` block).
 * The server side (html.ts) decides content and colours; the browser side (html-client.ts) only
 * draws these with uPlot.
 */
export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  color: string;
  /** Dashed line (service time, targets, baselines). */
  dash?: boolean;
  width?: number;
  /** Draw points (sparse curves from profiles). */
  points?: boolean;
  /** Connect across nulls (overlaid series on a merged x grid). */
  spanGaps?: boolean;
}

export interface ChartMark {
  x: number;
  label: string;
}

/** A shaded span of the x axis (a fault window), named. */
export interface ChartBand {
  from: number;
  to: number;
  label: string;
}

export interface ChartSpec {
  /** DOM id of the container div. */
  id: string;
  title: string;
  /** 'time': seconds since start; 'percentile': x = 1/(1−p) on a log axis, labelled as percentiles. */
  x: { label: string; kind: 'time' | 'percentile' | 'linear' };
  /** Values already in this unit ('%' means 0–100). */
  y: { label: string; unit: 'ms' | '/s' | '%' | ''; min?: number };
  xs: number[];
  series: ChartSeries[];
  /** Stacked bars (errors by class). */
  stacked?: boolean;
  /** Vertical markers (time charts). */
  marks?: ChartMark[];
  /** Shaded spans (time charts: fault windows). */
  bands?: ChartBand[];
}

export interface ReportData {
  format: 'preflight-report-data/1';
  charts: ChartSpec[];
}

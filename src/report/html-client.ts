/**
 * Browser side of the HTML report. `preflightClient` is inlined into report.html with
 * Function.prototype.toString(), so it must be self-contained: no imports, no references to
 * anything outside its body (types are erased by tsc and are fine).
 */
import type { ChartSpec, ReportData } from './chart-spec.js';

interface UPlotLike {
  setSize(size: { width: number; height: number }): void;
  valToPos(v: number, scale: string, canvasPixels?: boolean): number;
  ctx: CanvasRenderingContext2D;
  bbox: { left: number; top: number; width: number; height: number };
  data: Array<Array<number | null>>;
}

type UPlotCtor = {
  new (opts: unknown, data: unknown, target: HTMLElement): UPlotLike;
  pxRatio: number;
  paths: { bars?: (opts: unknown) => unknown };
};

export function preflightClient(): void {
  const U = (window as unknown as { uPlot?: UPlotCtor }).uPlot;
  const dataEl = document.getElementById('preflight-data');
  if (!U || !dataEl) {
    console.error('preflight report: chart library or data missing');
    return;
  }
  const data = JSON.parse(dataEl.textContent || '{}') as ReportData;
  const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  const LABEL_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  const AXIS = '#4b5563';
  const GRID = '#e5e7eb';

  function sig(v: number, digits: number): string {
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 10 ** digits)
      return Math.round(v)
        .toString()
        .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const d = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
    let s = v.toFixed(Math.min(d, 6));
    if (s.indexOf('.') >= 0) s = s.replace(/\.?0+$/, '');
    return s;
  }
  function fmtY(v: number | null | undefined, unit: string): string {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    if (unit === 'ms') return Math.abs(v) >= 1000 ? sig(v / 1000, 3) + ' s' : sig(v, 3) + ' ms';
    if (unit === '/s') return sig(v, 3) + '/s';
    if (unit === '%') return sig(v, 3) + '%';
    return sig(v, 3);
  }
  function fmtTick(v: number, unit: string): string {
    if (unit === 'ms') return Math.abs(v) >= 1000 ? sig(v / 1000, 3) + 's' : sig(v, 3);
    if (unit === '%') return sig(v, 3) + '%';
    return sig(v, 3);
  }
  function pctLabel(x: number, extra: number): string {
    if (x <= 1) return '0%';
    const p = (1 - 1 / x) * 100;
    const dec = Math.max(0, Math.min(6, Math.ceil(-Math.log10(Math.max(1e-9, 100 - p)) - 1e-9) + extra));
    let s = p.toFixed(dec);
    if (s.indexOf('.') >= 0) s = s.replace(/\.?0+$/, '');
    return s + '%';
  }

  const charts: Array<{ u: UPlotLike; el: HTMLElement }> = [];

  function build(spec: ChartSpec): void {
    const el = document.getElementById(spec.id);
    if (!el || !U) return;
    const unit = spec.y.unit;
    const width = Math.max(280, el.clientWidth || 560);
    let seriesData: Array<Array<number | null>> = spec.series.map((s) => s.values);
    let order = spec.series.map((_, i) => i);
    if (spec.stacked) {
      // Cumulative sums, drawn tallest first so each class shows as its own band.
      const cum: Array<Array<number | null>> = [];
      let run = spec.xs.map(() => 0);
      for (const s of spec.series) {
        run = run.map((r, k) => r + (s.values[k] ?? 0));
        cum.push(run.slice());
      }
      order = order.slice().reverse();
      seriesData = order.map((i) => cum[i]);
    }
    const xKind = spec.x.kind;
    const xScale: Record<string, unknown> = { time: false };
    if (xKind === 'percentile') {
      xScale.distr = 3;
      xScale.log = 10;
      xScale.range = (_u: unknown, min: number, max: number): [number, number] => [Math.max(1, min), Math.max(2, max)];
    }
    const marks = spec.marks || [];
    const bands = spec.bands || [];
    const bars = spec.stacked && U.paths && U.paths.bars ? U.paths.bars({ size: [0.8, 40], align: 0 }) : null;
    const opts = {
      width,
      height: 230,
      pxAlign: 1,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      scales: {
        x: xScale,
        y: {
          range: (_u: unknown, min: number, max: number): [number, number] => {
            const lo = spec.y.min !== undefined ? Math.min(spec.y.min, min) : min;
            let hi = max;
            if (!isFinite(hi) || hi <= lo) hi = lo + 1;
            return [lo, hi + (hi - lo) * 0.06];
          },
        },
      },
      axes: [
        {
          label: spec.x.label,
          labelFont: LABEL_FONT,
          labelSize: 22,
          font: FONT,
          stroke: AXIS,
          grid: { stroke: GRID, width: 1 },
          ticks: { stroke: GRID, width: 1 },
          splits:
            xKind === 'percentile'
              ? (_u: unknown, _ai: number, min: number, max: number): number[] => {
                  const s: number[] = [1, 2];
                  for (let d = 10; d <= max * 1.0001; d *= 10) s.push(d);
                  return s.filter((v) => v >= min * 0.9999 && v <= max * 1.0001);
                }
              : undefined,
          // uPlot blanks non-decade ticks of log axes by default; keep 50% (x = 2).
          filter: xKind === 'percentile' ? (_u: unknown, splits: number[]): number[] => splits : undefined,
          values:
            xKind === 'percentile'
              ? (_u: unknown, vals: Array<number | null>): string[] =>
                  vals.map((v) => (v === null ? '' : pctLabel(v, 0)))
              : xKind === 'time'
                ? (_u: unknown, vals: number[]): string[] => vals.map((v) => sig(v, 4) + 's')
                : (_u: unknown, vals: number[]): string[] => vals.map((v) => sig(v, 3)),
        },
        {
          label: spec.y.label,
          labelFont: LABEL_FONT,
          labelSize: 22,
          font: FONT,
          stroke: AXIS,
          size: 56,
          grid: { stroke: GRID, width: 1 },
          ticks: { stroke: GRID, width: 1 },
          values: (_u: unknown, vals: number[]): string[] => vals.map((v) => fmtTick(v, unit)),
        },
      ],
      series: [
        {
          label: spec.x.kind === 'percentile' ? 'percentile' : spec.x.label,
          value: (_u: unknown, v: number | null): string =>
            v === null || v === undefined
              ? '–'
              : xKind === 'percentile'
                ? 'p' + pctLabel(v, 1).replace('%', '')
                : xKind === 'time'
                  ? sig(v, 4) + ' s'
                  : sig(v, 4),
        },
        ...order.map((i) => {
          const s = spec.series[i];
          const raw = s.values;
          const base: Record<string, unknown> = {
            label: s.label,
            stroke: s.color,
            width: s.width || 1.6,
            spanGaps: !!s.spanGaps,
            points: { show: !!s.points, size: 5, fill: s.color },
            value: (_u: unknown, v: number | null, _si: number, idx: number | null): string =>
              fmtY(spec.stacked ? (idx === null || idx === undefined ? null : raw[idx]) : v, unit),
          };
          if (s.dash) base.dash = [6, 4];
          if (spec.stacked) {
            base.fill = s.color;
            base.width = 0;
            base.paths = bars;
            base.points = { show: false };
          }
          return base;
        }),
      ],
      hooks: {
        // Fault windows under the series: a light red band each, its name at the top; the canvas
        // x-ranges drawn are kept on the element (data-bands) so tests can find them.
        drawClear: [
          (u: UPlotLike): void => {
            if (!bands.length) return;
            const ctx = u.ctx;
            const r = U.pxRatio || 1;
            const drawn: string[] = [];
            ctx.save();
            ctx.font = `${10 * r}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
            ctx.textBaseline = 'alphabetic';
            ctx.textAlign = 'left';
            for (const b of bands) {
              const left = u.bbox.left;
              const right = u.bbox.left + u.bbox.width;
              const x0 = Math.max(left, Math.min(right, u.valToPos(b.from, 'x', true)));
              const x1 = Math.max(left, Math.min(right, u.valToPos(b.to, 'x', true)));
              if (!(x1 > x0)) continue;
              ctx.fillStyle = 'rgba(220, 38, 38, 0.12)';
              ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
              ctx.fillStyle = '#991b1b';
              ctx.fillText(b.label, x0 + 3 * r, u.bbox.top + u.bbox.height - 4 * r, Math.max(10, x1 - x0 - 6 * r));
              drawn.push(Math.round(x0) + '-' + Math.round(x1));
            }
            ctx.restore();
            el.dataset.bands = drawn.join(',');
            el.dataset.bandTop = String(Math.round(u.bbox.top + 3 * r));
          },
        ],
        draw: [
          (u: UPlotLike): void => {
            if (!marks.length) return;
            const ctx = u.ctx;
            const r = U.pxRatio || 1;
            ctx.save();
            ctx.strokeStyle = '#6b7280';
            ctx.fillStyle = '#374151';
            ctx.lineWidth = 1 * r;
            ctx.setLineDash([4 * r, 3 * r]);
            ctx.textAlign = 'left';
            ctx.textBaseline = 'alphabetic';
            ctx.font = `${10 * r}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
            let row = 0;
            let lastX = -Infinity;
            for (const m of marks) {
              const x = u.valToPos(m.x, 'x', true);
              if (!(x >= u.bbox.left && x <= u.bbox.left + u.bbox.width)) continue;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              const w = ctx.measureText(m.label).width;
              row = x - lastX < w + 8 * r ? row + 1 : 0;
              lastX = x;
              const tx = x + 3 * r + w > u.bbox.left + u.bbox.width ? x - 3 * r - w : x + 3 * r;
              ctx.fillText(m.label, tx, u.bbox.top + (11 + 12 * (row % 3)) * r);
            }
            ctx.restore();
          },
        ],
      },
    };
    const u = new U(opts, [spec.xs, ...seriesData], el);
    charts.push({ u, el });
  }

  for (const spec of data.charts || []) {
    try {
      build(spec);
    } catch (err) {
      console.error('preflight report: chart ' + spec.id + ' failed', err);
      const el = document.getElementById(spec.id);
      if (el) el.textContent = 'Chart could not be drawn: ' + String(err);
    }
  }

  let pending = 0;
  window.addEventListener('resize', () => {
    clearTimeout(pending);
    pending = window.setTimeout(() => {
      for (const c of charts) c.u.setSize({ width: Math.max(280, c.el.clientWidth), height: 230 });
    }, 100);
  });
}

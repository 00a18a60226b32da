/**
 * One time-series chart: uPlot over a range query's series, aligned on the query's
 * steps, with the series' labels in the legend and the values under the cursor.
 */
import uPlot from 'uplot';
import type { MatrixSeries } from './api.js';
import { formatValue, parseSampleValue, type Unit } from './format.js';

/** A line of a chart: its legend label and its points. */
export interface Line {
  readonly label: string;
  readonly points: readonly [number, string][];
}

const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#64748b'];

/** Most lines drawn on one chart; the rest are left out and counted in the caption. */
export const MAX_LINES = 50;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** Aligns lines on the steps start..end; a step without a point is a gap. */
export function align(lines: readonly Line[], start: number, end: number, step: number): uPlot.AlignedData {
  const xs: number[] = [];
  for (let t = start; t <= end + 1e-9; t += step) xs.push(t);
  const index = new Map(xs.map((t, i) => [Math.round(t * 1000), i]));
  const ys = lines.map((line) => {
    const y: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (const [t, v] of line.points) {
      const i = index.get(Math.round(t * 1000));
      const n = parseSampleValue(v);
      if (i !== undefined && Number.isFinite(n)) y[i] = n;
    }
    return y;
  });
  return [xs, ...ys] as uPlot.AlignedData;
}

/** Lines from matrix series, labelled by `label`. */
export function linesOf(series: readonly MatrixSeries[], label: (m: Record<string, string>) => string): Line[] {
  return series.map((s) => ({ label: label(s.metric), points: s.values }));
}

/** Width of the y axis: room for its longest label (about 7 px a character at the axis font) and the ticks. */
function axisWidth(_u: uPlot, values: string[] | null): number {
  const longest = (values ?? []).reduce((n, v) => Math.max(n, v.length), 3);
  return Math.ceil(longest * 7 + 20);
}

/** The last non-null value of a line, or null. */
function lastValue(ys: ArrayLike<number | null | undefined> | undefined): number | null {
  if (!ys) return null;
  for (let i = ys.length - 1; i >= 0; i--) {
    const v = ys[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** The y scale: from zero (or the lowest value below it) to a little over the highest. */
function yRange(min: number | null, max: number | null, unit: Unit): uPlot.Range.MinMax {
  const lo = Math.min(0, min ?? 0);
  const hi = max ?? lo;
  return [lo, hi > lo ? hi + (hi - lo) * 0.05 : lo + (unit === 'percent' ? 0.01 : 1)];
}

/** A chart in a container; `update` redraws it with new lines, `destroy` frees it. */
export class Chart {
  private plot: uPlot | undefined;
  private labels = '';
  private readonly resize: ResizeObserver;

  constructor(
    private readonly el: HTMLElement,
    private unit: Unit,
    private readonly height = 200,
  ) {
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: this.height });
    });
    this.resize.observe(el);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.el.clientWidth));
  }

  /** Draws the lines over start..end at step (epoch seconds), in `unit` (default: the chart's). */
  update(lines: readonly Line[], start: number, end: number, step: number, unit: Unit = this.unit): void {
    const shown = lines.slice(0, MAX_LINES);
    const data = align(shown, start, end, step);
    const labels = `${unit}\n${shown.map((l) => l.label).join('\n')}`;
    this.unit = unit;
    if (this.plot && labels === this.labels) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.labels = labels;
    const fmt = (u: uPlot, v: number | null, sidx: number, idx: number | null): string => formatValue(idx === null ? lastValue(u.data[sidx]) : v, unit);
    const grid = cssVar('--grid', '#8884');
    const text = cssVar('--muted', '#888');
    const opts: uPlot.Options = {
      width: this.width(),
      height: this.height,
      cursor: { points: { size: 6 } },
      legend: { live: true },
      scales: { y: { range: (_u, min, max) => yRange(min, max, unit) } },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: axisWidth, values: (_u, splits) => splits.map((v) => formatValue(v, unit)) },
      ],
      series: [
        // away from the chart the legend shows each line's latest value; over it, the values at the cursor
        { label: 'Time', value: (_u, v) => (v === null ? 'latest' : new Date(v * 1000).toLocaleString()) },
        ...shown.map((l, i) => ({ label: l.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false, points: { show: false }, value: fmt })),
      ],
    };
    this.plot = new uPlot(opts, data, this.el);
  }

  /** Removes the chart and stops watching the container's size. */
  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }
}

/**
 * Renders each SQLite dashboard's panels to a PNG for the README: a SQLite store filled
 * by test/grafana/fixture.ts (synthetic values, a sample a minute for two days, written
 * through Larder's store and rollups), every panel's generated SQL run with Grafana's macros expanded for a 2-day
 * range, drawn with uPlot on the dashboard's own grid in headless Chromium (Debian's
 * `chromium`, driven by playwright-core). A rendering of the panel definitions, not a
 * Grafana screenshot.
 *
 *   node --import @tapjs/typescript/import test/grafana/render-pictures.ts   → docs/img/grafana-<key>.png
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { grafanaDir } from '../../grafana/generate.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { END, INSTANCES, JOB, fillForDashboards } from './fixture.js';
import { expandSqlite, rangeOf } from './grafana-macros.js';

type Target = { refId: string; queryText: string };
type Panel = { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; fieldConfig: { defaults: { unit: string } }; targets?: Target[] };

const require = createRequire(import.meta.url);
const UPLOT_JS = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
const UPLOT_CSS = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
const ROW_PX = 30;
const WIDTH = 1400;

/** One panel's series: [times, ...values] aligned on the union of times, and their names. */
type PanelData = { id: number; title: string; type: string; unit: string; grid: Panel['gridPos']; names: string[]; data: (number | null)[][] };

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-render-'));
  const store = await openSqliteStore({ path: join(dir, 'monitoring.db'), now: () => END });
  const out = join(grafanaDir(), '..', 'docs', 'img');
  mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    // Two days at one sample a minute (Larder's default record interval).
    await fillForDashboards(store, { instances: INSTANCES, start: END - 2 * 86_400_000, end: END, stepMs: 60_000 });
    const range = rangeOf(END - 2 * 86_400_000, END);
    for (const key of ['host', 'nodejs', 'business', 'larder']) {
      const d = JSON.parse(readFileSync(join(grafanaDir(), 'dashboards', 'sqlite', `${key}.json`), 'utf8')) as { title: string; panels: Panel[] };
      const panels: PanelData[] = [];
      for (const p of d.panels) {
        if (p.type === 'row') {
          panels.push({ id: p.id, title: p.title, type: 'row', unit: '', grid: p.gridPos, names: [], data: [] });
          continue;
        }
        const series = new Map<string, Map<number, number | null>>();
        for (const t of p.targets ?? []) {
          const rows = await store.query(expandSqlite(t.queryText, range, { job: [JOB], instance: INSTANCES }));
          for (const r of rows) {
            const labels = Object.entries(r).filter(([k]) => k !== 'time' && k !== 'value').map(([, v]) => String(v));
            const name = `${t.refId}${labels.length ? ` ${labels.join(' ')}` : ''}`;
            if (!series.has(name)) series.set(name, new Map());
            series.get(name)!.set(Number(r['time']), r['value'] === null ? null : Number(r['value']));
          }
        }
        const times = [...new Set([...series.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
        panels.push({ id: p.id, title: p.title, type: p.type, unit: p.fieldConfig.defaults.unit, grid: p.gridPos, names: [...series.keys()], data: [times, ...[...series.values()].map((m) => times.map((x) => m.get(x) ?? null))] });
      }
      const page = await browser.newPage({ viewport: { width: WIDTH, height: 800 }, deviceScaleFactor: 1 });
      await page.setContent(html(d.title, panels));
      await page.waitForFunction('window.rendered === true');
      const file = join(out, `grafana-${key}.png`);
      await page.screenshot({ path: file, fullPage: true });
      await page.close();
      process.stdout.write(`wrote ${file}\n`);
    }
  } finally {
    await browser.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function html(title: string, panels: PanelData[]): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>${UPLOT_CSS}
body{margin:0;background:#111217;color:#ccccdc;font:12px sans-serif}
h1{font-size:16px;margin:8px 12px}
.grid{position:relative;width:${WIDTH - 16}px;margin:0 8px}
.p{position:absolute;box-sizing:border-box;background:#181b1f;border:1px solid #2a2d33;border-radius:2px;padding:4px 6px;overflow:hidden}
.p h2{font-size:12px;margin:0 0 2px;font-weight:600}
.row{position:absolute;font-size:14px;font-weight:600;padding-top:6px}
.stat{font-size:34px;font-weight:600;color:#73bf69;text-align:center;margin-top:18px}
.u-legend{font-size:10px}
</style></head><body><h1>${title} — a rendering of the panel definitions, not a Grafana screenshot</h1><div class="grid" id="g"></div>
<script>${UPLOT_JS}</script>
<script>
const panels = ${JSON.stringify(panels)};
const COL = (${WIDTH - 16}) / 24, ROW = ${ROW_PX};
const colors = ['#73bf69','#f2cc0c','#5794f2','#ff9830','#f2495c','#b877d9','#8ab8ff','#ffb357','#96d98d','#ca95e5'];
const fmt = (v, unit) => {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  if (unit === 'percentunit') return (v * 100).toFixed(1) + '%';
  if (unit === 'bytes') { const u = ['B','KiB','MiB','GiB','TiB']; let i = 0; while (Math.abs(v) >= 1024 && i < 4) { v /= 1024; i++; } return v.toFixed(1) + ' ' + u[i]; }
  if (unit === 'Bps') return fmt(v, 'bytes') + '/s';
  if (unit === 's') return v < 1 ? (v * 1000).toFixed(1) + ' ms' : v.toFixed(2) + ' s';
  if (unit === 'dateTimeFromNow') return new Date(v).toISOString().slice(0, 16).replace('T', ' ');
  const suffix = { reqps: ' req/s', ops: ' ops/s', pps: ' p/s' }[unit] || '';
  return (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(3)) + suffix;
};
const g = document.getElementById('g');
let bottom = 0;
for (const p of panels) {
  const el = document.createElement('div');
  el.className = p.type === 'row' ? 'row' : 'p';
  el.style.left = p.grid.x * COL + 'px'; el.style.top = p.grid.y * ROW + 'px';
  el.style.width = p.grid.w * COL - 4 + 'px'; el.style.height = p.grid.h * ROW - 4 + 'px';
  bottom = Math.max(bottom, (p.grid.y + p.grid.h) * ROW);
  g.appendChild(el);
  if (p.type === 'row') { el.textContent = p.title; continue; }
  const h = document.createElement('h2'); h.textContent = p.title; el.appendChild(h);
  if (p.type !== 'timeseries') {
    const last = p.data.slice(1).map((s) => [...s].reverse().find((v) => v !== null));
    const s = document.createElement('div'); s.className = 'stat'; s.textContent = last.map((v) => fmt(v, p.unit)).join('  ');
    el.appendChild(s); continue;
  }
  new uPlot({
    width: p.grid.w * COL - 18, height: p.grid.h * ROW - 62,
    series: [{}, ...p.names.map((n, i) => ({ label: n.replace(/^[A-Z] ?/, '') || p.title, stroke: colors[i % colors.length], width: 1, points: { show: false } }))],
    axes: [{ stroke: '#8e8e8e', grid: { stroke: '#2a2d33' } }, { stroke: '#8e8e8e', grid: { stroke: '#2a2d33' }, size: 70, values: (u, vals) => vals.map((v) => fmt(v, p.unit)) }],
    legend: { live: false },
  }, p.data, el);
}
g.style.height = bottom + 'px';
window.rendered = true;
</script></body></html>`;
}

await main();

/**
 * Larder's built-in page: the header (views, range picker, auto-refresh) and the view
 * below it, all state in the URL hash. Served by src/ui-files.ts; built by ui/build.mjs.
 */
import { mountAlerts } from './alerts.js';
import { h } from './dom.js';
import { mountExplore } from './explore.js';
import { mountOverview, type ViewHandle } from './overview.js';
import { PRESETS, windowFor } from './range.js';
import { rangeOf, readState, REFRESH, writeState, type PageState } from './state.js';

const view = document.getElementById('view') as HTMLElement;
const rangeSelect = document.getElementById('range') as HTMLSelectElement;
const refreshSelect = document.getElementById('refresh') as HTMLSelectElement;
const customBox = document.getElementById('custom-form') as HTMLFormElement;
const fromInput = document.getElementById('from') as HTMLInputElement;
const toInput = document.getElementById('to') as HTMLInputElement;
const stepNote = document.getElementById('step') as HTMLElement;

rangeSelect.append(...PRESETS.map((r) => h('option', { value: r.key }, r.label)), h('option', { value: 'custom' }, 'custom…'));
refreshSelect.append(...REFRESH.map((s) => h('option', { value: s }, s === 0 ? 'off' : s < 60 ? `${s}s` : `${s / 60}m`)));

const TITLES: Record<PageState['view'], string> = { overview: 'Overview', explore: 'Explore', alerts: 'Alerts' };

let state: PageState = readState(location.hash);
let mounted: { view: PageState['view']; handle: ViewHandle } | undefined;
let controller: AbortController | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

/** `datetime-local` value of epoch seconds in the browser's zone. */
function localInput(seconds: number): string {
  const d = new Date(seconds * 1000);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function setState(next: PageState): void {
  const hash = writeState(next);
  if (hash !== location.hash) location.hash = hash;
  else render();
}

/** Re-reads the data of the mounted view, cancelling a refresh still in flight. */
function refresh(): void {
  if (!mounted) return;
  clearTimeout(timer);
  controller?.abort();
  const c = new AbortController();
  controller = c;
  const { seconds, end } = rangeOf(state, Date.now() / 1000);
  const w = windowFor(seconds, end);
  stepNote.textContent = `step ${w.step >= 3600 ? `${w.step / 3600}h` : w.step >= 60 ? `${w.step / 60}m` : `${w.step}s`}`;
  document.body.dataset['loading'] = 'true';
  mounted.handle
    .refresh(w, c.signal)
    .catch(() => undefined)
    .finally(() => {
      if (controller !== c) return;
      delete document.body.dataset['loading'];
      // a custom range ends in the past: nothing new to read
      if (state.refresh > 0 && state.range !== 'custom') timer = setTimeout(() => (document.hidden ? scheduleOnVisible() : refresh()), state.refresh * 1000);
    });
}

function scheduleOnVisible(): void {
  document.addEventListener('visibilitychange', () => refresh(), { once: true });
}

/** Applies the hash: the controls, the view (mounted anew when it changed), then a refresh. */
function render(): void {
  state = readState(location.hash);
  rangeSelect.value = state.range;
  refreshSelect.value = String(state.refresh);
  customBox.hidden = state.range !== 'custom';
  if (state.range === 'custom' && state.from !== undefined && state.to !== undefined) {
    fromInput.value = localInput(state.from);
    toInput.value = localInput(state.to);
  }
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a[data-view]')) a.classList.toggle('active', a.dataset['view'] === state.view);
  if (mounted?.view !== state.view) {
    mounted?.handle.destroy();
    const handle = state.view === 'explore' ? mountExplore(view, state.q, (q) => setState({ ...state, q })) : state.view === 'alerts' ? mountAlerts(view) : mountOverview(view);
    mounted = { view: state.view, handle };
  }
  document.title = `Larder · ${TITLES[state.view]}`;
  refresh();
}

rangeSelect.addEventListener('change', () => {
  if (rangeSelect.value === 'custom') {
    const now = Math.floor(Date.now() / 1000);
    setState({ ...state, range: 'custom', from: state.from ?? now - 86400, to: state.to ?? now });
  } else {
    const { from: _f, to: _t, ...rest } = state;
    setState({ ...rest, range: rangeSelect.value });
  }
});
refreshSelect.addEventListener('change', () => setState({ ...state, refresh: Number(refreshSelect.value) }));
customBox.addEventListener('submit', (e) => {
  e.preventDefault();
  const from = Date.parse(fromInput.value) / 1000;
  const to = Date.parse(toInput.value) / 1000;
  if (Number.isFinite(from) && Number.isFinite(to) && to > from) setState({ ...state, range: 'custom', from, to });
});
for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a[data-view]')) {
  a.addEventListener('click', (e) => {
    e.preventDefault();
    const v = a.dataset['view'];
    setState({ ...state, view: v === 'explore' || v === 'alerts' ? v : 'overview' });
  });
}
window.addEventListener('hashchange', render);
render();

/**
 * The page's state, kept in the URL's hash (`#/explore?range=30d&q=up`) so a view can
 * be bookmarked and shared, and the back button works.
 */
import { PRESETS } from './range.js';

/** The views of the page. */
export type View = 'overview' | 'explore' | 'alerts';

/** What the hash holds. */
export interface PageState {
  view: View;
  /** A preset key (`1h`) or `custom`. */
  range: string;
  /** The custom range, epoch seconds. */
  from?: number;
  to?: number;
  /** Seconds between refreshes; 0 = off. */
  refresh: number;
  /** The Explore query. */
  q: string;
}

/** Refresh choices, seconds. */
export const REFRESH = [0, 10, 30, 60, 300];

/** Reads the state from a hash such as `#/explore?q=up`. */
export function readState(hash: string): PageState {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const p = new URLSearchParams(query);
  const range = p.get('range') ?? '1h';
  const num = (k: string): number | undefined => {
    const v = Number(p.get(k));
    return p.has(k) && Number.isFinite(v) ? v : undefined;
  };
  const refresh = num('refresh');
  const state: PageState = {
    view: path === 'explore' || path === 'alerts' ? path : 'overview',
    range: range === 'custom' || PRESETS.some((r) => r.key === range) ? range : '1h',
    refresh: refresh !== undefined && REFRESH.includes(refresh) ? refresh : 60,
    q: p.get('q') ?? '',
  };
  const from = num('from');
  const to = num('to');
  if (from !== undefined) state.from = from;
  if (to !== undefined) state.to = to;
  if (state.range === 'custom' && !(from !== undefined && to !== undefined && to > from)) state.range = '1h';
  return state;
}

/** Writes the state as a hash. */
export function writeState(s: PageState): string {
  const p = new URLSearchParams();
  p.set('range', s.range);
  if (s.range === 'custom' && s.from !== undefined && s.to !== undefined) {
    p.set('from', String(s.from));
    p.set('to', String(s.to));
  }
  p.set('refresh', String(s.refresh));
  if (s.view === 'explore' && s.q) p.set('q', s.q);
  return `#/${s.view}?${p.toString()}`;
}

/** The range of a state in seconds and its end (epoch seconds), at `now`. */
export function rangeOf(s: PageState, nowSeconds: number): { seconds: number; end: number } {
  if (s.range === 'custom' && s.from !== undefined && s.to !== undefined) return { seconds: Math.max(1, Math.round(s.to - s.from)), end: s.to };
  const preset = PRESETS.find((r) => r.key === s.range) ?? PRESETS[1];
  return { seconds: preset?.seconds ?? 3600, end: nowSeconds };
}

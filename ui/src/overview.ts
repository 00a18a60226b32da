/**
 * The Overview: the host's facts (name, uptime, OS, CPUs, memory), the alerts firing now,
 * and a chart per panel of panels.ts over the chosen range.
 */
import { get, queryInstant, queryRange, ruleGroups, type ApiRuleGroup, type InstantResult } from './api.js';
import { Chart, linesOf } from './chart.js';
import { h, Limiter } from './dom.js';
import { fillTemplate, formatBytes, formatSeconds } from './format.js';
import { PANELS, type Panel } from './panels.js';
import { expand, type Window } from './range.js';

/** A mounted view: refreshed over a window, destroyed when the page leaves it. */
export interface ViewHandle {
  refresh(w: Window, signal: AbortSignal): Promise<void>;
  destroy(): void;
}

interface MountedPanel {
  readonly panel: Panel;
  readonly el: HTMLElement;
  readonly note: HTMLElement;
  readonly chart: Chart;
}

function firstSample(r: InstantResult): { metric: Record<string, string>; value: number } | undefined {
  if (r.resultType !== 'vector' || r.result.length === 0) return undefined;
  const s = r.result[0];
  return s ? { metric: s.metric, value: Number(s.value[1]) } : undefined;
}

/** The facts line: each fact is its own instant query, so one missing metric hides only itself. */
async function loadFacts(box: HTMLElement, signal: AbortSignal): Promise<void> {
  const now = Date.now() / 1000;
  const fact = (id: string, label: string, value: string): HTMLElement => h('div', { class: 'fact', 'data-fact': id }, h('span', { class: 'fact-label' }, label), h('span', { class: 'fact-value' }, value));
  const [uname, boot, os, cpus, mem, build] = await Promise.allSettled([
    queryInstant('node_uname_info', now, signal),
    queryInstant('time() - node_boot_time_seconds', now, signal),
    queryInstant('node_os_info', now, signal),
    queryInstant('count(count by (cpu) (node_cpu_seconds_total))', now, signal),
    queryInstant('node_memory_MemTotal_bytes', now, signal),
    get<{ larderVersion?: string }>('status/buildinfo', signal),
  ]);
  const pick = (r: PromiseSettledResult<InstantResult>): ReturnType<typeof firstSample> => (r.status === 'fulfilled' ? firstSample(r.value) : undefined);
  const u = pick(uname);
  const b = pick(boot);
  const o = pick(os);
  const c = pick(cpus);
  const m = pick(mem);
  box.replaceChildren(
    fact('host', 'Host', u?.metric['nodename'] ?? '–'),
    fact('uptime', 'Uptime', b ? formatSeconds(b.value) : '–'),
    fact('os', 'OS', o?.metric['pretty_name'] ?? o?.metric['name'] ?? u?.metric['sysname'] ?? '–'),
    fact('kernel', 'Kernel', u ? `${u.metric['release'] ?? ''} ${u.metric['machine'] ?? ''}`.trim() : '–'),
    fact('cpus', 'CPUs', c ? String(c.value) : '–'),
    fact('memory', 'Memory', m ? formatBytes(m.value) : '–'),
    fact('larder', 'Larder', build.status === 'fulfilled' ? (build.value.larderVersion ?? '–') : '–'),
  );
}

/** The firing-alerts line: how many fire (and are pending), their names, a link to the Alerts view. */
async function loadFiring(box: HTMLElement, signal: AbortSignal): Promise<void> {
  let groups: ApiRuleGroup[] | undefined;
  try {
    // the alerting rules carry their active alerts: one request tells both whether alerting is on and what fires
    groups = await ruleGroups('?type=alert', signal);
  } catch (e) {
    if (signal.aborted) return;
    box.dataset['firing'] = '';
    box.replaceChildren(`Alerts: cannot read (${(e as Error).message})`);
    return;
  }
  if (groups === undefined || groups.length === 0) {
    box.dataset['firing'] = '';
    box.replaceChildren('Alerting is off (no alert rule loaded).');
    return;
  }
  const alerts = groups.flatMap((g) => g.rules.flatMap((r) => r.alerts ?? []));
  const firing = alerts.filter((a) => a.state === 'firing');
  const pending = alerts.filter((a) => a.state === 'pending').length;
  const names = [...new Set(firing.map((a) => a.labels['alertname'] ?? ''))];
  box.dataset['firing'] = String(firing.length);
  box.replaceChildren(
    h('strong', { class: 'count' }, firing.length === 0 ? 'No alert firing' : `${firing.length} firing`),
    names.length > 0 ? `: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}` : '',
    pending > 0 ? ` · ${pending} pending` : '',
    ' · ',
    h('a', { href: '#/alerts' }, 'Alerts'),
  );
}

/** Mounts the Overview in `root`. */
export function mountOverview(root: HTMLElement): ViewHandle {
  const facts = h('div', { class: 'facts', id: 'facts' }, h('div', { class: 'fact' }, 'Loading…'));
  const firing = h('p', { class: 'firing', id: 'firing-alerts' }, 'Alerts: loading…');
  const grids = { host: h('div', { class: 'grid' }), service: h('div', { class: 'grid' }) };
  const mounted: MountedPanel[] = PANELS.map((panel) => {
    const chartBox = h('div', { class: 'chart' });
    const note = h('p', { class: 'note' });
    const el = h('section', { class: 'panel', 'data-panel': panel.id, 'data-state': 'loading', 'data-metrics': panel.metrics.join(' ') }, h('h3', {}, panel.title), chartBox, note);
    grids[panel.section].append(el);
    return { panel, el, note, chart: new Chart(chartBox, panel.unit) };
  });
  root.replaceChildren(
    h('section', { class: 'overview' }, facts, firing, h('h2', {}, 'Host'), grids.host, h('h2', {}, 'Service'), grids.service),
  );

  const limiter = new Limiter(4);
  /** Reads one panel's queries and draws them; each panel draws as soon as its own answers are in. */
  const refreshPanel = async (m: MountedPanel, w: Window, signal: AbortSignal): Promise<void> => {
    const results = await Promise.allSettled(
      m.panel.queries.map((q) =>
        limiter.run(async () => {
          signal.throwIfAborted();
          const r = await queryRange(expand(q.expr, w.step), w.start, w.end, w.step, signal);
          return linesOf(r.result, (metric) => fillTemplate(q.legend, metric) || 'value');
        }),
      ),
    );
    if (signal.aborted) return;
    const lines = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])).filter((l) => l.points.length > 0);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const error = failed ? String((failed.reason as Error).message ?? failed.reason) : undefined;
    m.chart.update(lines, w.start, w.end, w.step);
    if (lines.length > 0) {
      m.el.dataset['state'] = 'data';
      m.note.textContent = error ?? '';
    } else if (error !== undefined) {
      m.el.dataset['state'] = 'error';
      m.note.textContent = error;
    } else {
      m.el.dataset['state'] = 'empty';
      m.note.textContent = `No data in this range (needs ${m.panel.metrics.join(', ')}).`;
    }
  };

  return {
    async refresh(w, signal) {
      await Promise.all([loadFacts(facts, signal).catch(() => undefined), loadFiring(firing, signal), ...mounted.map((m) => refreshPanel(m, w, signal))]);
    },
    destroy() {
      for (const m of mounted) m.chart.destroy();
    },
  };
}

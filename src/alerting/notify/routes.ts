/** Alertmanager's route tree matching: the deepest matching routes, `continue` to keep looking at siblings. */
import type { RouteConfig } from './config.js';
import { matchesAll } from './matchers.js';

/** A route with a stable id (its path in the tree, `0`, `0.2`, …). */
export interface CompiledRoute extends RouteConfig {
  readonly id: string;
  readonly children: readonly CompiledRoute[];
}

/** Gives every route its id. */
export function compileRoutes(r: RouteConfig, id = '0'): CompiledRoute {
  return { ...r, id, children: r.routes.map((c, i) => compileRoutes(c, `${id}.${i}`)) };
}

/** The routes an alert with these labels goes to, as Alertmanager's Route.Match. */
export function matchRoutes(r: CompiledRoute, labels: Readonly<Record<string, string>>): CompiledRoute[] {
  if (!matchesAll(r.matchers, labels)) return [];
  const all: CompiledRoute[] = [];
  for (const c of r.children) {
    const m = matchRoutes(c, labels);
    all.push(...m);
    if (m.length > 0 && !c.continue) break;
  }
  return all.length > 0 ? all : [r];
}

/** The labels an alert is grouped by on a route (`...` = all of them). */
export function groupLabels(r: RouteConfig, labels: Readonly<Record<string, string>>): Record<string, string> {
  if (r.groupBy.includes('...')) return { ...labels };
  const out: Record<string, string> = {};
  for (const k of r.groupBy) if (labels[k] !== undefined && labels[k] !== '') out[k] = labels[k];
  return out;
}

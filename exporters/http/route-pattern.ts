/**
 * The express route pattern that served a request (`/api/recipes/:id`), never its raw
 * URL: `req.route.path` alone lacks router mount prefixes, and `req.baseUrl` holds the
 * mount's matched text (`/users/42`), not its pattern, and is already restored when an
 * error leaves the router. So the pattern is found by walking the app's router tree
 * to the route that matched, once per route (cached), and by matching the path only
 * when one route object is reachable through several mounts.
 *
 * This reads express 5's router internals (`stack`, `route`, `handle`, `rawPath`,
 * `match()`); they are typed structurally here so a change shows up as a fallback to
 * the route's own path rather than a crash.
 */

/** What a route needs to expose. */
export interface RouteLike {
  readonly path: unknown;
}

interface MatchLike {
  readonly path: string;
  readonly pattern?: unknown;
}

interface LayerLike {
  readonly route?: RouteLike;
  readonly handle?: unknown;
  readonly rawPath?: unknown;
  match?(path: string): MatchLike | false;
}

interface StackOwner {
  readonly stack: readonly LayerLike[];
}

const MAX_DEPTH = 32;

function patternText(p: unknown): string {
  if (typeof p === 'string') return p;
  if (p instanceof RegExp) return p.toString();
  if (Array.isArray(p)) return p.map(patternText).join('|');
  return String(p);
}

/** Joins a mount prefix and a path pattern the way express matches them. */
export function joinPattern(prefix: string, path: string): string {
  if (prefix === '' || prefix === '/') return path === '' ? '/' : path;
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (path === '/' || path === '') return base;
  return base + (path.startsWith('/') ? path : `/${path}`);
}

function childStack(handle: unknown): readonly LayerLike[] | undefined {
  if (typeof handle !== 'function' && (typeof handle !== 'object' || handle === null)) return undefined;
  const h = handle as Partial<StackOwner> & { router?: Partial<StackOwner> };
  if (Array.isArray(h.stack)) return h.stack;
  // a mounted express sub-app: its router holds the stack
  if ('handle' in h && 'set' in h && h.router && Array.isArray(h.router.stack)) return h.router.stack;
  return undefined;
}

function mountPaths(layer: LayerLike): string[] {
  const raw = layer.rawPath;
  if (raw === undefined) return ['/'];
  return Array.isArray(raw) ? raw.map(patternText) : [patternText(raw)];
}

/** Every full pattern under which `target` is reachable from `stack`. */
function allPatterns(stack: readonly LayerLike[], target: RouteLike, prefix: string, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  for (const layer of stack) {
    if (layer.route) {
      if (layer.route === target) {
        const p = target.path;
        for (const one of Array.isArray(p) ? p : [p]) out.push(joinPattern(prefix, patternText(one)));
      }
      continue;
    }
    const child = childStack(layer.handle);
    if (!child) continue;
    for (const m of mountPaths(layer)) allPatterns(child, target, joinPattern(prefix, m), out, depth + 1);
  }
}

/** The pattern under which `path` reached `target`, by matching layer by layer. */
function matchPattern(stack: readonly LayerLike[], target: RouteLike, path: string, prefix: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  for (const layer of stack) {
    if (typeof layer.match !== 'function') continue;
    const child = layer.route ? undefined : childStack(layer.handle);
    if (!layer.route && !child) continue;
    let m: MatchLike | false;
    try {
      m = layer.match(path);
    } catch {
      continue;
    }
    if (!m) continue;
    const here = m.pattern !== undefined ? patternText(m.pattern) : layer.route ? patternText(layer.route.path) : mountPaths(layer)[0]!;
    if (layer.route) {
      if (layer.route === target) return joinPattern(prefix, here);
      continue;
    }
    const rest = path.slice(m.path.length) || '/';
    const found = matchPattern(child!, target, rest.startsWith('/') ? rest : `/${rest}`, joinPattern(prefix, here), depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The request URL fields express sets; read only when a route has several patterns. */
export interface RequestUrl {
  readonly originalUrl?: string;
  readonly url?: string;
}

function pathOf(req: RequestUrl): string {
  const url = req.originalUrl || req.url || '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Resolves route patterns for one app's router tree, caching per route. */
export class RoutePatterns {
  private readonly cache = new WeakMap<RouteLike, readonly string[]>();

  /** `root` returns the app's top router stack (looked up lazily: express builds it on first use). */
  constructor(private readonly root: () => readonly LayerLike[] | undefined) {}

  /**
   * The full pattern of `route` for `req`. The URL is read only when the route is
   * reachable under several patterns (reading request properties is not free: see middleware.ts).
   */
  resolve(route: RouteLike, req: RequestUrl): string {
    let patterns = this.cache.get(route);
    if (!patterns) {
      const out: string[] = [];
      const stack = this.root();
      if (stack) allPatterns(stack, route, '', out, 0);
      patterns = [...new Set(out)];
      this.cache.set(route, patterns);
    }
    if (patterns.length === 1) return patterns[0]!;
    if (patterns.length > 1) {
      const stack = this.root();
      const found = stack ? matchPattern(stack, route, pathOf(req), '', 0) : undefined;
      if (found !== undefined) return found;
    }
    // not reachable from this app's root (another app served it): the route's own path
    return patternText(route.path);
  }
}

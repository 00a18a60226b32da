/**
 * Content negotiation for /metrics as HTTP defines it (RFC 9110 §12.5.1 Accept,
 * §12.5.3 Accept-Encoding): case-insensitive tokens, q-values (q=0 means "not
 * acceptable"), wildcards, and the most specific media range taking precedence.
 * Pure functions over the header values; the server decides what to do with the answer.
 */

/** The two exposition formats Larder serves. */
export type ExpositionFormat = 'openmetrics' | 'text';

/** Header elements looked at; a longer list is cut there (Node already caps a header at 16 KB). */
const MAX_ELEMENTS = 64;

interface Element {
  /** Lower-cased token or media range, e.g. `gzip`, `text/plain`, `*`. */
  readonly value: string;
  /** Lower-cased parameters other than q. */
  readonly params: ReadonlyMap<string, string>;
  /** 0 to 1. */
  readonly q: number;
}

const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * Splits a list header into elements with their weights. Elements with a malformed
 * q-value are dropped (a recipient may ignore what it cannot parse); quoted parameter
 * values are unquoted.
 */
function parseList(header: string): Element[] {
  const out: Element[] = [];
  for (const part of header.split(',').slice(0, MAX_ELEMENTS)) {
    const [head, ...rawParams] = part.split(';');
    const value = head!.trim().toLowerCase();
    if (value === '') continue;
    let q = 1;
    let valid = true;
    const params = new Map<string, string>();
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const name = p.slice(0, eq).trim().toLowerCase();
      let v = p.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      if (name === 'q') {
        if (!QVALUE.test(v)) valid = false;
        q = Number(v);
      } else {
        params.set(name, v.toLowerCase());
      }
    }
    if (valid) out.push({ value, params, q });
  }
  return out;
}

interface Offer {
  readonly format: ExpositionFormat;
  readonly type: string;
  readonly subtype: string;
  /** Versions of the format this offer answers (`version=` parameter of a request). */
  readonly versions: readonly string[];
}

// Prometheus asks for OpenMetrics 1.0.0 or 0.0.1 (the version its 2.x releases sent);
// both are served as OpenMetrics 1.0.0, as Prometheus' own client libraries do.
const OFFERS: readonly Offer[] = [
  { format: 'text', type: 'text', subtype: 'plain', versions: ['0.0.4'] },
  { format: 'openmetrics', type: 'application', subtype: 'openmetrics-text', versions: ['1.0.0', '0.0.1'] },
];

/** How specifically `range` names `offer`: -1 when it does not match, higher is more specific. */
function specificity(range: Element, offer: Offer): number {
  const slash = range.value.indexOf('/');
  if (slash < 0) return -1;
  const type = range.value.slice(0, slash).trim();
  const subtype = range.value.slice(slash + 1).trim();
  if (type === '*' && subtype === '*') return 0;
  if (type !== offer.type) return -1;
  if (subtype === '*') return 1;
  if (subtype !== offer.subtype) return -1;
  const version = range.params.get('version');
  if (version !== undefined && !offer.versions.includes(version)) return -1;
  return 2 + range.params.size;
}

/**
 * Picks the exposition format from an Accept header. Each format gets the q-value of
 * the most specific media range that matches it; the higher q wins, then the more
 * specific match, then the one the client listed first; the text format when nothing
 * is said or nothing is acceptable (a scrape is better answered than refused with 406).
 */
export function negotiate(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept.trim() === '') return 'text';
  const ranges = parseList(accept);
  let best: { format: ExpositionFormat; q: number; spec: number; index: number } | undefined;
  for (const offer of OFFERS) {
    let match: { q: number; spec: number; index: number } | undefined;
    ranges.forEach((range, index) => {
      const spec = specificity(range, offer);
      if (spec < 0) return;
      if (!match || spec > match.spec || (spec === match.spec && range.q > match.q)) match = { q: range.q, spec, index };
    });
    if (!match || match.q === 0) continue;
    const better =
      !best ||
      match.q > best.q ||
      (match.q === best.q && (match.spec > best.spec || (match.spec === best.spec && match.index < best.index)));
    if (better) best = { format: offer.format, ...match };
  }
  return best?.format ?? 'text';
}

/**
 * True when the Accept-Encoding header lets the response be gzipped and prefers it to
 * no encoding: `gzip` (or its alias `x-gzip`, RFC 9110 §8.4.1.3) or `*` with q above 0,
 * at least as high as `identity`'s. No header means no encoding.
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  const codings = parseList(acceptEncoding);
  const weight = (names: readonly string[]): number | undefined => {
    const found = codings.filter((c) => names.includes(c.value));
    return found.length ? Math.max(...found.map((c) => c.q)) : undefined;
  };
  const star = weight(['*']);
  const gzip = weight(['gzip', 'x-gzip']) ?? star ?? 0;
  // identity is acceptable unless excluded by name or by `*;q=0` (RFC 9110 §12.5.3)
  const identity = weight(['identity']) ?? star ?? 1;
  return gzip > 0 && gzip >= identity;
}

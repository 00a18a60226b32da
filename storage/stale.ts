/**
 * Prometheus' stale marker: a NaN with the bit pattern 0x7ff0000000000002 that ends a
 * series (the scrape loop writes one when a series disappears). It crosses the `Store`
 * interface as that NaN; the stores keep it apart from an ordinary NaN (docs/storage.md):
 * SQLite as a zero-length BLOB in `value` (NaN is NULL there), PostgreSQL as a NULL
 * `value` (NaN is native there).
 */

// The high and low 32-bit words of the marker (little-endian views of one double).
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;
/** The quiet bit of a NaN: V8 sets it when it copies a signalling NaN into an array or a Map. */
const QUIET_HI = 0x00080000;
// Scratch buffer to read a double's bits; nothing survives a call.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE ? 0 : 1;
const HI = LITTLE ? 1 : 0;

/**
 * The payload survives typed arrays, object fields and structured clones, but not a JS
 * `number[]`: V8's optimized code canonicalizes a NaN stored in a double array (measured:
 * 0x7ff0000000000002 came out as 0x7ff8000000000000), so code that carries markers keeps
 * values in Float64Arrays or objects.
 */

/**
 * True for the stale marker. Its quieted twin (0x7ff8000000000002) counts too: V8 sets
 * a signalling NaN's quiet bit when it stores one in a JS array or a Map, so a marker
 * that went through one arrives with it. An ordinary NaN (0x7ff8000000000000) is not stale.
 */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false; // not NaN: the common case, no bit reading
  f64[0] = v;
  return u32[LO] === STALE_LO && (u32[HI]! & ~QUIET_HI) === STALE_HI;
}

/** The stale-marker NaN. */
export function staleNaN(): number {
  u32[LO] = STALE_LO;
  u32[HI] = STALE_HI;
  return f64[0]!;
}

/** SQLite's encoding of a stale marker in a `value` column: a zero-length BLOB (no bytes beyond NULL's). */
export const SQLITE_STALE_BLOB: Uint8Array = new Uint8Array(0);

/** SQLite: a predicate true for a chunk row that is a sample, not a stale marker. */
export function sqliteLive(valueCol: string): string {
  return `typeof(${valueCol}) <> 'blob'`;
}

/** PostgreSQL: a predicate true for a row that is a sample, not a stale marker. */
export function pgLive(valueCol: string): string {
  return `${valueCol} IS NOT NULL`;
}

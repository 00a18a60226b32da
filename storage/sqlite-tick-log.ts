/**
 * The tick log: record ticks kept in a file beside the SQLite store until they are
 * committed to it in one transaction (sqlite-pending.ts, docs/storage.md "Commits a
 * minute apart"). A SQLite commit under a rollback journal writes at least ~17 KB
 * whatever it holds; appending a tick here writes its bytes and no more.
 *
 * Format: records back to back, each
 *   u32 payload length, u32 CRC-32 of the payload, payload
 * and the payload
 *   u32 n, u32 flags, f64 base time (ms), u32 series id × n,
 *   i32 time − base × n (only with flag 1: the times differ), f64 value × n
 * little-endian. Values are copied bit for bit (a stale marker is a NaN with a payload).
 * A record that is cut short or fails its CRC ends the log: it is what a kill in the
 * middle of an append leaves, and its write was never acknowledged.
 */
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

const RECORD_HEADER = 8;
const PAYLOAD_HEADER = 16;
const TIMES_DIFFER = 1;
/** A payload above this is not a tick Larder wrote (a damaged length): the log ends there. */
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** Whether a packed batch can be encoded: integral series ids and times within ±24 days of the first. */
export function encodable(p: Float64Array): boolean {
  if (p.length === 0) return false;
  const base = p[1]!;
  for (let i = 0; i < p.length; i += 3) {
    const id = p[i]!;
    const d = p[i + 1]! - base;
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff || !Number.isInteger(d) || d < -0x80000000 || d > 0x7fffffff) return false;
  }
  return true;
}

/** One record (header and payload) for packed `[seriesId, timeMs, value]` triples; see encodable. */
export function encodeRecord(p: Float64Array): Buffer {
  const n = p.length / 3;
  const base = p[1]!;
  let differ = false;
  for (let i = 4; i < p.length; i += 3) if (p[i] !== base) differ = true;
  const bytes = PAYLOAD_HEADER + 4 * n + (differ ? 4 * n : 0) + 8 * n;
  const buf = Buffer.alloc(RECORD_HEADER + bytes);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = RECORD_HEADER;
  view.setUint32(o, n, true);
  view.setUint32(o + 4, differ ? TIMES_DIFFER : 0, true);
  view.setFloat64(o + 8, base, true);
  o += PAYLOAD_HEADER;
  for (let k = 0; k < n; k++, o += 4) view.setUint32(o, p[k * 3]!, true);
  if (differ) for (let k = 0; k < n; k++, o += 4) view.setInt32(o, p[k * 3 + 1]! - base, true);
  // Values through a Float64Array, not DataView.setFloat64 of a number: bit for bit.
  const vals = new Float64Array(n);
  for (let k = 0; k < n; k++) vals[k] = p[k * 3 + 2]!;
  buf.set(new Uint8Array(vals.buffer), o);
  view.setUint32(0, bytes, true);
  view.setUint32(4, crc32(buf.subarray(RECORD_HEADER)), true);
  return buf;
}

/** The records of `buf` in order, up to the first incomplete or damaged one, and the bytes they span. */
export function decodeRecords(buf: Buffer): { batches: Float64Array[]; validBytes: number } {
  const batches: Float64Array[] = [];
  let o = 0;
  while (o + RECORD_HEADER <= buf.length) {
    const len = buf.readUInt32LE(o);
    if (len < PAYLOAD_HEADER || len > MAX_PAYLOAD_BYTES || o + RECORD_HEADER + len > buf.length) break;
    const payload = buf.subarray(o + RECORD_HEADER, o + RECORD_HEADER + len);
    if (crc32(payload) !== buf.readUInt32LE(o + 4)) break;
    const n = payload.readUInt32LE(0);
    const differ = (payload.readUInt32LE(4) & TIMES_DIFFER) !== 0;
    if (len !== PAYLOAD_HEADER + 4 * n + (differ ? 4 * n : 0) + 8 * n) break;
    const base = payload.readDoubleLE(8);
    const p = new Float64Array(n * 3);
    let q = PAYLOAD_HEADER;
    for (let k = 0; k < n; k++, q += 4) p[k * 3] = payload.readUInt32LE(q);
    for (let k = 0; k < n; k++) p[k * 3 + 1] = differ ? base + payload.readInt32LE(q + 4 * k) : base;
    if (differ) q += 4 * n;
    const vals = new Float64Array(n);
    new Uint8Array(vals.buffer).set(payload.subarray(q, q + 8 * n));
    for (let k = 0; k < n; k++) p[k * 3 + 2] = vals[k]!;
    batches.push(p);
    o += RECORD_HEADER + len;
  }
  return { batches, validBytes: o };
}

/** The tick log of the store at `dbPath`. */
export function tickLogPath(dbPath: string): string {
  return `${dbPath}.larder-ticks`;
}

/** The log file, open for appending; one per store, owned by its SQLite worker. */
export class TickLog {
  private fd: number;
  private size: number;

  /**
   * Opens (creating with `mode`) the log at `path` and reads what it holds. A damaged or
   * cut tail is cut off, so that the next append follows the last whole record.
   */
  constructor(readonly path: string, mode: number) {
    this.fd = openSync(path, 'a+', mode);
    const bytes = fstatSync(this.fd).size;
    const buf = Buffer.alloc(bytes);
    let got = 0;
    while (got < bytes) {
      const r = readSync(this.fd, buf, got, bytes - got, got);
      if (r === 0) break;
      got += r;
    }
    const { batches, validBytes } = decodeRecords(buf.subarray(0, got));
    this.found = batches;
    this.size = validBytes;
    if (validBytes < bytes) ftruncateSync(this.fd, validBytes);
    // The file's directory entry, once: a record synced into a file whose name is not is lost too.
    syncDir(path);
  }

  /** The batches the log held when it was opened (a previous run's, not yet committed). */
  readonly found: Float64Array[];

  /** Bytes held. */
  get bytes(): number {
    return this.size;
  }

  /**
   * Appends one batch and waits for it to reach the disk (fdatasync), as a SQLite commit
   * does. A failed append (a full disk) is cut off again, so the log stays whole.
   */
  append(p: Float64Array): void {
    const rec = encodeRecord(p);
    try {
      let done = 0;
      while (done < rec.length) done += writeSync(this.fd, rec, done, rec.length - done);
      fdatasyncSync(this.fd);
    } catch (e) {
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        /* the next open cuts a damaged tail off */
      }
      throw e;
    }
    this.size += rec.length;
  }

  /** Empties the log (its batches are committed to the store). */
  clear(): void {
    if (this.size === 0) return;
    ftruncateSync(this.fd, 0);
    this.size = 0;
  }

  /** Closes the file, removing it when it is empty. */
  close(): void {
    closeSync(this.fd);
    this.fd = -1;
    if (this.size === 0) {
      try {
        unlinkSync(this.path);
      } catch {
        /* already gone */
      }
    }
  }
}

function syncDir(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

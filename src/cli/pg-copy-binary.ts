/**
 * PostgreSQL's binary COPY format, for the column types of the chunked tables
 * (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"). `larder
 * migrate` writes chunks as these tuples and checksums the very same bytes; reading a
 * chunk back with COPY … TO STDOUT (FORMAT binary) gives bytes that must hash the same.
 */

/** Column types of chunked tables: series_id and integer counts, values, the time. */
export type CopyType = 'int4' | 'float8' | 'timestamptz';

const SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);

/** The file header: signature, flags 0, no header extension. */
export const COPY_HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);

/** The file trailer: a tuple field count of -1. */
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix ms. */
const PG_EPOCH_MS = 946_684_800_000;

/**
 * Rows as binary tuples. Values are in PostgreSQL's meaning: null or undefined is NULL,
 * timestamptz is integer epoch ms (sent as microseconds since 2000).
 */
export function encodeTuples(types: readonly CopyType[], rows: readonly (readonly unknown[])[]): Buffer {
  const maxRow = 2 + types.reduce((a, t) => a + 4 + (t === 'int4' ? 4 : 8), 0);
  const buf = Buffer.allocUnsafe(maxRow * rows.length);
  let o = 0;
  for (const r of rows) {
    o = buf.writeInt16BE(types.length, o);
    for (let i = 0; i < types.length; i++) {
      const v = r[i];
      if (v === null || v === undefined) {
        o = buf.writeInt32BE(-1, o);
        continue;
      }
      const n = Number(v);
      switch (types[i]) {
        case 'int4':
          if (!Number.isInteger(n)) throw new RangeError(`not an integer: ${String(v)} (column ${i + 1})`);
          o = buf.writeInt32BE(4, o);
          o = buf.writeInt32BE(n, o);
          break;
        case 'float8':
          o = buf.writeInt32BE(8, o);
          o = buf.writeDoubleBE(n, o);
          break;
        default:
          o = buf.writeInt32BE(8, o);
          o = buf.writeBigInt64BE(BigInt(n - PG_EPOCH_MS) * 1000n, o);
      }
    }
  }
  return buf.subarray(0, o);
}

/**
 * Reads a binary COPY stream in pieces of any size: checks the header, counts whole
 * tuples and hands their bytes (no header, no trailer) to `onTuples` in order.
 */
export class CopyTupleReader {
  /** Tuples read so far. */
  rows = 0;
  /** Whether the trailer was seen. */
  ended = false;
  private carry: Buffer = Buffer.alloc(0);
  private inHeader = true;

  constructor(private readonly onTuples: (bytes: Buffer) => void) {}

  /** Takes the next piece of the stream. */
  push(piece: Buffer): void {
    if (this.ended) return;
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, piece]) : piece;
    let o = 0;
    if (this.inHeader) {
      if (buf.length < 19) {
        this.carry = buf;
        return;
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream (bad signature)');
      o = 19 + buf.readUInt32BE(15);
      if (buf.length < o) {
        this.carry = buf;
        return;
      }
      this.inHeader = false;
    }
    const start = o;
    tuples: while (o + 2 <= buf.length) {
      const fields = buf.readInt16BE(o);
      if (fields === -1) {
        this.ended = true;
        break;
      }
      let p = o + 2;
      for (let i = 0; i < fields; i++) {
        if (p + 4 > buf.length) break tuples;
        p += 4 + Math.max(0, buf.readInt32BE(p));
        if (p > buf.length) break tuples;
      }
      o = p;
      this.rows++;
    }
    if (o > start) this.onTuples(buf.subarray(start, o));
    // Copy the remainder (less than a tuple) so the piece it came from can be freed.
    this.carry = this.ended ? Buffer.alloc(0) : Buffer.from(buf.subarray(o));
  }
}

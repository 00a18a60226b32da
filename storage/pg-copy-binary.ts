/**
 * PostgreSQL's binary COPY format, for the column types of the chunked tables
 * (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"). `larder
 * migrate` writes chunks as these tuples and checksums the very same bytes; reading a
 * chunk back with COPY … TO STDOUT (FORMAT binary) gives bytes that must hash the same.
 * The rollups read each series' rows as arrays (CopyArraysReader) and write rows of
 * numbers (encodeNumberTuples).
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

/**
 * Decodes a binary COPY stream of rows `(int4 id, array, array, …)`, one array per
 * element type (one-dimensional, as array_agg makes them), in pieces of any size:
 * `onRow` gets the id and one Float64Array per array (int4 and float8 as is,
 * timestamptz as epoch ms, NULL as NaN). A row cut by a piece's end waits for the next.
 */
export class CopyArraysReader {
  /** Rows read so far. */
  rows = 0;
  /** Whether the trailer was seen. */
  ended = false;
  private readonly kinds: Uint8Array;
  private carry: Buffer | undefined;
  private inHeader = true;

  constructor(
    elementTypes: readonly CopyType[],
    private readonly onRow: (id: number, columns: Float64Array[]) => void,
  ) {
    this.kinds = Uint8Array.from(elementTypes, (t) => (t === 'int4' ? 0 : t === 'float8' ? 1 : 2));
  }

  /** Takes the next piece of the stream. */
  push(piece: Buffer): void {
    if (this.ended) return;
    let buf = piece;
    if (this.carry !== undefined) {
      buf = Buffer.concat([this.carry, piece]);
      this.carry = undefined;
    }
    let o = 0;
    if (this.inHeader) {
      if (buf.length < 19 || buf.length < 19 + buf.readUInt32BE(15)) {
        this.carry = Buffer.from(buf);
        return;
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream (bad signature)');
      o = 19 + buf.readUInt32BE(15);
      this.inHeader = false;
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const end = buf.length;
    const width = 1 + this.kinds.length;
    for (;;) {
      if (o + 2 > end) break;
      const fields = view.getInt16(o);
      if (fields === -1) {
        this.ended = true;
        return;
      }
      if (fields !== width) throw new Error(`binary COPY: ${fields} fields in a tuple, expected ${width}`);
      // The whole tuple first: its fields' lengths say where it ends.
      let p = o + 2;
      for (let i = 0; i < width && p <= end; i++) p = p + 4 > end ? end + 1 : p + 4 + Math.max(0, view.getInt32(p));
      if (p > end) break;
      this.decode(view, o + 2);
      o = p;
      this.rows++;
    }
    if (o < end) this.carry = Buffer.from(buf.subarray(o));
  }

  private decode(view: DataView, at: number): void {
    if (view.getInt32(at) !== 4) throw new Error('binary COPY: the id must be a non-NULL int4');
    const id = view.getInt32(at + 4);
    let p = at + 8;
    const columns: Float64Array[] = [];
    for (const k of this.kinds) {
      const len = view.getInt32(p);
      p += 4;
      if (len < 0) throw new Error('binary COPY: a NULL array');
      const next = p + len;
      const ndim = view.getInt32(p);
      if (ndim === 0) {
        columns.push(new Float64Array(0));
        p = next;
        continue;
      }
      if (ndim !== 1) throw new Error(`binary COPY: an array of ${ndim} dimensions`);
      const n = view.getInt32(p + 12);
      p += 20; // ndim, has-nulls flag, element type, then size and lower bound of the dimension
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const elen = view.getInt32(p);
        p += 4;
        if (elen < 0) {
          col[i] = Number.NaN;
          continue;
        }
        if (k === 0) col[i] = view.getInt32(p);
        else if (k === 1) col[i] = view.getFloat64(p);
        // Microseconds since 2000 as two halves: exact below 2^53, without a BigInt per value.
        else col[i] = (view.getInt32(p) * 4_294_967_296 + view.getUint32(p + 4)) / 1000 + PG_EPOCH_MS;
        p += elen;
      }
      if (p !== next) throw new Error('binary COPY: an array longer than its elements');
      columns.push(col);
    }
    this.onRow(id, columns);
  }
}

/**
 * Rows of numbers (`width` = types.length values each, packed in `values`) as binary
 * tuples; NaN is written as NULL (the rollups' NULL), timestamptz is integer epoch ms.
 */
export function encodeNumberTuples(types: readonly CopyType[], values: Float64Array): Buffer {
  const width = types.length;
  const rows = values.length / width;
  const kinds = Uint8Array.from(types, (t) => (t === 'int4' ? 0 : t === 'float8' ? 1 : 2));
  const buf = Buffer.allocUnsafe(rows * (2 + types.reduce((a, t) => a + 4 + (t === 'int4' ? 4 : 8), 0)));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  let o = 0;
  for (let r = 0, at = 0; r < rows; r++) {
    view.setInt16(o, width);
    o += 2;
    for (let i = 0; i < width; i++, at++) {
      const v = values[at]!;
      if (Number.isNaN(v)) {
        view.setInt32(o, -1);
        o += 4;
        continue;
      }
      const k = kinds[i];
      if (k === 0) {
        view.setInt32(o, 4);
        view.setInt32(o + 4, v);
        o += 8;
      } else if (k === 1) {
        view.setInt32(o, 8);
        view.setFloat64(o + 4, v);
        o += 12;
      } else {
        const us = (v - PG_EPOCH_MS) * 1000;
        if (!Number.isSafeInteger(us)) throw new RangeError(`not a time in whole ms: ${v}`);
        const hi = Math.floor(us / 4_294_967_296);
        view.setInt32(o, 8);
        view.setInt32(o + 4, hi);
        view.setUint32(o + 8, us - hi * 4_294_967_296);
        o += 12;
      }
    }
  }
  return buf.subarray(0, o);
}

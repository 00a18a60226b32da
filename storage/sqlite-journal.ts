/**
 * Rolling back a hot rollback journal, as SQLite's pager does, for the case its own
 * check cannot see. node-sqlite3-wasm's VFS (like SQLite's unix-dotfile VFS) answers
 * "is the database reserved?" with "does `<db>.lock` exist?", and the connection asking
 * has just created that lock itself, so SQLite never finds a journal hot and reads
 * the half-written file a killed writer left (a reader saw a half-applied transaction,
 * and the next write deleted the journal, making the damage permanent).
 *
 * The caller holds the dotfile lock (so no live writer can own the journal) and calls
 * `rollbackJournal` before any connection opens the file. The journal format is
 * SQLite's (https://www.sqlite.org/fileformat2.html, "The Rollback Journal"): segments,
 * each a header padded to the sector size (magic, record count, checksum nonce, initial
 * page count, sector size, page size) followed by records (page number, the page's
 * original content, a checksum). Playback stops where SQLite's does: a bad magic, a
 * zero or out-of-range page number, a checksum mismatch or a short record.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);
/** The record count a no-sync writer leaves: "as many records as the file holds". */
const NREC_TO_EOF = 0xffffffff;

/** What a rollback did. */
export interface JournalRollback {
  /** Pages written back into the database file. */
  readonly pages: number;
  /** Size of the database file after the rollback, bytes. */
  readonly sizeBytes: number;
  /** Segments read (a large transaction spills the cache and starts a new one each time). */
  readonly segments: number;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** SQLite's page checksum: the nonce plus every 200th byte from the end (pager_cksum). */
function pageChecksum(nonce: number, page: Buffer): number {
  let sum = nonce;
  for (let i = page.length - 200; i > 0; i -= 200) sum = (sum + page[i]!) >>> 0;
  return sum;
}

function readAt(fd: number, length: number, position: number): Buffer | undefined {
  const b = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, b, done, length - done, position + done);
    if (n === 0) return undefined;
    done += n;
  }
  return b;
}

/** Forces a directory entry change (the journal's deletion) to disk. */
function fsyncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    /* some file systems cannot fsync a directory; the unlink itself happened */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Rolls `<dbPath>-journal` back into `dbPath` and deletes it, or does nothing when
 * there is no journal. The caller must hold the database's lock with no connection
 * open. Throws (and leaves the journal in place) when a read or write fails: a journal
 * is never deleted before its pages are back in the database file and synced.
 */
export function rollbackJournal(dbPath: string): JournalRollback | undefined {
  const journalPath = `${dbPath}-journal`;
  if (!existsSync(journalPath)) return undefined;
  const jfd = openSync(journalPath, 'r');
  let result: JournalRollback;
  try {
    const dbfd = openSync(dbPath, 'r+');
    try {
      result = playback(jfd, dbfd);
      fsyncSync(dbfd);
    } finally {
      closeSync(dbfd);
    }
  } finally {
    closeSync(jfd);
  }
  unlinkSync(journalPath);
  fsyncDir(journalPath);
  return result;
}

/** Plays the journal's segments back into the database file (pager_playback). */
function playback(jfd: number, dbfd: number): JournalRollback {
  const journalSize = fstatSync(jfd).size;
  let sectorSize = 0;
  let pageSize = 0;
  let offset = 0;
  let pages = 0;
  let segments = 0;
  let dbPages = 0;
  const done = new Set<number>();
  for (;;) {
    // Each header starts on a sector boundary.
    if (sectorSize > 0) offset = Math.ceil(offset / sectorSize) * sectorSize;
    const header = readAt(jfd, 28, offset);
    if (header === undefined || !header.subarray(0, 8).equals(MAGIC)) break;
    let nRec = header.readUInt32BE(8);
    const nonce = header.readUInt32BE(12);
    const initialPages = header.readUInt32BE(16);
    if (segments === 0) {
      sectorSize = header.readUInt32BE(20);
      pageSize = header.readUInt32BE(24);
      // Out of range: the writer died before the header reached the disk; nothing was written after it.
      if (pageSize < 512 || pageSize > 65536 || !isPowerOfTwo(pageSize) || sectorSize < 32 || sectorSize > 65536 || !isPowerOfTwo(sectorSize)) break;
      if (offset + sectorSize > journalSize) break;
    } else if (offset + sectorSize > journalSize) break;
    offset += sectorSize;
    const recordSize = pageSize + 8;
    if (nRec === NREC_TO_EOF) nRec = Math.floor((journalSize - offset) / recordSize);
    if (segments === 0) {
      // The file returns to its size before the transaction; pages past it are skipped.
      ftruncateSync(dbfd, initialPages * pageSize);
      dbPages = initialPages;
    }
    segments++;
    for (let r = 0; r < nRec; r++) {
      const rec = readAt(jfd, recordSize, offset);
      if (rec === undefined) return { pages, sizeBytes: dbPages * pageSize, segments }; // torn tail: never reached the database
      offset += recordSize;
      const pgno = rec.readUInt32BE(0);
      const page = rec.subarray(4, 4 + pageSize);
      if (pgno === 0 || pgno === Math.floor(0x40000000 / pageSize) + 1) return { pages, sizeBytes: dbPages * pageSize, segments };
      if (pgno > dbPages || done.has(pgno)) continue;
      if (pageChecksum(nonce, page) !== rec.readUInt32BE(4 + pageSize)) return { pages, sizeBytes: dbPages * pageSize, segments };
      writeSync(dbfd, page, 0, pageSize, (pgno - 1) * pageSize);
      done.add(pgno);
      pages++;
    }
  }
  return { pages, sizeBytes: dbPages * pageSize, segments };
}

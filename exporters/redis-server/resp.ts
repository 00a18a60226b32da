/**
 * Just enough of the Redis protocol (RESP2) to send a few commands on one connection
 * and read their replies, with a bounded reply size and a deadline: the `redis`
 * collector needs INFO and DBSIZE, not a client library (ioredis and redis are only
 * dev dependencies here).
 */
import { connect, type Socket } from 'node:net';

/** A reply: a string, an integer, an error, null, or an array of replies. */
export type RespValue = string | number | RespError | null | RespValue[];

/** An error reply (`-ERR …`, `-WRONGPASS …`, `-NOAUTH …`). */
export class RespError extends Error {
  override readonly name = 'RespError';
  /** The first word: ERR, WRONGPASS, NOAUTH, … */
  readonly kind: string;
  constructor(message: string) {
    super(message);
    this.kind = /^[A-Z]+/.exec(message)?.[0] ?? 'ERR';
  }
}

/** Largest total reply accepted (INFO is a few KB). */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024;

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(a, 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply at `pos` of `buf`; returns it and the position after it, or
 * undefined when the buffer does not hold the whole reply yet. Throws on malformed input.
 */
export function parseReply(buf: Buffer, pos = 0): { value: RespValue; next: number } | undefined {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('utf8', pos + 1, eol);
  switch (type) {
    case '+':
      return { value: line, next: eol + 2 };
    case '-':
      return { value: new RespError(line), next: eol + 2 };
    case ':': {
      const n = Number(line);
      if (!Number.isFinite(n)) throw new Error(`malformed integer reply ${JSON.stringify(line.slice(0, 40))}`);
      return { value: n, next: eol + 2 };
    }
    case '$': {
      const len = Number(line);
      if (!Number.isInteger(len) || len < -1 || len > MAX_REPLY_BYTES) throw new Error(`malformed bulk length ${JSON.stringify(line.slice(0, 40))}`);
      if (len === -1) return { value: null, next: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), next: eol + 2 + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (!Number.isInteger(count) || count < -1 || count > 1_000_000) throw new Error(`malformed array length ${JSON.stringify(line.slice(0, 40))}`);
      if (count === -1) return { value: null, next: eol + 2 };
      const items: RespValue[] = [];
      let at = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`not a Redis reply (starts with ${JSON.stringify(type)})`);
  }
}

/** Where and how long. */
export interface RespOptions {
  readonly host: string;
  readonly port: number;
  /** Whole exchange deadline, ms (connect included). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Connects, pipelines `commands`, reads exactly one reply per command and closes.
 * Error replies are returned, not thrown; a connection failure, timeout, oversized or
 * malformed reply rejects.
 */
export function exchange(opts: RespOptions, commands: readonly (readonly string[])[]): Promise<RespValue[]> {
  return new Promise((resolve, reject) => {
    let socket: Socket | undefined;
    let chunks: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, replies?: RespValue[]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      if (err) reject(err);
      else resolve(replies!);
    };
    const timer = setTimeout(() => finish(new Error(`no answer from ${opts.host}:${opts.port} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = (): void => finish(new Error('aborted'));
    opts.signal?.addEventListener('abort', onAbort);
    socket = connect({ host: opts.host, port: opts.port });
    socket.setNoDelay(true);
    socket.on('error', (e: NodeJS.ErrnoException) => finish(Object.assign(new Error(`${opts.host}:${opts.port}: ${e.code ?? e.message}`), { code: e.code })));
    socket.on('close', () => finish(new Error(`${opts.host}:${opts.port} closed the connection before answering`)));
    socket.on('connect', () => socket!.write(Buffer.concat(commands.map(encodeCommand))));
    socket.on('data', (data: Buffer) => {
      if (chunks.length + data.length > MAX_REPLY_BYTES) return finish(new Error(`reply from ${opts.host}:${opts.port} over ${MAX_REPLY_BYTES} bytes`));
      chunks = chunks.length ? Buffer.concat([chunks, data]) : data;
      try {
        const replies: RespValue[] = [];
        let pos = 0;
        while (replies.length < commands.length) {
          const r = parseReply(chunks, pos);
          if (!r) return; // wait for more
          replies.push(r.value);
          pos = r.next;
        }
        finish(undefined, replies);
      } catch (e) {
        finish(new Error(`${opts.host}:${opts.port}: ${(e as Error).message}`));
      }
    });
  });
}

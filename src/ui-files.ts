/**
 * Serves the built-in page (ui/, built into dist/ui/ by `npm run build`): `GET /` is its
 * index.html and `/ui/<file>` its assets, read once at start-up into memory (about 100 KB)
 * with a gzip copy of each. Assets carry a content hash in their name and are cached for
 * good; index.html is revalidated by ETag, so a new build shows at the next load. Nothing
 * is fetched from elsewhere: the Content-Security-Policy allows this origin only.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';
import { acceptsGzip } from './exposition/negotiate.js';

/** One file ready to send. */
interface UiFile {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly type: string;
  readonly etag: string;
  readonly cacheControl: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** The page reads only this origin; styles allow inline because uPlot sizes its elements with style attributes. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Asset names esbuild gives (ui/build.mjs: `[name]-[hash]`): their content never changes. */
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;
/** Largest file loaded; the whole page is far below it. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Where the build writes the page: dist/ui beside dist/src, also when running from the TypeScript sources. */
export function defaultUiDir(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(self.endsWith('.ts') ? '../dist/ui/' : '../ui/', import.meta.url));
}

/** The page that stands in when the UI has not been built (a tsc-only build). */
const FALLBACK =
  '<!doctype html><html><head><title>Larder</title></head><body><h1>Larder</h1>' +
  '<p>Prometheus exporter and time-series store. The built-in page is not built here (run <code>npm run build</code>).</p>' +
  '<ul><li><a href="metrics">Metrics</a></li><li><a href="healthz">Health</a></li></ul></body></html>\n';

function load(name: string, body: Buffer): UiFile {
  const type = TYPES[extname(name)] ?? 'application/octet-stream';
  const text = type.startsWith('text/') || type.includes('json') || type.includes('svg');
  return {
    body,
    gzip: text && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    cacheControl: HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

/** The page's files, and the handlers for `GET /` and `GET /ui/:file`. */
export class UiFiles {
  private readonly files = new Map<string, UiFile>();
  private readonly index: UiFile;

  /** Reads the built files from `dir`; a missing dir gives the fallback page. */
  constructor(readonly dir: string = defaultUiDir()) {
    if (existsSync(dir)) {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const st = statSync(path);
        if (!st.isFile() || st.size > MAX_FILE_BYTES) continue;
        this.files.set(name, load(name, readFileSync(path)));
      }
    }
    this.index = this.files.get('index.html') ?? load('index.html', Buffer.from(FALLBACK));
    this.files.delete('index.html');
  }

  /** True when the built page was found (not the fallback). */
  get built(): boolean {
    return this.files.size > 0;
  }

  /** `GET /`: the page. */
  readonly page = (req: Request, res: Response): void => {
    res.set('Content-Security-Policy', CSP);
    this.send(req, res, this.index);
  };

  /** `GET /ui/:file`: an asset, or 404. */
  readonly asset = (req: Request, res: Response, next: () => void): void => {
    const file = this.files.get(String(req.params['file']));
    if (!file) return next();
    this.send(req, res, file);
  };

  private send(req: Request, res: Response, file: UiFile): void {
    res.set({ 'Content-Type': file.type, 'Cache-Control': file.cacheControl, ETag: file.etag, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', Vary: 'Accept-Encoding' });
    if (req.headers['if-none-match'] === file.etag) {
      res.status(304).end();
      return;
    }
    if (file.gzip && acceptsGzip(req.headers['accept-encoding'])) {
      res.set('Content-Encoding', 'gzip').send(file.gzip);
    } else {
      res.send(file.body);
    }
  }
}

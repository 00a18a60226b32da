/**
 * A real HTTP server on a loopback port that answers the Grafana API endpoints
 * `make grafana-import` uses, as Grafana documents them (../shared/GRAFANA.md): auth by
 * bearer token or basic auth, folders, data sources by uid (409 on a taken name or uid,
 * 403 on a provisioned one), dashboards with versions. It records every request.
 */
import { createServer, type Server } from 'node:http';

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

interface StoredDashboard {
  dashboard: Record<string, unknown>;
  folderUid: string;
  versions: { version: number; message: string; createdBy: string }[];
}

/** The fake's state, open for tests to arrange and inspect. */
export class FakeGrafana {
  version = '11.3.0';
  readonly token = 'glsa_test_token';
  readonly user = 'admin';
  readonly password = 'secret-pw';
  readonly plugins = new Set(['prometheus', 'grafana-postgresql-datasource', 'frser-sqlite-datasource']);
  readonly datasources = new Map<string, Record<string, unknown>>();
  readonly folders = new Map<string, string>();
  readonly dashboards = new Map<string, StoredDashboard>();
  readonly requests: Recorded[] = [];
  private server: Server | undefined;
  private nextId = 1;
  url = '';

  /** Starts listening on 127.0.0.1 on a free port. */
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body: unknown = text === '' ? undefined : JSON.parse(text);
        const path = req.url ?? '/';
        this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
        const [status, answer] = this.answer(req.method ?? '', path, req.headers.authorization, body);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Requests that change something. */
  writes(): Recorded[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  private authorized(header: string | undefined): boolean {
    if (header === `Bearer ${this.token}`) return true;
    return header === `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
  }

  private answer(method: string, url: string, auth: string | undefined, body: unknown): [number, unknown] {
    const path = url.replace(/\?.*$/, '');
    if (method === 'GET' && path === '/api/health') return [200, { commit: 'abc', database: 'ok', version: this.version }];
    if (!this.authorized(auth)) return [401, { message: 'Unauthorized' }];
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/folders\/([^/]+)$/.exec(path)) && method === 'GET') {
      const title = this.folders.get(m[1]!);
      return title === undefined ? [404, { message: 'folder not found' }] : [200, { uid: m[1], title, id: 7 }];
    }
    if (path === '/api/folders' && method === 'POST') {
      const f = body as { uid: string; title: string };
      if (this.folders.has(f.uid)) return [409, { message: 'a folder with the same uid already exists' }];
      this.folders.set(f.uid, f.title);
      return [200, { uid: f.uid, title: f.title, id: 7 }];
    }
    if ((m = /^\/api\/plugins\/([^/]+)\/settings$/.exec(path)) && method === 'GET') {
      return this.plugins.has(m[1]!) ? [200, { id: m[1], enabled: true }] : [404, { message: 'Plugin not found' }];
    }
    if ((m = /^\/api\/datasources\/uid\/([^/]+)$/.exec(path))) {
      const ds = this.datasources.get(m[1]!);
      if (method === 'GET') {
        if (!ds) return [404, { message: 'Data source not found' }];
        const { secureJsonData, ...visible } = ds;
        return [200, { ...visible, secureJsonFields: Object.fromEntries(Object.keys((secureJsonData as object | undefined) ?? {}).map((k) => [k, true])) }];
      }
      if (method === 'PUT') {
        if (!ds) return [404, { message: 'Data source not found' }];
        if (ds['readOnly'] === true) return [403, { message: 'Cannot update read-only data source' }];
        this.datasources.set(m[1]!, { ...ds, ...(body as object), id: ds['id'] });
        return [200, { message: 'Datasource updated' }];
      }
    }
    if (path === '/api/datasources' && method === 'POST') {
      const ds = body as Record<string, unknown>;
      if (typeof ds['name'] !== 'string' || typeof ds['type'] !== 'string') return [400, { message: 'name and type are required' }];
      if (this.datasources.has(ds['uid'] as string) || [...this.datasources.values()].some((d) => d['name'] === ds['name'])) return [409, { message: 'data source with the same name or uid already exists' }];
      const id = this.nextId++;
      this.datasources.set(ds['uid'] as string, { ...ds, id, readOnly: false });
      return [200, { id, message: 'Datasource added', name: ds['name'] }];
    }
    if ((m = /^\/api\/dashboards\/uid\/([^/]+)\/versions$/.exec(path)) && method === 'GET') {
      const d = this.dashboards.get(m[1]!);
      return d ? [200, [...d.versions].reverse()] : [404, { message: 'Dashboard not found' }];
    }
    if ((m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path)) && method === 'GET') {
      const d = this.dashboards.get(m[1]!);
      return d ? [200, { dashboard: d.dashboard, meta: { folderUid: d.folderUid, version: d.dashboard['version'] } }] : [404, { message: 'Dashboard not found' }];
    }
    if (path === '/api/dashboards/db' && method === 'POST') {
      const b = body as { dashboard?: Record<string, unknown>; folderUid?: string; overwrite?: boolean; message?: string };
      const d = b.dashboard;
      if (!d || typeof d['title'] !== 'string' || d['title'].trim() === '') return [400, { message: 'Dashboard title cannot be empty' }];
      if (typeof d['uid'] !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(d['uid'])) return [400, { message: 'uid contains illegal characters' }];
      if (b.folderUid && !this.folders.has(b.folderUid)) return [400, { message: 'folder not found' }];
      const old = this.dashboards.get(d['uid']);
      if (old && b.overwrite !== true) return [412, { status: 'version-mismatch', message: 'The dashboard has been changed by someone else' }];
      const version = ((old?.dashboard['version'] as number | undefined) ?? 0) + 1;
      const id = (old?.dashboard['id'] as number | undefined) ?? this.nextId++;
      const stored = { ...d, id, version };
      this.dashboards.set(d['uid'], { dashboard: stored, folderUid: b.folderUid ?? '', versions: [...(old?.versions ?? []), { version, message: b.message ?? '', createdBy: 'admin' }] });
      return [200, { id, uid: d['uid'], url: `/d/${d['uid']}`, status: 'success', version }];
    }
    return [404, { message: `no route ${method} ${path}` }];
  }

  /** Simulates a user editing a dashboard in Grafana's UI. */
  editInUi(uid: string): void {
    const d = this.dashboards.get(uid)!;
    const version = (d.dashboard['version'] as number) + 1;
    d.dashboard = { ...d.dashboard, title: `${String(d.dashboard['title'])} (mine)`, version };
    d.versions.push({ version, message: '', createdBy: 'alice' });
  }
}

/**
 * The built page (dist/ui, by `npm run build`): within its size budget, complete, and
 * naming nothing outside the server it comes from.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defaultUiDir } from '../../src/ui-files.js';

/** The budget for the page's JavaScript, uPlot included, gzipped. */
const JS_BUDGET_GZIP = 100 * 1024;

const dir = defaultUiDir();

t.test('the page is built', async (t) => {
  t.ok(existsSync(join(dir, 'index.html')), `${dir}/index.html exists (run "make build"; make test builds first)`);
});

t.test('its JavaScript is under 100 KB gzipped', async (t) => {
  const js = readdirSync(dir).filter((f) => f.endsWith('.js'));
  t.equal(js.length, 1, 'one bundle');
  const gz = js.reduce((n, f) => n + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
  t.comment(`JavaScript: ${gz} bytes gzipped`);
  t.ok(gz < JS_BUDGET_GZIP, `${gz} bytes gzipped < ${JS_BUDGET_GZIP}`);
  // uPlot is in the bundle, not fetched: its class name survives minification in its CSS hooks
  t.match(readFileSync(join(dir, js[0] as string), 'utf8'), /u-legend/, 'uPlot is bundled');
});

t.test('index.html names only its own files, and they exist', async (t) => {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
  t.ok(refs.length >= 4, 'script, stylesheet and links found');
  for (const ref of refs) {
    t.notMatch(ref, /^(?:[a-z]+:)?\/\//i, `${ref} is not on another host`);
    if (ref.startsWith('ui/')) t.ok(existsSync(join(dir, ref.slice(3))), `${ref} was built`);
  }
  t.ok(refs.some((r) => /^ui\/app-[A-Z0-9]{8}\.js$/.test(r)), 'the script, named by its hash');
  t.ok(refs.some((r) => /^ui\/style-[A-Z0-9]{8}\.css$/.test(r)), 'the stylesheet, named by its hash');
  t.ok(refs.includes('metrics') && refs.includes('healthz'), 'links to /metrics and /healthz');
});

t.test('no built file names a URL on another host', async (t) => {
  for (const f of readdirSync(dir).filter((f) => /\.(js|css|html)$/.test(f))) {
    const text = readFileSync(join(dir, f), 'utf8');
    t.same(text.match(/\bhttps?:\/\/[^\s"'`)]+/g) ?? [], [], `${f} holds no absolute URL`);
  }
});

// Builds the page into dist/ui/: one JS bundle and one CSS file, named by a hash of
// their content (so the server can let browsers cache them for good), and index.html
// that names them. Run by `npm run build` (build:ui). esbuild bundles and minifies;
// the type check is `tsc -p ui/tsconfig.json`, run before this in build:ui.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: join(here, 'src', 'main.ts'), style: join(here, 'style.css') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  entryNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`build: expected a .js and a .css output, got ${outputs.join(', ')}`);
const html = readFileSync(join(here, 'index.html'), 'utf8').replace('%JS%', `ui/${js}`).replace('%CSS%', `ui/${css}`);
writeFileSync(join(out, 'index.html'), html);
// uPlot is MIT: its notice goes with the bundle that contains it
writeFileSync(join(out, 'LICENSES.txt'), `uPlot (bundled in ${js}):\n\n${readFileSync(join(here, '..', 'node_modules', 'uplot', 'LICENSE'), 'utf8')}`);

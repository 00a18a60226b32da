/**
 * The larder command's V8 tier-up budget (src/v8-tiering.ts): importing the module makes
 * V8 optimize a function after about ten times the work it would by default, a budget
 * given to node wins, and the command imports the module before anything else.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST_TIERING = fileURLToPath(new URL('../../dist/src/v8-tiering.js', import.meta.url));
const DIST_CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

// Calls of a small function until V8 marks it optimized (%GetOptimizationStatus bit 16),
// checked every 50 calls; compiled on the main thread so the count does not depend on
// how busy V8's helper threads are.
const probe = (withModule: boolean): string => `
${withModule ? `await import(${JSON.stringify(pathToFileURL(DIST_TIERING).href)});` : ''}
function f(a) { let s = 0; for (let i = 0; i < 10; i++) s += a * i; return s; }
let n = 0;
for (; n < 2e6; n++) { f(n); if (n % 50 === 0 && (%GetOptimizationStatus(f) & 16)) break; }
process.stdout.write(String(n));`;

function callsUntilOptimized(withModule: boolean, nodeArgs: string[] = []): number {
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', ...nodeArgs, '--input-type=module', '-e', probe(withModule)], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return Number(out);
}

t.test('the module raises the budget about tenfold', async (t) => {
  const plain = callsUntilOptimized(false);
  const raised = callsUntilOptimized(true);
  t.ok(plain > 0 && plain < 2e6, `optimized by default after ${plain} calls`);
  t.ok(raised >= plain * 5, `with the module after ${raised} calls (${(raised / plain).toFixed(1)}× the default)`);
  t.ok(raised < 2e6, 'still optimized: a hot function is not left on the interpreter');
});

t.test('a budget given to node wins', async (t) => {
  const given = callsUntilOptimized(true, ['--interrupt-budget=67584']);
  const plain = callsUntilOptimized(false, ['--interrupt-budget=67584']);
  t.equal(given, plain, `the command line's budget kept (${given} and ${plain} calls)`);
});

t.test('the command imports it before any other module', async (t) => {
  const first = /^import\s.*$/m.exec(readFileSync(DIST_CLI, 'utf8'))?.[0];
  t.equal(first, "import './v8-tiering.js'; // first: it sets how soon V8 optimizes the code imported below");
});

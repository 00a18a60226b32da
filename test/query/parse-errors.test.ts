/**
 * Parse errors word and place what is wrong as Prometheus does: each case's message is
 * what Larder's parser says, and, side by side, what Debian's real Prometheus answers on
 * /api/v1/query for the same text (after its `invalid parameter "query": `). The cases
 * are the lexer's errors (query/lex-errors.ts), the parser's unexpected tokens and a text
 * with no expression.
 */
import t from 'tap';
import { parseQuery } from '../../query/parse.js';
import { QueryError } from '../../query/types.js';
import { need } from '../helpers/peers.js';
import { startPrometheus } from '../helpers/prometheus.js';

const CASES: readonly (readonly [string, string])[] = [
  ['rate(foo[5m', '1:12: parse error: unclosed left parenthesis'],
  ['sum by (job', '1:12: parse error: unclosed left parenthesis'],
  ['label_replace(foo, "a"', '1:23: parse error: unclosed left parenthesis'],
  ['foo[5m', '1:7: parse error: unclosed left bracket'],
  ['foo[5m:1m', '1:10: parse error: unclosed left bracket'],
  ['foo{a="b"', '1:10: parse error: unexpected end of input inside braces'],
  ['{', '1:2: parse error: unexpected end of input inside braces'],
  ['foo)', "1:5: parse error: unexpected right parenthesis ')'"],
  ['rate(up[5m]))', "1:14: parse error: unexpected right parenthesis ')'"],
  ['foo]', "1:4: parse error: unexpected right bracket ']'"],
  ['foo[5m]]', "1:8: parse error: unexpected right bracket ']'"],
  ['foo[5m[1m]]', "1:7: parse error: unexpected left bracket '['"],
  ['foo{{', "1:5: parse error: unexpected left brace '{'"],
  ['foo}', "1:4: parse error: unexpected character: '}'"],
  ['foo ~ 1', "1:5: parse error: unexpected character: '~'"],
  ['foo $', "1:5: parse error: unexpected character: '$'"],
  ['foo{a~"b"}', "1:6: parse error: unexpected character inside braces: '~'"],
  ['foo ! 1', "1:5: parse error: unexpected character after '!': ' '"],
  ['"abc', '1:1: parse error: unterminated quoted string'],
  ['foo{a="b}', '1:7: parse error: unterminated quoted string'],
  ['foo{a="x\n"}', '1:7: parse error: unterminated quoted string'],
  ['`abc', '1:1: parse error: unterminated raw string'],
  ['sum(foo) # a comment (', 'no error'],
  ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
  ['1 2', '1:3: parse error: unexpected number "2"'],
  ['1 +', '1:4: parse error: unexpected end of input'],
  ['', '1:1: parse error: no expression found in input'],
  ['   ', '1:1: parse error: no expression found in input'],
  ['# only a comment', '1:1: parse error: no expression found in input'],
];

/** What parseQuery says of `q`: its message, or `no error`. */
function larder(q: string): string {
  try {
    parseQuery(q);
    return 'no error';
  } catch (e) {
    if (!(e instanceof QueryError) || e.type !== 'bad_data') throw e;
    return e.message;
  }
}

t.test('Larder words and places each error as the table says', async (t) => {
  for (const [q, want] of CASES) t.equal(larder(q), want, JSON.stringify(q));
});

t.test('the table is what a real Prometheus answers', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  const prom = await startPrometheus([]);
  t.teardown(() => prom.stop());
  for (const [q, want] of CASES) {
    const res = await fetch(`${prom.url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: q, time: '1' }) });
    const body = (await res.json()) as { status: string; error?: string };
    const said = body.status === 'success' ? 'no error' : (body.error ?? '').replace(/^invalid parameter "query": /, '');
    t.equal(said, want, JSON.stringify(q));
  }
});

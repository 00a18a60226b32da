/**
 * The text-format parser held against Prometheus' own: for each exposition of a
 * table, Larder accepts it exactly when `promtool check metrics` (Debian's
 * prometheus package; it parses with Prometheus' text parser, then lints) can parse
 * it. promtool exits 1 on a parse error; 0 or 3 (lint remarks only) when it parsed.
 * Deliberate differences are left out of the table and listed below.
 * - CRLF line ends: Larder takes them (files edited on Windows), promtool does not.
 * - a histogram `_bucket` without `le`, a summary sample without `quantile`: promtool
 *   parses them, Larder refuses them, since its rollups need the bound.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { ExpositionParseError, parseExposition } from '../../exporters/text-parser.js';
import { need } from '../helpers/peers.js';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const CASES: [string, Buffer][] = [
  ['blanks before # and before a name, none after }', enc('  # HELP a A gauge.\n\t# TYPE a gauge\n   a{foo="bez"}6\n\t a{foo="baz"}\t7\n')],
  ['blanks around label tokens, a trailing comma, an empty set', enc('a{ x = "1" , } 1\nb{} 2\nc {y="2"} 3\n')],
  ['a series repeated', enc('a{x="1"} 1\na{x="1"} 2\n')],
  ['special values and signs', enc('a{v="1"} NaN\na{v="2"} +Inf\na{v="3"} -Inf\na{v="4"} .5\na{v="5"} 5.\na{v="6"} +1e3\na{v="7"} inf\n')],
  ['integer timestamps, negative too', enc('a{v="1"} 1 1700000000000\na{v="2"} 1 -5\n')],
  ['HELP without text, plain comments, TYPE in capitals', enc('# HELP a\n# a comment\n#\n# TYPE a GAUGE\na 1\n')],
  ['multi-byte UTF-8 in a label value', enc('a{city="Zürich ☃"} 1\n')],
  ['invalid UTF-8 in a plain comment', Buffer.concat([enc('# by '), Buffer.from([0xff]), enc('\na 1\n')])],
  ['invalid UTF-8 in a label value', Buffer.concat([enc('a{city="Z'), Buffer.from([0xfc]), enc('rich"} 1\n')])],
  ['a __name__ label', enc('a{__name__="b"} 1\n')],
  ['an unknown escape in a label value', enc('a{x="\\z"} 1\n')],
  ['a hex value', enc('a 0x10\n')],
  ['a value with _', enc('a 1_000\n')],
  ['a fractional timestamp', enc('a 1 1.5\n')],
  ['a value, a timestamp and more', enc('a 1 2 3\n')],
  ['no value', enc('a{x="1"}\n')],
  ['a missing comma', enc('a{x="1" y="2"} 1\n')],
  ['an unterminated label value', enc('a{x="1} 1\n')],
  ['a second TYPE', enc('# TYPE a gauge\n# TYPE a counter\n')],
  ['TYPE after the samples', enc('a 1\n# TYPE a gauge\n')],
  ['a second HELP', enc('# HELP a x\n# HELP a y\n')],
  ['an unknown type', enc('# TYPE a histo\n')],
  ['a bad metric name', enc('0a 1\n')],
];

t.test('Larder accepts a text exposition exactly when promtool parses it', async (t) => {
  if (!(await need(t, 'prometheus'))) return;
  for (const [name, body] of CASES) {
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    t.not(promtool.status, null, `${name}: promtool ran`);
    const promtoolParses = promtool.status !== 1;
    let larder: string | undefined;
    try {
      parseExposition(new Uint8Array(body), 'text');
    } catch (err) {
      if (!(err instanceof ExpositionParseError)) throw err;
      larder = err.message;
    }
    t.equal(larder === undefined, promtoolParses, `${name}: promtool ${promtoolParses ? 'parses' : 'refuses'} (${promtool.stderr.trim().slice(0, 120) || 'ok'}), Larder ${larder ?? 'parses'}`);
  }
});

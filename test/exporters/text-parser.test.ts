/** The exposition parser: tables of good and bad input in both formats, and round trips through Larder's serializers. */
import t from 'tap';
import type { MetricFamily } from '../../exporters/metric-family.js';
import { ExpositionParseError, parseExposition, parseFloatToken, type ParsedFamily } from '../../exporters/text-parser.js';
import { toOpenMetrics, toPrometheusText } from '../../src/exposition/format.js';

/** Families without the parser's extra fields, for comparing with what a serializer was given. */
const plain = (fs: readonly ParsedFamily[]): MetricFamily[] => fs.map(({ name, help, type, samples }) => ({ name, help, type, samples }));

t.test('text format: a table of valid expositions', async (t) => {
  const cases: { name: string; text: string; want: MetricFamily[] }[] = [
    { name: 'empty', text: '', want: [] },
    { name: 'only comments and blank lines', text: '# hello\n\n   \n# another\n', want: [] },
    {
      name: 'counter with HELP and TYPE',
      text: '# HELP a_total Things done.\n# TYPE a_total counter\na_total 3\n',
      want: [{ name: 'a_total', help: 'Things done.', type: 'counter', samples: [{ name: 'a_total', labels: {}, value: 3 }] }],
    },
    {
      name: 'labels with every escape, spaces around, trailing comma',
      text: 'm { a = "x\\\\y" , b="q\\"uote", c="new\\nline", } 1\n',
      want: [{ name: 'm', help: '', type: 'untyped', samples: [{ name: 'm', labels: { a: 'x\\y', b: 'q"uote', c: 'new\nline' }, value: 1 }] }],
    },
    {
      name: 'special values and a timestamp in ms',
      text: '# TYPE g gauge\ng{v="nan"} NaN\ng{v="pinf"} +Inf\ng{v="ninf"} -Inf 1700000000000\ng{v="exp"} 1.5e-3\ng{v="neg"} -2\n',
      want: [
        {
          name: 'g',
          help: '',
          type: 'gauge',
          samples: [
            { name: 'g', labels: { v: 'nan' }, value: NaN },
            { name: 'g', labels: { v: 'pinf' }, value: Infinity },
            { name: 'g', labels: { v: 'ninf' }, value: -Infinity, timestampMs: 1_700_000_000_000 },
            { name: 'g', labels: { v: 'exp' }, value: 0.0015 },
            { name: 'g', labels: { v: 'neg' }, value: -2 },
          ],
        },
      ],
    },
    {
      name: 'histogram grouped into one family',
      text: '# HELP h Latency.\n# TYPE h histogram\nh_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 3\nh_sum 0.7\nh_count 3\n',
      want: [
        {
          name: 'h',
          help: 'Latency.',
          type: 'histogram',
          samples: [
            { name: 'h_bucket', labels: { le: '0.1' }, value: 1 },
            { name: 'h_bucket', labels: { le: '+Inf' }, value: 3 },
            { name: 'h_sum', labels: {}, value: 0.7 },
            { name: 'h_count', labels: {}, value: 3 },
          ],
        },
      ],
    },
    {
      name: 'summary grouped into one family',
      text: '# TYPE s summary\ns{quantile="0.5"} 2\ns{quantile="0.99"} 9\ns_sum 20\ns_count 5\n',
      want: [
        {
          name: 's',
          help: '',
          type: 'summary',
          samples: [
            { name: 's', labels: { quantile: '0.5' }, value: 2 },
            { name: 's', labels: { quantile: '0.99' }, value: 9 },
            { name: 's_sum', labels: {}, value: 20 },
            { name: 's_count', labels: {}, value: 5 },
          ],
        },
      ],
    },
    {
      name: 'untyped samples without metadata, each its own family; _count of an untyped name is not grouped',
      text: 'x 1\nx_count 2\n',
      want: [
        { name: 'x', help: '', type: 'untyped', samples: [{ name: 'x', labels: {}, value: 1 }] },
        { name: 'x_count', help: '', type: 'untyped', samples: [{ name: 'x_count', labels: {}, value: 2 }] },
      ],
    },
    {
      name: 'HELP escapes: \\\\ and \\n are escapes, other backslashes stay',
      text: '# HELP e a\\\\b\\nc \\q\ne 1\n',
      want: [{ name: 'e', help: 'a\\b\nc \\q', type: 'untyped', samples: [{ name: 'e', labels: {}, value: 1 }] }],
    },
    {
      name: 'tabs as separators, CRLF line ends, TYPE in capitals',
      text: '# TYPE\tt\tGAUGE\r\nt\t{a="1"}\t4\r\n',
      want: [{ name: 't', help: '', type: 'gauge', samples: [{ name: 't', labels: { a: '1' }, value: 4 }] }],
    },
    {
      name: 'no final newline',
      text: 'n 1',
      want: [{ name: 'n', help: '', type: 'untyped', samples: [{ name: 'n', labels: {}, value: 1 }] }],
    },
    {
      name: 'colons in metric names, empty label value',
      text: 'job:rate:5m{a=""} 0.5\n',
      want: [{ name: 'job:rate:5m', help: '', type: 'untyped', samples: [{ name: 'job:rate:5m', labels: { a: '' }, value: 0.5 }] }],
    },
  ];
  for (const c of cases) t.same(plain(parseExposition(c.text, 'text')), c.want, c.name);
});

t.test('OpenMetrics: a table of valid expositions', async (t) => {
  const cases: { name: string; text: string; want: (MetricFamily & { declaredType: string; unit?: string })[] }[] = [
    { name: 'just EOF', text: '# EOF\n', want: [] },
    {
      name: 'counter: family without _total, samples _total and _created, seconds timestamps',
      text: '# TYPE c counter\n# HELP c Done \\"things\\".\nc_total{a="b"} 4 1700000000.5\nc_created{a="b"} 1690000000 1700000000.5\n# EOF\n',
      want: [
        {
          name: 'c_total',
          help: 'Done "things".',
          type: 'counter',
          declaredType: 'counter',
          samples: [
            { name: 'c_total', labels: { a: 'b' }, value: 4, timestampMs: 1_700_000_000_500 },
            { name: 'c_created', labels: { a: 'b' }, value: 1_690_000_000, timestampMs: 1_700_000_000_500 },
          ],
        },
      ],
    },
    {
      name: 'gauge with UNIT, histogram with exemplar and _created',
      text:
        '# TYPE d_seconds gauge\n# UNIT d_seconds seconds\nd_seconds 1.5\n' +
        '# TYPE h histogram\nh_bucket{le="1.0"} 0\nh_bucket{le="+Inf"} 2 # {trace_id="abc"} 1.2 1700000000\nh_count 2\nh_sum 3.4\nh_created 1\n# EOF\n',
      want: [
        { name: 'd_seconds', help: '', type: 'gauge', declaredType: 'gauge', unit: 'seconds', samples: [{ name: 'd_seconds', labels: {}, value: 1.5 }] },
        {
          name: 'h',
          help: '',
          type: 'histogram',
          declaredType: 'histogram',
          samples: [
            { name: 'h_bucket', labels: { le: '1.0' }, value: 0 },
            { name: 'h_bucket', labels: { le: '+Inf' }, value: 2 },
            { name: 'h_count', labels: {}, value: 2 },
            { name: 'h_sum', labels: {}, value: 3.4 },
            { name: 'h_created', labels: {}, value: 1 },
          ],
        },
      ],
    },
    {
      name: 'info, stateset, unknown, gaugehistogram',
      text:
        '# TYPE build info\nbuild_info{version="1.2"} 1\n' +
        '# TYPE st stateset\nst{st="a"} 1\nst{st="b"} 0\n' +
        '# TYPE u unknown\nu 7\n' +
        '# TYPE gh gaugehistogram\ngh_bucket{le="+Inf"} 3\ngh_gcount 3\ngh_gsum 9\n# EOF',
      want: [
        { name: 'build_info', help: '', type: 'gauge', declaredType: 'info', samples: [{ name: 'build_info', labels: { version: '1.2' }, value: 1 }] },
        {
          name: 'st',
          help: '',
          type: 'gauge',
          declaredType: 'stateset',
          samples: [
            { name: 'st', labels: { st: 'a' }, value: 1 },
            { name: 'st', labels: { st: 'b' }, value: 0 },
          ],
        },
        { name: 'u', help: '', type: 'untyped', declaredType: 'unknown', samples: [{ name: 'u', labels: {}, value: 7 }] },
        {
          name: 'gh',
          help: '',
          type: 'untyped',
          declaredType: 'gaugehistogram',
          samples: [
            { name: 'gh_bucket', labels: { le: '+Inf' }, value: 3 },
            { name: 'gh_gcount', labels: {}, value: 3 },
            { name: 'gh_gsum', labels: {}, value: 9 },
          ],
        },
      ],
    },
    {
      name: 'a sample without metadata is an unknown family',
      text: 'x 1\n# EOF\n',
      want: [{ name: 'x', help: '', type: 'untyped', declaredType: 'unknown', samples: [{ name: 'x', labels: {}, value: 1 }] }],
    },
  ];
  for (const c of cases) t.same(parseExposition(c.text, 'openmetrics'), c.want, c.name);
});

t.test('malformed input: the error names the line and the fault', async (t) => {
  const cases: { format: 'text' | 'openmetrics'; text: string; line: number; match: RegExp }[] = [
    { format: 'text', text: 'ok 1\n9bad 1\n', line: 2, match: /expected a metric name/ },
    { format: 'text', text: 'm{a="b} 1\n', line: 1, match: /unterminated value of label a/ },
    { format: 'text', text: 'm{a="\\t"} 1\n', line: 1, match: /invalid escape \\t/ },
    { format: 'text', text: 'm{a="1",a="2"} 1\n', line: 1, match: /duplicate label a/ },
    { format: 'text', text: 'm{a="1" b="2"} 1\n', line: 1, match: /expected , or \}/ },
    { format: 'text', text: 'm{1a="x"} 1\n', line: 1, match: /expected a label name/ },
    { format: 'text', text: 'm{a"x"} 1\n', line: 1, match: /expected = after label a/ },
    { format: 'text', text: 'm{a=x} 1\n', line: 1, match: /expected " to open/ },
    { format: 'text', text: '\nm one\n', line: 2, match: /invalid value "one"/ },
    { format: 'text', text: 'm\n', line: 1, match: /expected a space before the value/ },
    { format: 'text', text: 'm 1 1.5\n', line: 1, match: /invalid timestamp "1.5" \(integer milliseconds expected\)/ },
    { format: 'text', text: 'm 1 2 3\n', line: 1, match: /expected a value and an optional timestamp/ },
    { format: 'text', text: '# TYPE m gauge\n# TYPE m counter\n', line: 2, match: /second TYPE line for m/ },
    { format: 'text', text: '# HELP m a\n# HELP m b\n', line: 2, match: /second HELP line for m/ },
    { format: 'text', text: 'm 1\n# TYPE m gauge\n', line: 2, match: /TYPE line for m after its samples/ },
    { format: 'text', text: '# TYPE m histo\n', line: 1, match: /unknown metric type "histo" for m/ },
    { format: 'text', text: '# TYPE\n', line: 1, match: /TYPE line without a metric name/ },
    { format: 'text', text: '# TYPE h histogram\nh_bucket 1\n', line: 2, match: /needs a numeric le label/ },
    { format: 'text', text: '# TYPE h histogram\nh_bucket{le="x"} 1\n', line: 2, match: /needs a numeric le label/ },
    { format: 'text', text: '# TYPE h histogram\nh 1\n', line: 2, match: /does not belong to histogram family h/ },
    { format: 'text', text: '# TYPE s summary\ns 1\n', line: 2, match: /needs a numeric quantile label/ },
    { format: 'openmetrics', text: 'a 1\n', line: 2, match: /missing # EOF/ },
    { format: 'openmetrics', text: 'a 1\n# EOF\nb 1\n', line: 3, match: /content after # EOF/ },
    { format: 'openmetrics', text: 'a 1\n\n# EOF\n', line: 2, match: /blank line/ },
    { format: 'openmetrics', text: '# just a comment\n# EOF\n', line: 1, match: /unexpected comment/ },
    { format: 'openmetrics', text: 'a 1\nb 1\na{x="y"} 2\n# EOF\n', line: 3, match: /family a is interleaved/ },
    { format: 'openmetrics', text: 'a 1\n# HELP a late\n# EOF\n', line: 2, match: /HELP for a after its samples/ },
    { format: 'openmetrics', text: '# TYPE c counter\nc 1\n# EOF\n', line: 2, match: /does not belong to counter family c/ },
    { format: 'openmetrics', text: '# TYPE c untyped\n# EOF\n', line: 1, match: /unknown metric type "untyped"/ },
    { format: 'openmetrics', text: '# TYPE a_bytes gauge\n# UNIT a_bytes seconds\n# EOF\n', line: 2, match: /must end in _seconds/ },
    { format: 'openmetrics', text: 'a 1 17e\n# EOF\n', line: 1, match: /invalid timestamp "17e" \(seconds expected\)/ },
    { format: 'openmetrics', text: 'a  1\n# EOF\n', line: 1, match: /expected a value/ },
    { format: 'openmetrics', text: '# TYPE h histogram\nh_bucket{le="1"} 1 # trace 1\n# EOF\n', line: 2, match: /exemplar/ },
  ];
  for (const c of cases) {
    const err = (() => {
      try {
        parseExposition(c.text, c.format);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    if (!(err instanceof ExpositionParseError)) {
      t.fail(`${JSON.stringify(c.text)} (${c.format}) should fail, got ${String(err)}`);
      continue;
    }
    t.equal(err.line, c.line, `line of ${JSON.stringify(c.text)}`);
    t.match(err.message, c.match, `message of ${JSON.stringify(c.text)}`);
    t.match(err.message, new RegExp(`^line ${c.line}: `));
  }
});

t.test('parseFloatToken', async (t) => {
  const table: [string, number | undefined][] = [
    ['0', 0], ['-0.5', -0.5], ['1e3', 1000], ['.5', 0.5], ['5.', 5], ['+Inf', Infinity], ['Inf', Infinity], ['-inf', -Infinity],
    ['NaN', NaN], ['nan', NaN], ['', undefined], ['1,5', undefined], ['0x10', undefined], ['1e', undefined], ['--1', undefined],
  ];
  for (const [s, want] of table) t.same(parseFloatToken(s), want, JSON.stringify(s));
});

/** Families as Larder's own collect step produces them: no timestamps; counters end in _total. */
const ROUND_TRIP: MetricFamily[] = [
  { name: 'requests_total', help: 'Requests "served", with a \\ backslash\nand a second line.', type: 'counter', samples: [
    { name: 'requests_total', labels: { path: '/a "b"\\c\nd', code: '200' }, value: 12 },
    { name: 'requests_total', labels: { path: '/', code: '500' }, value: 0 },
  ] },
  { name: 'temperature', help: 'A gauge.', type: 'gauge', samples: [
    { name: 'temperature', labels: {}, value: -3.25 },
    { name: 'temperature', labels: { where: 'nan' }, value: NaN },
    { name: 'temperature', labels: { where: 'inf' }, value: Infinity },
    { name: 'temperature', labels: { where: '-inf' }, value: -Infinity },
    { name: 'temperature', labels: { where: 'big' }, value: 1.5e300 },
  ] },
  { name: 'latency_seconds', help: 'A histogram.', type: 'histogram', samples: [
    { name: 'latency_seconds_bucket', labels: { le: '0.1' }, value: 2 },
    { name: 'latency_seconds_bucket', labels: { le: '+Inf' }, value: 5 },
    { name: 'latency_seconds_sum', labels: {}, value: 1.25 },
    { name: 'latency_seconds_count', labels: {}, value: 5 },
  ] },
  { name: 'size_bytes', help: 'A summary.', type: 'summary', samples: [
    { name: 'size_bytes', labels: { quantile: '0.5' }, value: 100 },
    { name: 'size_bytes', labels: { quantile: '0.9' }, value: 900 },
    { name: 'size_bytes_sum', labels: {}, value: 5000 },
    { name: 'size_bytes_count', labels: {}, value: 10 },
  ] },
  { name: 'legacy', help: 'Untyped.', type: 'untyped', samples: [{ name: 'legacy', labels: { a: '' }, value: 1 }] },
];

t.test('round trip: toPrometheusText → parse gives the families back', async (t) => {
  t.same(plain(parseExposition(toPrometheusText(ROUND_TRIP), 'text')), ROUND_TRIP);
});

t.test('round trip: toOpenMetrics → parse gives the families back', async (t) => {
  t.same(plain(parseExposition(toOpenMetrics(ROUND_TRIP), 'openmetrics')), ROUND_TRIP);
});

t.test('round trip with timestamps in both formats', async (t) => {
  const fams: MetricFamily[] = [{ name: 'g', help: 'G.', type: 'gauge', samples: [{ name: 'g', labels: {}, value: 1, timestampMs: 1_700_000_000_123 }] }];
  t.same(plain(parseExposition(toPrometheusText(fams), 'text')), fams);
  t.same(plain(parseExposition(toOpenMetrics(fams), 'openmetrics')), fams);
});

t.test('a large exposition parses quickly', async (t) => {
  const lines: string[] = ['# HELP big A big family.', '# TYPE big gauge'];
  for (let i = 0; i < 20_000; i++) lines.push(`big{instance="host-${i}",job="node"} ${i}.5`);
  const started = performance.now();
  const [fam] = parseExposition(lines.join('\n') + '\n', 'text');
  const ms = performance.now() - started;
  t.equal(fam?.samples.length, 20_000);
  // a guard against quadratic behaviour, loose enough for a loaded 2-core machine (0.25-0.6 s measured at load average 13)
  t.ok(ms < 5000, `20000 samples in ${ms.toFixed(0)} ms`);
});

/** The error parseExposition throws for `input`, or undefined when it parses. */
function refusal(input: string | Uint8Array, format: 'text' | 'openmetrics'): ExpositionParseError | undefined {
  try {
    parseExposition(input, format);
    return undefined;
  } catch (err) {
    if (err instanceof ExpositionParseError) return err;
    throw err;
  }
}

t.test('text format: blanks before # and names, no blank needed after }', async (t) => {
  const text = '  # HELP a A gauge.\n\t# TYPE a gauge\n   a{foo="bez"}6\n\t a{foo="baz"}\t7 1700000000000\n  b 1\n';
  t.same(plain(parseExposition(text, 'text')), [
    {
      name: 'a',
      help: 'A gauge.',
      type: 'gauge',
      samples: [
        { name: 'a', labels: { foo: 'bez' }, value: 6 },
        { name: 'a', labels: { foo: 'baz' }, value: 7, timestampMs: 1_700_000_000_000 },
      ],
    },
    { name: 'b', help: '', type: 'untyped', samples: [{ name: 'b', labels: {}, value: 1 }] },
  ]);
  // still needs a blank between a bare name and its value
  t.match(refusal('a6\n', 'text')?.message, /expected a space before the value/);
});

t.test('a repeated series is kept for the caller to judge, in both formats', async (t) => {
  const [text] = parseExposition('a{x="1"} 1\na{x="1"} 2\n', 'text');
  t.same(text?.samples.map((s) => s.value), [1, 2]);
  const [om] = parseExposition('# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n# EOF\n', 'openmetrics');
  t.same(om?.samples.map((s) => s.value), [1, 2]);
});

t.test('__name__ is not a label, in either format', async (t) => {
  t.match(refusal('a{__name__="b"} 1\n', 'text')?.message, /^line 1: label __name__ is not allowed/);
  t.match(refusal('a{x="1",__name__="b"} 1\n# EOF\n', 'openmetrics')?.message, /^line 1: label __name__ is not allowed/);
});

t.test('UTF-8: bytes are decoded without loss, invalid UTF-8 is refused', async (t) => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const withBadByte = (before: string, after: string): Uint8Array => new Uint8Array([...enc(before), 0xff, 0xfe, ...enc(after)]);
  const [fam] = parseExposition(enc('a{city="Zürich ☃"} 1\n'), 'text');
  t.equal(fam?.samples[0]?.labels['city'], 'Zürich ☃', 'multi-byte UTF-8 read right');
  for (const format of ['text', 'openmetrics'] as const) {
    const err = refusal(withBadByte('ok 1\na{city="Z', `rich"} 1\n${format === 'openmetrics' ? '# EOF\n' : ''}`), format);
    t.equal(err?.line, 2, `${format}: the line with the bad bytes is named`);
    t.match(err?.message, /invalid UTF-8/, `${format}: refused, not read as U+FFFD`);
  }
  // a plain comment the text parser skips anyway may carry any bytes, as in Prometheus
  const [c] = parseExposition(withBadByte('# written by ', ' tool\nc 3\n'), 'text');
  t.equal(c?.samples[0]?.value, 3);
  t.match(refusal(withBadByte('# HELP c ', '\nc 3\n'), 'text')?.message, /^line 1: invalid UTF-8/, 'but not a HELP line');
});

t.test('OpenMetrics: label escapes and commas as the specification has them', async (t) => {
  const [fam] = parseExposition('a{x="b\\\\a\\z",y="q\\"\\n"} 1\n# EOF\n', 'openmetrics');
  t.same(fam?.samples[0]?.labels, { x: 'b\\a\\z', y: 'q"\n' }, 'an unknown escape is kept as written');
  t.match(refusal('a{x="1",} 1\n# EOF\n', 'openmetrics')?.message, /trailing comma/);
  t.match(refusal('m{a="\\z"} 1\n', 'text')?.message, /invalid escape \\z/, 'the text format knows only its three escapes');
});

t.test('OpenMetrics: the rules of each type', async (t) => {
  const bad: [string, RegExp][] = [
    ['# TYPE a counter\na_total NaN\n', /may not be NaN/],
    ['# TYPE a counter\na_total -1\n', /may not be negative/],
    ['# TYPE a histogram\na_bucket{le="1"} 1\na_count 1\na_sum 1\n', /\+Inf bucket is missing/],
    ['# TYPE a histogram\na_bucket{le="2"} 1\na_bucket{le="1"} 1\na_bucket{le="+Inf"} 1\n', /increasing order of le/],
    ['# TYPE a histogram\na_bucket{le="+Inf"} 2\na_count 3\na_sum 1\n', /count 3 differs from the \+Inf bucket 2/],
    ['# TYPE a histogram\na_bucket{le="+Inf"} 2\na_count 2\n', /_count needs _sum/],
    ['# TYPE a summary\na{quantile="1.5"} 1\n', /quantile label with a number from 0 to 1/],
    ['# TYPE a stateset\na{a="x"} 2\n', /a state is 0 or 1/],
    ['# TYPE a info\na_info{v="1"} 2\n', /an info sample is 1/],
    ['# TYPE a gauge\na 1 # {t="1"} 1\n', /may not carry an exemplar/],
    ['# TYPE a gauge\na{x="1"} 1\na{x="2"} 1\na{x="1"} 2\n', /samples of one label set must be together/],
    ['# TYPE a gauge\na 1 10\na 2 9\n', /timestamps of one label set must not go back/],
    ['# TYPE a_created gauge\n# TYPE a counter\n', /clashes with family a_created/],
  ];
  for (const [body, why] of bad) t.match(refusal(body + '# EOF\n', 'openmetrics')?.message, why, JSON.stringify(body));  const err = refusal('# TYPE a histogram\na_bucket{le="1"} 1\na_count 1\na_sum 1\n# TYPE b gauge\nb 1\n# EOF\n', 'openmetrics');
  t.equal(err?.line, 4, 'a fault of a whole histogram is reported on its last line, not the next family\'s');
});

t.test('a large OpenMetrics exposition (histograms, many label sets) parses quickly', async (t) => {
  const lines: string[] = ['# TYPE lat histogram'];
  for (let i = 0; i < 4_000; i++) {
    const l = `route="/r${i}",code="200"`;
    lines.push(`lat_bucket{${l},le="0.1"} 1`, `lat_bucket{${l},le="1"} 2`, `lat_bucket{${l},le="+Inf"} 3`, `lat_count{${l}} 3`, `lat_sum{${l}} 1.5`);
  }
  lines.push('# EOF');
  const started = performance.now();
  const [fam] = parseExposition(lines.join('\n') + '\n', 'openmetrics');
  const ms = performance.now() - started;
  t.equal(fam?.samples.length, 20_000);
  // a guard against quadratic behaviour in the grouping rules, loose for a loaded machine
  t.ok(ms < 5000, `20000 samples in ${ms.toFixed(0)} ms`);
});

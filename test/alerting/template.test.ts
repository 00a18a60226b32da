/**
 * The Go template subset of rule labels and annotations: outputs as Go and Prometheus
 * print them (the same cases pass in promtool: test/fixtures/alerting/templates.test.yml),
 * and parse errors worded as Go's.
 */
import t from 'tap';
import { Template, TemplateError } from '../../src/alerting/template.js';
import { TEMPLATE_FUNCTIONS, goFloat, sprintf, GoInt } from '../../src/alerting/template-funcs.js';
import { TEMPLATE_VARIABLES } from '../../src/alerting/load.js';

const run = (text: string, value = 2.5e9): string =>
  Template.parse(text, TEMPLATE_FUNCTIONS, TEMPLATE_VARIABLES).execute({}, { $labels: { instance: 'db1.example.org:9100', job: 'node' }, $value: value, $externalLabels: {}, $externalURL: '' });

t.test("floats print as Go's %v and %.4g", async (t) => {
  const cases: [number, string, string][] = [
    [1e6, '1e+06', '1e+06'], [123456, '123456', '1.235e+05'], [0.1, '0.1', '0.1'], [1e-5, '1e-05', '1e-05'], [100, '100', '100'],
    [1.5, '1.5', '1.5'], [0.000123, '0.000123', '0.000123'], [2.5e9, '2.5e+09', '2.5e+09'], [NaN, 'NaN', 'NaN'], [-Infinity, '-Inf', '-Inf'], [0, '0', '0'],
  ];
  for (const [v, shortest, g4] of cases) {
    t.equal(goFloat(v, 'g', -1), shortest, `%v of ${v}`);
    t.equal(goFloat(v, 'g', 4), g4, `%.4g of ${v}`);
  }
  t.equal(goFloat(1, 'e', -1), '1e+00');
  t.equal(goFloat(1234.5, 'e', 6), '1.234500e+03');
});

t.test('functions and pipelines', async (t) => {
  t.equal(run('{{ $labels.instance }} is {{ $value }}'), 'db1.example.org:9100 is 2.5e+09');
  t.equal(run('{{ $value | humanize }} {{ humanize1024 $value }}'), '2.5G 2.328Gi');
  t.equal(run('{{ humanizeDuration 90061 }} {{ humanizeDuration 0.25 }} {{ humanizeDuration 3.5 }}'), '1d 1h 1m 1s 250ms 3.5s');
  t.equal(run('{{ humanizePercentage 0.1234 }} {{ humanizeTimestamp 1700000000.5 }}'), '12.34% 2023-11-14 22:13:20.5 +0000 UTC');
  t.equal(run('{{ "hello wORLD" | title }} {{ toLower "ABC" }} {{ toUpper "x" }}'), 'Hello WORLD abc X');
  t.equal(run('{{ if gt $value 1e9 }}big{{ else if gt $value 1.0 }}mid{{ else }}small{{ end }}', 5), 'mid');
  t.equal(run('{{ with $labels.job }}job={{ . }}{{ end }}'), 'job=node');
  t.equal(run('{{ $labels.instance | stripPort | toUpper }}'), 'DB1.EXAMPLE.ORG');
  t.equal(run('{{ reReplaceAll "(.+):(\\\\d+)" "$2" $labels.instance }}'), '9100');
  t.equal(run('{{ $labels.missing }}'), '<no value>');
  t.equal(sprintf('%.1f|%5.2f|%d|%s|%q|%x|%e|%g|%-4s|%05d', [2.5e9, 3.14159, new GoInt(42), 's', 'q', new GoInt(255), 1234.5, 0.000012, 'ab', new GoInt(42)]), '2500000000.0| 3.14|42|s|"q"|ff|1.234500e+03|1.2e-05|ab  |00042');
  t.equal(sprintf('%d %s', [1.5]), '%!d(float64=1.5) %!s(MISSING)', "Go's bad-verb and missing-argument marks");
});

t.test('parse errors', async (t) => {
  const err = (text: string): string => {
    try {
      run(text);
    } catch (e) {
      if (e instanceof TemplateError) return e.message;
      throw e;
    }
    return '';
  };
  t.equal(err('{{ $labels.x '), 'unclosed action');
  t.equal(err('{{ nosuch $value }}'), 'function "nosuch" not defined');
  t.equal(err('{{ if $value }}'), 'unexpected EOF');
  t.equal(err('{{ $undefined }}'), 'undefined variable "$undefined"');
  t.equal(err('{{ end }}'), 'unexpected {{end}}');
  t.equal(err('{{ define "x" }}{{ end }}'), '{{define}} is not supported in rule templates');
  t.equal(err('{{ humanize "abc" }}'), 'error calling humanize: strconv.ParseFloat: parsing "abc": invalid syntax', 'a run-time error');
});

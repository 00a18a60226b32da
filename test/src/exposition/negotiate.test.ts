/** Accept and Accept-Encoding parsed as RFC 9110 defines them. */
import t from 'tap';
import { acceptsGzip, negotiate } from '../../../src/exposition/negotiate.js';

t.test('Accept picks the exposition format', async (t) => {
  const cases: [string | undefined, 'openmetrics' | 'text'][] = [
    [undefined, 'text'],
    ['', 'text'],
    ['*/*', 'text'],
    ['text/plain', 'text'],
    ['application/openmetrics-text', 'openmetrics'],
    ['APPLICATION/OpenMetrics-Text; Version=1.0.0', 'openmetrics'],
    // what Prometheus 2.x/3.x send
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    ['text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5', 'text'],
    ['application/openmetrics-text;q=0', 'text'],
    ['application/openmetrics-text;q=0, */*', 'text'],
    ['application/openmetrics-text;q=0.0', 'text'],
    ['application/openmetrics-text;q=1.5', 'text'], // malformed q: element ignored
    ['application/*', 'openmetrics'],
    ['application/openmetrics-text, */*', 'openmetrics'], // more specific match wins a tie
    ['text/plain;q=0, */*;q=0.1', 'openmetrics'],
    ['application/openmetrics-text;version=9.9.9, text/plain;q=0.1', 'text'], // a version not served
    ['text/*;q=0.3, application/openmetrics-text;q=0.2', 'text'],
    ['text/plain;q=0, application/openmetrics-text;q=0', 'text'], // nothing acceptable: still answered
  ];
  for (const [header, want] of cases) t.equal(negotiate(header), want, JSON.stringify(header));
});

t.test('Accept-Encoding decides gzip', async (t) => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['gzip, deflate, br', true],
    ['deflate, gzip;q=1.0, *;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['GZip ; Q=0', false],
    ['*', true],
    ['*;q=0', false],
    ['*;q=0, identity', false],
    ['br', false],
    ['deflate', false],
    ['gzip;q=0.5, identity;q=1', false],
    ['identity;q=0, gzip;q=0.1', true],
    ['gzip;q=2', false], // malformed q: element ignored
    ['notgzip', false],
  ];
  for (const [header, want] of cases) t.equal(acceptsGzip(header), want, JSON.stringify(header));
});

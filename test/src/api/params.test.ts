import t from 'tap';
import { BadData, checkRange, parseDurationParam, parseLimit, parseTime, parseTimeOr } from '../../../src/api/params.js';
import { encodeValue, formatValue } from '../../../src/api/encode.js';

t.test('times: unix seconds with a fraction, or RFC 3339', async (t) => {
  t.equal(parseTime('time', '1700000000'), 1_700_000_000_000);
  t.equal(parseTime('time', '1700000000.123'), 1_700_000_000_123);
  t.equal(parseTime('time', '2026-12-03T14:00:00Z'), Date.UTC(2026, 11, 3, 14));
  t.equal(parseTime('time', '2026-12-03T14:00:00.5+01:00'), Date.UTC(2026, 11, 3, 13, 0, 0, 500));
  for (const bad of ['', 'now', '2026-12-03', '1e400', '12:00', 'NaN']) {
    t.throws(() => parseTime('start', bad), new BadData(`invalid parameter "start": cannot parse ${JSON.stringify(bad)} to a valid timestamp`), bad);
  }
  t.equal(parseTimeOr('time', undefined, 7), 7, 'an optional time absent: the fallback');
  t.equal(parseTimeOr('time', '', 7), 7, 'or empty');
  t.equal(parseTimeOr('time', '1700000000', 7), 1_700_000_000_000);
  t.throws(() => parseTimeOr('time', 'soon', 7), new BadData(`invalid parameter "time": invalid time value for 'time': cannot parse "soon" to a valid timestamp`), 'an optional time says so, as Prometheus 3');
});

t.test('durations: float seconds or Prometheus durations', async (t) => {
  t.equal(parseDurationParam('step', '15'), 15_000);
  t.equal(parseDurationParam('step', '0.5'), 500);
  t.equal(parseDurationParam('step', '1m30s'), 90_000);
  t.throws(() => parseDurationParam('step', 'abc'), /invalid parameter "step": cannot parse "abc" to a valid duration/);
  t.throws(() => parseDurationParam('step', ''), /cannot parse "" to a valid duration/);
});

t.test('limits', async (t) => {
  t.equal(parseLimit(undefined), 0);
  t.equal(parseLimit('10'), 10);
  t.equal(parseLimit('99999999999999999999999'), Number.MAX_SAFE_INTEGER, 'a huge limit is no limit, not an error');
  t.throws(() => parseLimit('-1'), /limit must be non-negative/);
  t.throws(() => parseLimit('ten'), /cannot parse "ten" to a valid limit/);
});

t.test('range checks word their errors as Prometheus', async (t) => {
  t.throws(() => checkRange(10, 5, 1), /^invalid parameter "end": end timestamp must not be before start time$/);
  t.throws(() => checkRange(0, 5, 0), /^invalid parameter "step": zero or negative query resolution step widths are not accepted/);
  t.throws(() => checkRange(0, 11_001_000, 1000), /exceeded maximum resolution of 11,000 points per timeseries/);
  t.doesNotThrow(() => checkRange(0, 11_000_000, 1000));
});

t.test('values print as Go prints them (no exponent)', async (t) => {
  t.equal(formatValue(2), '2');
  t.equal(formatValue(0.1), '0.1');
  t.equal(formatValue(-1.5), '-1.5');
  t.equal(formatValue(1e21), '1000000000000000000000');
  t.equal(formatValue(1.5e-7), '0.00000015');
  t.equal(formatValue(-2.5e22), '-25000000000000000000000');
  t.equal(formatValue(NaN), 'NaN');
  t.equal(formatValue(Infinity), '+Inf');
  t.equal(formatValue(-Infinity), '-Inf');
  t.same(encodeValue({ type: 'scalar', timeMs: 1_700_000_000_123, value: 2 }), { resultType: 'scalar', result: [1_700_000_000.123, '2'] });
  t.same(
    encodeValue({ type: 'vector', samples: [{ metric: { job: 'x', __name__: 'up' }, timeMs: 1000, value: 1 }] }),
    { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'x' }, value: [1, '1'] }] },
  );
  t.equal(Object.keys((encodeValue({ type: 'vector', samples: [{ metric: { job: 'x', __name__: 'up' }, timeMs: 1000, value: 1 }] }).result as { metric: object }[])[0]!.metric)[0], '__name__', 'labels sorted');
});

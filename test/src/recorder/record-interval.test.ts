/**
 * A record interval shorter than the collect interval is refused with a message that
 * says why and what to set, instead of silently storing every collected value several times.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { Logger } from '../../../src/log.js';
import { checkRecordInterval, recordingStep } from '../../../src/recording-step.js';
import { runCli } from '../../helpers/larder-process.js';

const config = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv, env: { MONITORING_DB: 'sqlite', ...env } }).config;

t.test('record 5s with collect 15s is refused, naming both options and the fix', async (t) => {
  const c = config(['--record-interval=5s']);
  t.equal(c.collectors.collectInterval, 15_000, 'the default collect interval');
  t.throws(() => checkRecordInterval(c), ConfigError);
  t.throws(() => recordingStep(new Registry(), c, new Logger('error')), {
    name: 'ConfigError',
    message: /--record-interval 5s is shorter than --collect-interval 15s: .*recorded up to 3 times\. Record every 15s or more, or collect as often \(--collect-interval=5s\)/,
  });
});

t.test('equal or longer record intervals, and no storage, are accepted', async (t) => {
  t.doesNotThrow(() => checkRecordInterval(config(['--record-interval=5s', '--collect-interval=5s'])));
  t.doesNotThrow(() => checkRecordInterval(config(['--record-interval=15s'])));
  t.doesNotThrow(() => checkRecordInterval(config([], { LARDER_RECORD_INTERVAL: '1m' })));
  const off = config(['--record-interval=5s'], { MONITORING_DB: 'none' });
  t.equal(recordingStep(new Registry(), off, new Logger('error')), undefined, 'storage off: nothing is recorded, nothing to refuse');
  t.ok(recordingStep(new Registry(), config(['--record-interval=15s']), new Logger('error')), 'a step is built');
});

t.test('larder serve refuses it at start-up with exit 2', async (t) => {
  const r = runCli(['serve', '--record-interval=5s', '--listen=127.0.0.1:0'], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: '/nonexistent/never-opened.db' });
  t.equal(r.status, 2);
  t.match(r.stderr, /--record-interval 5s is shorter than --collect-interval 15s/);
});

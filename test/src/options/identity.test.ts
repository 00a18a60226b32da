/** Host identity options: --instance and the repeatable --external-label, from flags, environment and config file. */
import t from 'tap';
import { hostname } from 'node:os';
import { loadConfig } from '../../../src/config.js';

const load = (argv: string[], env: Record<string, string> = {}, file = '') =>
  loadConfig({ argv: file === '' ? argv : ['--config.file=/c.yml', ...argv], env, readFile: () => file }).config;

t.test('instance: the host name by default, else flag, environment or config', async (t) => {
  t.equal(load([]).identity.instance, hostname());
  t.equal(load(['--instance=web1']).identity.instance, 'web1');
  t.equal(load([], { LARDER_INSTANCE: 'web2:9464' }).identity.instance, 'web2:9464');
  t.equal(load([], {}, 'instance: web3\n').identity.instance, 'web3');
  t.equal(load(['--instance=web1'], { LARDER_INSTANCE: 'x' }).identity.instance, 'web1', 'the flag wins');
  t.throws(() => load(['--instance=']), /--instance.*non-empty/);
  t.throws(() => load(['--instance', 'a'.repeat(300)]), /at most 256/);
  t.throws(() => load(['--instance=a\u0007b']), /control characters/);
});

t.test('external labels: repeatable flag, comma list in the environment, mapping in the config file', async (t) => {
  t.same(load([]).identity.externalLabels, {});
  t.same(load(['--external-label=dc=eu']).identity.externalLabels, { dc: 'eu' });
  t.same(load(['--external-label', 'dc=eu', '--external-label=env=prod']).identity.externalLabels, { dc: 'eu', env: 'prod' }, 'repeated flags add up');
  t.same(load([], { LARDER_EXTERNAL_LABELS: 'dc=eu, env=prod' }).identity.externalLabels, { dc: 'eu', env: 'prod' });
  t.same(load([], {}, 'external-label:\n  dc: eu\n  rack: 7\n').identity.externalLabels, { dc: 'eu', rack: '7' });
  t.same(load(['--external-label=dc=us'], {}, 'external-label:\n  dc: eu\n').identity.externalLabels, { dc: 'us' }, 'the flags replace the file');
  t.same(load(['--external-label=v=a=b']).identity.externalLabels, { v: 'a=b' }, 'the first = splits');
  t.throws(() => load(['--external-label=dc']), /--external-label.*name=value/);
  t.throws(() => load(['--external-label=1dc=x']), /invalid label name/);
  t.throws(() => load(['--external-label=__x=1']), /invalid label name/);
  t.throws(() => load(['--external-label=instance=x']), /set by --instance/);
  t.throws(() => load(['--external-label=job=x']), /set by --instance and the recorder/);
  t.throws(() => load(['--external-label=dc=']), /empty/);
  t.throws(() => load(['--external-label=dc=a', '--external-label=dc=b']), /given twice/);
  t.throws(() => load([], { LARDER_EXTERNAL_LABELS: Array.from({ length: 17 }, (_, i) => `l${i}=v`).join(',') }), /at most 16/);
  t.throws(() => load([], {}, 'external-label: 5\n'), /config file key "external-label"/);
});

t.test('--help lists both', async (t) => {
  const { optionsHelp } = await import('../../../src/config.js');
  const help = optionsHelp();
  t.match(help, /--instance \[LARDER_INSTANCE\]/);
  t.match(help, /--external-label \[LARDER_EXTERNAL_LABELS\]/);
});

/**
 * Schema version 4 on a store written before it (version 3): the series of that time
 * get the labels of the Larder that opens it (job, instance, external labels), their own
 * labels winning; a series that would become one that exists is kept as it was; the
 * step runs once; the named views show the new job and instance; on PostgreSQL the
 * series and the old watermarks become the opener's, and a second host changes nothing.
 */
import t from 'tap';
import { join } from 'node:path';
import { PG, need } from '../helpers/peers.js';
import { openPgStore } from '../../storage/pg-store.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { applyHostLabels, withHostLabels } from '../../storage/host-labels.js';
import type { Dialect, Store } from '../../storage/store.js';
import { DIALECTS, dropSchema, schemaName, tempDir } from './fixtures/stores.js';
import { undoVersion4 } from './fixtures/before-v4.js';

const NOW = Date.UTC(2026, 2, 1, 12);

t.test('withHostLabels adds only what is missing', async (t) => {
  t.same(withHostLabels({ job: 'node', a: '1' }, { job: 'larder', instance: 'web1' }), { job: 'node', a: '1', instance: 'web1' });
  t.same(withHostLabels({}, {}), {});
});

for (const dialect of DIALECTS) {
  t.test(`${dialect}: a version-3 store gets the opener's labels once`, async (t) => {
    let open: (instance: string) => Promise<Store>;
    if (dialect === 'sqlite') {
      const path = join(tempDir(t), 'monitoring.db');
      open = () => openSqliteStore({ path, now: () => NOW });
    } else {
      if (!(await need(t, 'postgres'))) return;
      const schema = schemaName();
      t.teardown(() => dropSchema(schema));
      open = (instance) => openPgStore({ ...PG, schema, instance, now: () => NOW, poolSize: 2 });
    }
    const old = await open('');
    const ids = await old.resolveSeries([
      { name: 'larder_recorder_batches_total', labels: {}, type: 'counter' },
      { name: 'node_cpu_seconds_total', labels: { cpu: '0', mode: 'idle' }, type: 'counter' },
      { name: 'up', labels: { job: 'node', instance: 'db1:9100' }, type: 'gauge' },
      { name: 'dup', labels: {}, type: 'gauge' },
      { name: 'dup', labels: { job: 'larder', instance: 'web1', dc: 'eu' }, type: 'gauge' },
    ]);
    await old.writeSamples(ids.map((id) => ({ seriesId: id, timeMs: NOW - 60_000, value: 1 })));
    await old.execute(`INSERT INTO rollup_watermarks (tier, watermark_ms) VALUES ('5m', ${NOW - 300_000})`);
    await undoVersion4(old);
    const fps = new Map((await old.listSeries()).map((s) => [s.id, s.fingerprint]));
    await old.close();

    const s = await open('web1');
    t.teardown(() => s.close());
    const unlabelled = await s.query<{ n: unknown }>('SELECT count(*) AS n FROM series_unlabelled');
    t.equal(Number(unlabelled[0]!.n), 5, 'migration 4 lists the series from before');
    const r = await applyHostLabels(s, { job: 'larder', instance: 'web1', dc: 'eu' }, 'web1');
    t.same(r, { labelled: 3, kept: 1 }, 'three series labelled; one would have become an existing series and is kept');
    const after = new Map((await s.listSeries()).map((x) => [x.id, x]));
    t.same(after.get(ids[0]!)?.labels, { dc: 'eu', instance: 'web1', job: 'larder' });
    t.same(after.get(ids[1]!)?.labels, { cpu: '0', dc: 'eu', instance: 'web1', job: 'larder', mode: 'idle' });
    t.same(after.get(ids[2]!)?.labels, { dc: 'eu', instance: 'db1:9100', job: 'node' }, "a series' own job and instance win");
    t.same(after.get(ids[3]!)?.labels, {}, 'kept: two series never become one');
    t.not(after.get(ids[0]!)?.fingerprint, fps.get(ids[0]!), 'fingerprint recomputed');
    t.equal(after.get(ids[3]!)?.fingerprint, fps.get(ids[3]!));
    const [again] = await s.resolveSeries([{ name: 'larder_recorder_batches_total', labels: { job: 'larder', instance: 'web1', dc: 'eu' }, type: 'counter' }]);
    t.equal(again, ids[0], 'the recorder, now labelling, finds the same series: its history continues');
    const named = await s.query<{ job: string | null; instance: string | null }>("SELECT job, instance FROM samples_named WHERE metric_name = 'node_cpu_seconds_total'");
    t.same(named.map((x) => [x.job, x.instance]), [['larder', 'web1']], 'the named views show the labels');
    t.same(await applyHostLabels(s, { job: 'larder', instance: 'web1' }, 'web1'), { labelled: 0, kept: 0 }, 'runs once');
    if (dialect === 'postgresql') {
      const hosts = await s.query<{ host: string }>('SELECT DISTINCT host FROM series');
      t.same(hosts.map((h) => h.host), ['web1'], 'the series from before are the opener\'s to roll up');
      const wm = await s.query<{ tier: string; host: string }>('SELECT tier, host FROM rollup_watermarks');
      t.same(wm.map((w) => [w.tier, w.host]), [['5m', 'web1']], 'and so is the watermark of that time');
      const second = await open('web2');
      t.teardown(() => second.close());
      t.same(await applyHostLabels(second, { job: 'larder', instance: 'web2' }, 'web2'), { labelled: 0, kept: 0 }, 'a second host finds nothing to label');
    }
  });
}

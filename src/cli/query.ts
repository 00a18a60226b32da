/** `larder query`: PromQL (instant or range, from the right tier) or read-only SQL. */
import { choiceFlag, durationFlag, FailedError, timeFlag, UsageError, type Command } from './command.js';
import { renderChart, type OutStream } from './output.js';
import { outputForm, renderRows, type OutputForm } from './render.js';
import { checkReadOnlySql } from './sql-guard.js';
import { openForRead, type ReadAccess } from './store-access.js';
import { readWatermarks } from './stats.js';
import { resolveTiers } from '../../rollup/tiers.js';
import type { Config } from '../config.js';
import type { QueryResult } from '../../query/types.js';
import type { Labels } from '../../storage/store.js';

/** Steps a default range step is picked from: round values a tier can answer. */
const STEPS = [15_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];

/** `{a="x", b="y"}` form of a label set, name first. */
export function seriesName(m: Labels): string {
  const { __name__: name, ...rest } = m;
  const inner = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`)
    .join(', ');
  return `${name ?? ''}${inner || name === undefined ? `{${inner}}` : ''}`;
}

async function runSql(access: ReadAccess, sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
  checkReadOnlySql(sql);
  try {
    if (access.sqlite) return access.sqlite.allWithColumns(sql);
    return await access.store.transaction(async (tx) => {
      await tx.execute('SET TRANSACTION READ ONLY');
      const rows = await tx.query(sql);
      const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
      return { columns, rows: rows.map((r) => columns.map((c) => r[c])) };
    });
  } catch (e) {
    const msg = (e as Error).message;
    if (/readonly|read-only|query_only|attempt to write/i.test(msg)) throw new UsageError(`--sql runs read-only SQL: the store refused a write (${msg})`);
    throw new FailedError(`--sql failed: ${msg}`);
  }
}

function tierSource(config: Config, access: ReadAccess) {
  if (config.query.maxResolution === 'raw') return undefined;
  const tiers = resolveTiers(config.recorder.tiers, config.storage.recordInterval);
  let marks: Promise<Map<string, number>> | undefined;
  return { tiers, watermark: async (tier: string) => (await (marks ??= readWatermarks(access.store))).get(tier) };
}

function emit(result: QueryResult, form: OutputForm | undefined, stdout: OutStream): string {
  const v = result.value;
  const iso = (ms: number): string => new Date(ms).toISOString();
  switch (v.type) {
    case 'scalar':
    case 'string':
      return renderRows(form === 'chart' ? 'table' : form, stdout, ['time', 'value'], [[iso(v.timeMs), v.value]]);
    case 'vector':
      if (form === 'chart') return renderChart(v.samples.map((s) => ({ name: seriesName(s.metric), values: [s.value] })));
      return renderRows(form, stdout, ['series', 'time', 'value'], v.samples.map((s) => [seriesName(s.metric), iso(s.timeMs), s.value]));
    case 'matrix':
      if (form === 'chart') return renderChart(v.series.map((s) => ({ name: seriesName(s.metric), values: s.points.map((p) => p.value) })), Math.max(20, (stdout.columns ?? 100) - 40));
      return renderRows(form, stdout, ['series', 'time', 'value'], v.series.flatMap((s) => s.points.map((p) => [seriesName(s.metric), iso(p.timeMs), p.value])));
  }
}

export const queryCommand: Command = {
  name: 'query',
  summary: 'PromQL (instant or range, answered from the right tier) or read-only SQL',
  usage: `Usage: larder query [options] 'PROMQL'
       larder query --since 6h [--step 5m] 'PROMQL'
       larder query --sql 'SELECT …'

PromQL at one instant (now, or --time), or over a range (--since, or --from/--to) at
--step; rate/increase and *_over_time are answered from a rollup tier when the range
and step allow it, as the HTTP API does. --sql runs one read-only statement: anything
that would write is refused before it reaches the store (exit 2).`,
  flags: [
    { name: 'sql', value: 'STATEMENT', help: 'run one read-only SQL statement instead of PromQL' },
    { name: 'time', value: 'TIME', help: 'instant query time: RFC 3339, epoch seconds, now or now-1h (default now)' },
    { name: 'since', value: 'DURATION', help: 'range query over the last DURATION (e.g. 6h)' },
    { name: 'from', value: 'TIME', help: 'range query start' },
    { name: 'to', value: 'TIME', help: 'range query end (default now)' },
    { name: 'step', value: 'DURATION', help: 'range query step (default: a round step giving at most ~300 points)' },
    { name: 'output', value: 'FORM', help: 'table (default on a terminal; tab-separated in a pipe), csv, json or chart' },
  ],
  async run({ flags, words, config, stdout, stderr }) {
    const form = outputForm(flags.get('output'), true);
    const sql = flags.get('sql');
    const now = Date.now();
    if (sql !== undefined) {
      if (words.length > 0) throw new UsageError('give either --sql or a PromQL expression, not both');
      if (form === 'chart') choiceFlag('output', 'chart', ['table', 'csv', 'json']);
      checkReadOnlySql(sql);
      const access = await openForRead(config);
      try {
        const { columns, rows } = await runSql(access, sql);
        stdout.write(renderRows(form, stdout, columns, rows));
        return 0;
      } finally {
        await access.store.close();
      }
    }
    if (words.length !== 1) throw new UsageError(words.length === 0 ? 'missing the PromQL expression (quote it): larder query \'up\'' : 'give one PromQL expression, quoted');
    const expr = words[0]!;
    const ranged = flags.has('since') || flags.has('from');
    if (flags.has('since') && flags.has('from')) throw new UsageError('give --since or --from, not both');
    if (!ranged && (flags.has('to') || flags.has('step'))) throw new UsageError('--to and --step need a range: add --since or --from');
    if (ranged && flags.has('time')) throw new UsageError('--time is for instant queries; a range takes --since or --from/--to');
    let start = 0;
    let end = 0;
    let step = 0;
    if (ranged) {
      end = flags.has('to') ? timeFlag('to', flags.get('to')!, now) : now;
      start = flags.has('since') ? end - durationFlag('since', flags.get('since')!) : timeFlag('from', flags.get('from')!, now);
      if (start >= end) throw new UsageError('the range is empty: --from must be before --to');
      step = flags.has('step') ? durationFlag('step', flags.get('step')!) : (STEPS.find((s) => (end - start) / s <= 300) ?? 86_400_000);
      // Align to the step so a tier's buckets tile the windows (query/tiers.ts).
      end = Math.floor(end / step) * step;
      start = Math.ceil(start / step) * step;
      if (start > end) start = end;
    }
    const time = flags.has('time') ? timeFlag('time', flags.get('time')!, now) : now;
    // A query that does not parse is bad usage, found before the store is opened.
    const { parseQuery } = await import('../../query/parse.js');
    try {
      parseQuery(expr);
    } catch (e) {
      throw new UsageError(`bad query: ${(e as Error).message}`);
    }
    const access = await openForRead(config);
    try {
      const { createQueryEngine } = await import('../../query/engine.js');
      const engine = createQueryEngine(access.store, { timeoutMs: config.query.timeout, tiers: tierSource(config, access) });
      let result: QueryResult;
      try {
        result = ranged ? await engine.range(expr, start, end, step) : await engine.instant(expr, time);
      } catch (e) {
        const type = (e as { type?: string }).type;
        if (type === 'bad_data') throw new UsageError(`bad query: ${(e as Error).message}`);
        throw new FailedError(`query failed: ${(e as Error).message}`);
      }
      for (const w of result.warnings) stderr.write(`larder: warning: ${w}\n`);
      stdout.write(emit(result, form, stdout));
      return 0;
    } finally {
      await access.store.close();
    }
  },
};

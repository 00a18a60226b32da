/** The collectors Larder knows, listed explicitly (no registration by import side effect). */
import type { CollectorDefinition } from './collector.js';
import { cgroupCollector } from './cgroup.js';
import { conntrackCollector } from './conntrack.js';
import { cpuCollector } from './cpu.js';
import { diskstatsCollector } from './diskstats.js';
import { entropyCollector } from './entropy.js';
import { filefdCollector } from './filefd.js';
import { filesystemCollector } from './filesystem.js';
import { loadavgCollector } from './loadavg.js';
import { meminfoCollector } from './meminfo.js';
import { netclassCollector } from './netclass.js';
import { netdevCollector } from './netdev.js';
import { netstatCollector } from './netstat.js';
import { osCollector } from './os.js';
import { pressureCollector } from './pressure.js';
import { processCollector } from './process.js';
import { processesCollector } from './processes.js';
import { sockstatCollector } from './sockstat.js';
import { softnetCollector } from './softnet.js';
import { statCollector } from './stat.js';
import { textfileCollector } from './textfile.js';
import { timeCollector } from './time.js';
import { unameCollector } from './uname.js';
import { usageCollector } from './usage.js';
import { vmstatCollector } from './vmstat.js';
import { hostinfoCollector } from './hostinfo.js';
import { postgresCollector } from './postgres-server.js';
import { redisCollector } from './redis-server.js';
import { withSysinfoFallback } from './sysinfo/fallback.js';

/** The host collectors, read from /proc and /sys (node_exporter's names where they mean the same). */
export const HOST_COLLECTORS: readonly CollectorDefinition[] = [
  // these five fall back to systeminformation where /proc is missing (--collector.host-source)
  withSysinfoFallback(cpuCollector),
  withSysinfoFallback(loadavgCollector),
  withSysinfoFallback(meminfoCollector),
  withSysinfoFallback(filesystemCollector),
  diskstatsCollector,
  withSysinfoFallback(netdevCollector),
  netclassCollector,
  netstatCollector,
  sockstatCollector,
  softnetCollector,
  conntrackCollector,
  statCollector,
  vmstatCollector,
  pressureCollector,
  filefdCollector,
  entropyCollector,
  timeCollector,
  unameCollector,
  osCollector,
  processesCollector,
  usageCollector,
  cgroupCollector,
  textfileCollector,
];

/** The servers the service depends on, seen from outside (off by default, slow interval). */
export const SERVER_COLLECTORS: readonly CollectorDefinition[] = [postgresCollector, redisCollector];

/** Every collector, in exposition order. */
export const COLLECTORS: readonly CollectorDefinition[] = [processCollector, ...HOST_COLLECTORS, hostinfoCollector, ...SERVER_COLLECTORS];

/** Collector name → on by default. */
export const COLLECTOR_DEFAULTS: Readonly<Record<string, boolean>> = Object.freeze(
  Object.fromEntries(COLLECTORS.map((c) => [c.name, c.defaultEnabled])),
);

export { CollectorSet, type CollectorSetOptions } from './collector-set.js';
export type { Collector, CollectorContext, CollectorDefinition, CollectorLog, HostCollectorOptions, HostSource } from './collector.js';
export type { PostgresTarget, RedisTarget } from './server-target.js';
export { ConstMetric, type ConstMetricConfig, type ConstSample, type Labels, type MetricKind } from './const-metric.js';
export type { MetricFamily, Sample } from './metric-family.js';
export { ConstFamily } from './const-family.js';
export { ExpositionParseError, parseExposition, type DeclaredType, type ExpositionFormat, type ParsedFamily } from './text-parser.js';

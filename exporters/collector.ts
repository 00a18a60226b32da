/**
 * What a collector is. A collector registers its metrics on the Registry it is
 * given and refreshes them in `update()`, which runs on its own interval, never
 * during a scrape; a scrape only serializes what the last update left.
 */
import type { Registry } from 'prom-client';
import type { PostgresTarget, RedisTarget } from './server-target.js';

/** Where the host collectors read from: /proc and /sys, systeminformation, or the first when /proc is there. */
export type HostSource = 'auto' | 'procfs' | 'systeminformation';

/** Host-collector settings (the `collectors` options group has this shape). */
export interface HostCollectorOptions {
  /** procfs mount point. @default '/proc' */
  readonly procfs: string;
  /** sysfs mount point. @default '/sys' */
  readonly sysfs: string;
  /** Root of the host's file system (for /etc/os-release, and statfs of mounts when the host root is mounted elsewhere). @default '/' */
  readonly rootfs?: string | undefined;
  readonly mountPointsExclude?: RegExp | undefined;
  readonly mountPointsInclude?: RegExp | undefined;
  readonly fsTypesExclude?: RegExp | undefined;
  readonly diskDeviceExclude?: RegExp | undefined;
  readonly diskDeviceInclude?: RegExp | undefined;
  readonly netdevDeviceExclude?: RegExp | undefined;
  readonly netdevDeviceInclude?: RegExp | undefined;
  /** Folder of `*.prom` files; '' = none. */
  readonly textfileDirectory: string;
  /** Largest textfile read, in bytes; larger ones are skipped unread (0 = no limit). @default 1 MiB */
  readonly textfileMaxBytes?: number | undefined;
  /** A statfs on one mount running longer (ms) marks it `node_filesystem_device_error` 1. @default 5000 */
  readonly filesystemMountTimeout?: number | undefined;
  /** Where cpu, meminfo, filesystem, netdev and loadavg read from. @default 'auto' */
  readonly hostSource?: HostSource | undefined;
  /** PostgreSQL servers the `postgres` collector watches. @default none */
  readonly postgresTargets?: readonly PostgresTarget[] | undefined;
  /** The Redis server the `redis` collector watches. @default none */
  readonly redisTarget?: RedisTarget | undefined;
}

/** The logger a collector may use (structural, so exporters need nothing from src/). */
export interface CollectorLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
}

/** Everything a collector gets from outside. */
export interface CollectorContext {
  readonly registry: Registry;
  readonly options: HostCollectorOptions;
  readonly log: CollectorLog;
  /** The clock, in ms since the epoch. @default Date.now */
  readonly now: () => number;
}

/** A running collector. */
export interface Collector {
  /** Refreshes the metric values. Rejects on failure; the runner keeps the last values. */
  update(signal: AbortSignal): Promise<void>;
  /** Releases timers or handles, if any. */
  close?(): void;
  /** Overrides the definition's `slow` (a host collector on its systeminformation fallback runs on the slow interval). */
  readonly slow?: boolean;
  /**
   * Names of metrics this collector registered after create() (families known only
   * once read, e.g. /proc/meminfo fields or textfile families), for the `collect[]` filter.
   */
  dynamicMetrics?(): Iterable<string>;
}

/** A kind of collector, listed in exporters/index.ts. */
export interface CollectorDefinition {
  /** `--collector.<name>`, the `collect[]` filter value, and the `collector` label. */
  readonly name: string;
  /** On unless switched off. */
  readonly defaultEnabled: boolean;
  /** Costly collectors refresh on the slow interval. */
  readonly slow?: boolean;
  /** Registers the metrics and returns the collector. */
  create(ctx: CollectorContext): Collector;
}

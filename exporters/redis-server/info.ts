/** Redis `INFO` text parsed, and which fields become which redis_exporter metric. */

/** `field:value` lines of INFO, by field (section headers and blanks skipped). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

/** One keyspace line `db0:keys=3,expires=1,avg_ttl=0`. */
export interface KeyspaceDb {
  readonly db: string;
  readonly keys: number;
  readonly expires: number;
  /** Average TTL of the expiring keys, ms. */
  readonly avgTtlMs: number;
}

/** The `dbN` fields of INFO's keyspace section. */
export function keyspace(info: Map<string, string>): KeyspaceDb[] {
  const out: KeyspaceDb[] = [];
  for (const [field, value] of info) {
    if (!/^db\d+$/.test(field)) continue;
    const kv = new Map(value.split(',').map((p) => p.split('=') as [string, string]));
    out.push({ db: field, keys: Number(kv.get('keys') ?? NaN), expires: Number(kv.get('expires') ?? 0), avgTtlMs: Number(kv.get('avg_ttl') ?? 0) });
  }
  return out;
}

/** INFO field → redis_exporter metric name and type (its names for the same fields). */
export const INFO_METRICS: readonly { readonly field: string; readonly name: string; readonly type: 'counter' | 'gauge'; readonly help: string }[] = [
  { field: 'uptime_in_seconds', name: 'redis_uptime_in_seconds', type: 'gauge', help: 'Seconds since the Redis server started.' },
  { field: 'connected_clients', name: 'redis_connected_clients', type: 'gauge', help: 'Client connections (replicas excluded).' },
  { field: 'blocked_clients', name: 'redis_blocked_clients', type: 'gauge', help: 'Clients blocked on a blocking call.' },
  { field: 'used_memory', name: 'redis_memory_used_bytes', type: 'gauge', help: 'Bytes allocated by Redis.' },
  { field: 'used_memory_rss', name: 'redis_memory_used_rss_bytes', type: 'gauge', help: 'Resident set size of the Redis process.' },
  { field: 'used_memory_peak', name: 'redis_memory_used_peak_bytes', type: 'gauge', help: 'Peak bytes allocated by Redis.' },
  { field: 'maxmemory', name: 'redis_memory_max_bytes', type: 'gauge', help: 'The maxmemory setting (0 = no limit).' },
  { field: 'mem_fragmentation_ratio', name: 'redis_mem_fragmentation_ratio', type: 'gauge', help: 'RSS divided by used memory.' },
  { field: 'connected_slaves', name: 'redis_connected_slaves', type: 'gauge', help: 'Connected replicas.' },
  { field: 'rdb_changes_since_last_save', name: 'redis_rdb_changes_since_last_save', type: 'gauge', help: 'Changes since the last RDB save.' },
  { field: 'rdb_last_save_time', name: 'redis_rdb_last_save_timestamp_seconds', type: 'gauge', help: 'Time of the last successful RDB save, seconds since the epoch.' },
  { field: 'total_connections_received', name: 'redis_connections_received_total', type: 'counter', help: 'Connections accepted.' },
  { field: 'total_commands_processed', name: 'redis_commands_processed_total', type: 'counter', help: 'Commands processed.' },
  { field: 'rejected_connections', name: 'redis_rejected_connections_total', type: 'counter', help: 'Connections refused because of maxclients.' },
  { field: 'total_net_input_bytes', name: 'redis_net_input_bytes_total', type: 'counter', help: 'Bytes read from the network.' },
  { field: 'total_net_output_bytes', name: 'redis_net_output_bytes_total', type: 'counter', help: 'Bytes written to the network.' },
  { field: 'expired_keys', name: 'redis_expired_keys_total', type: 'counter', help: 'Keys removed because their TTL ran out.' },
  { field: 'evicted_keys', name: 'redis_evicted_keys_total', type: 'counter', help: 'Keys evicted because of maxmemory.' },
  { field: 'keyspace_hits', name: 'redis_keyspace_hits_total', type: 'counter', help: 'Successful key lookups.' },
  { field: 'keyspace_misses', name: 'redis_keyspace_misses_total', type: 'counter', help: 'Failed key lookups.' },
  { field: 'used_cpu_sys', name: 'redis_cpu_sys_seconds_total', type: 'counter', help: 'System CPU time of the Redis server.' },
  { field: 'used_cpu_user', name: 'redis_cpu_user_seconds_total', type: 'counter', help: 'User CPU time of the Redis server.' },
];

/** INFO fields that label redis_instance_info, as redis_exporter names them. */
export const INSTANCE_INFO_FIELDS = ['role', 'redis_version', 'redis_build_id', 'redis_mode', 'os', 'maxmemory_policy', 'tcp_port', 'run_id', 'process_id'] as const;

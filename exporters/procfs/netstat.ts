/** Parsers of /proc/net/netstat, /proc/net/snmp (header/value line pairs) and /proc/net/snmp6 (name value lines). */
import { fields, num } from './read.js';

/** One statistic, keyed as node_exporter keys it: `Tcp_InSegs`, `TcpExt_ListenDrops`, `Ip6_InOctets`. */
export interface NetStat {
  readonly protocol: string;
  readonly name: string;
  readonly value: number;
}

/** Parses the paired-line format of /proc/net/netstat and /proc/net/snmp. */
export function parseNetstatPairs(text: string): NetStat[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const out: NetStat[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = fields(lines[i]!);
    const values = fields(lines[i + 1]!);
    const protocol = names[0]?.replace(/:$/, '') ?? '';
    if (values[0] !== names[0] || names.length !== values.length) throw new Error(`/proc/net netstat: mismatched lines for ${protocol}`);
    for (let j = 1; j < names.length; j++) out.push({ protocol, name: names[j]!, value: num(values[j], `/proc/net ${protocol} ${names[j]}`) });
  }
  return out;
}

/** Parses /proc/net/snmp6 (`Ip6InReceives 123`), splitting the protocol prefix off. */
export function parseSnmp6(text: string): NetStat[] {
  const out: NetStat[] = [];
  for (const line of text.split('\n')) {
    const [key, value] = fields(line);
    if (!key || value === undefined) continue;
    const m = /^(Ip6|Icmp6|UdpLite6|Udp6)(.+)$/.exec(key);
    if (!m) continue;
    out.push({ protocol: m[1]!, name: m[2]!, value: num(value, `/proc/net/snmp6 ${key}`) });
  }
  return out;
}

/**
 * The helper process that calls systeminformation. Many of its calls run commands with
 * execSync (on Linux networkStats() measured 165-680 ms of `cat`s, cpu() and system()
 * ~150 ms each): on the main thread those would stall every scrape. A worker thread is
 * not enough: each fork from any thread of Larder's process write-protects its whole
 * address space, and measured here 20 execSyncs in a worker thread cost the main loop
 * 24-130 ms of page faults. From this separate, small process they cost Larder nothing.
 * Requests come over the IPC channel and are answered one at a time, in order; the
 * process exits when Larder lets go of it or goes away.
 */
import { cpus, loadavg, platform } from 'node:os';
import { setPriority } from 'node:os';
import si from 'systeminformation';
import { CPU_MODES, FS_FIELDS, MEMORY_FIELDS, NET_FIELDS, offsets, type CpuTimes, type FsEntry, type HostInventory, type HostSample, type NetEntry, type SampleLayout, type ShapedSample, type SysinfoReady, type SysinfoReply, type SysinfoRequest } from './protocol.js';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 128) : '');

/**
 * CPU times from os.cpus(): what systeminformation itself reads on macOS and Windows,
 * and on Linux the same /proc/stat ticks without its `cat` subprocess. Milliseconds → seconds.
 */
function cpuTimes(): CpuTimes[] {
  return cpus().map((c) => ({ user: c.times.user / 1000, nice: c.times.nice / 1000, system: c.times.sys / 1000, idle: c.times.idle / 1000, irq: c.times.irq / 1000 }));
}

async function sample(): Promise<HostSample> {
  const errors: Record<string, string> = {};
  const part = async <T>(name: string, f: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      errors[name] = (e as Error).message;
      return fallback;
    }
  };
  const [mem, fs, net] = await Promise.all([
    part('memory', () => si.mem(), undefined),
    part('filesystem', () => si.fsSize(), []),
    part('network', () => si.networkStats('*'), []),
  ]);
  const filesystems: FsEntry[] = fs.map((f) => ({
    device: str(f.fs),
    fstype: str(f.type),
    mountpoint: str(f.mount),
    size: num(f.size),
    free: num(f.size) - num(f.used),
    avail: num(f.available),
    readonly: f.rw === false,
  }));
  const networks: NetEntry[] = net.map((n) => ({
    device: str(n.iface),
    receiveBytes: num(n.rx_bytes),
    transmitBytes: num(n.tx_bytes),
    receiveErrs: num(n.rx_errors),
    transmitErrs: num(n.tx_errors),
    receiveDrop: num(n.rx_dropped),
    transmitDrop: num(n.tx_dropped),
  }));
  const l = loadavg();
  return {
    cpus: cpuTimes(),
    load: platform() === 'win32' ? undefined : [l[0]!, l[1]!, l[2]!],
    memory: { total: num(mem?.total), free: num(mem?.free), available: num(mem?.available), swapTotal: num(mem?.swaptotal), swapFree: num(mem?.swapfree) },
    filesystems,
    networks,
    errors,
  };
}

let layoutId = 0;
let layoutKey = '';
let layout: SampleLayout | undefined;

/**
 * `s` as numbers in the layout's order (protocol.ts), with the label sets when they
 * differ from the layout `known` that Larder has: the shaping is done here, so Larder's
 * main thread receives one typed array.
 */
function shape(s: HostSample, known: number): ShapedSample {
  const next: SampleLayout = {
    cpus: s.cpus.length,
    load: s.load !== undefined,
    filesystems: s.filesystems.map((f) => ({ device: f.device, fstype: f.fstype, mountpoint: f.mountpoint })),
    networks: s.networks.map((n) => n.device),
  };
  const key = JSON.stringify(next);
  if (key !== layoutKey || layout === undefined) {
    layoutKey = key;
    layout = next;
    layoutId++;
  }
  const at = offsets(layout);
  const values = new Float64Array(at.end);
  s.cpus.forEach((c, i) => CPU_MODES.forEach((m, j) => (values[i * CPU_MODES.length + j] = c[m])));
  for (let i = 0; i < 3; i++) values[at.load + i] = s.load ? s.load[i]! : NaN;
  MEMORY_FIELDS.forEach((f, j) => (values[at.memory + j] = s.memory[f]));
  s.filesystems.forEach((f, i) => FS_FIELDS.forEach((k, j) => (values[at.filesystems + i * FS_FIELDS.length + j] = k === 'readonly' ? (f.readonly ? 1 : 0) : f[k])));
  s.networks.forEach((n, i) => NET_FIELDS.forEach((k, j) => (values[at.networks + i * NET_FIELDS.length + j] = n[k])));
  return { layout: layoutId, ...(known === layoutId ? {} : { labels: layout }), values, errors: s.errors };
}

async function inventory(): Promise<HostInventory> {
  const [cpu, system, os] = await Promise.all([si.cpu(), si.system(), si.osInfo()]);
  return {
    cpuModel: str(`${cpu.manufacturer} ${cpu.brand}`.trim()),
    cpuVendor: str(cpu.vendor),
    cpuCores: num(cpu.cores),
    systemVendor: str(system.manufacturer),
    systemModel: str(system.model),
    osPlatform: str(os.platform),
    osDistro: str(os.distro),
    osRelease: str(os.release),
    arch: str(os.arch),
  };
}

const send = process.send?.bind(process);
if (send !== undefined) {
  // yields the CPU to Larder and the service (best effort)
  try {
    setPriority(10);
  } catch {
    // not permitted: the parent's priority
  }
  // Larder went away or let go: nothing more to answer
  process.on('disconnect', () => process.exit(0));
  let queue: Promise<void> = Promise.resolve();
  // Larder may have let go while this module loaded (started and stopped at once): with a
  // callback a closed channel is an error passed here, not an uncaught 'error' event
  send({ ready: true } satisfies SysinfoReady, undefined, undefined, (err: Error | null) => {
    if (err) process.exit(0);
  });
  process.on('message', (req: SysinfoRequest) => {
    queue = queue.then(async () => {
      let reply: SysinfoReply;
      try {
        reply = { id: req.id, ok: true, result: req.op === 'sample' ? shape(await sample(), req.layout ?? 0) : await inventory() };
      } catch (e) {
        reply = { id: req.id, ok: false, error: (e as Error).message };
      }
      send(reply);
    });
  });
}

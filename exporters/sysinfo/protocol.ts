/** What the systeminformation worker thread answers (plain data: it crosses a thread by structured clone). */

/** CPU time of one logical CPU, seconds. */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly irq: number;
}

/** One mounted filesystem's sizes, bytes. */
export interface FsEntry {
  readonly device: string;
  readonly fstype: string;
  readonly mountpoint: string;
  readonly size: number;
  /** Size minus used (the root reserve included), as statfs' bfree. */
  readonly free: number;
  /** Available to unprivileged users. */
  readonly avail: number;
  readonly readonly: boolean;
}

/** One network interface's counters. */
export interface NetEntry {
  readonly device: string;
  readonly receiveBytes: number;
  readonly transmitBytes: number;
  readonly receiveErrs: number;
  readonly transmitErrs: number;
  readonly receiveDrop: number;
  readonly transmitDrop: number;
}

/** One reading of everything the fallback host collectors report (as the helper reads it). */
export interface HostSample {
  readonly cpus: readonly CpuTimes[];
  /** 1, 5 and 15 minute load averages; undefined where the OS has none (Windows). */
  readonly load: readonly [number, number, number] | undefined;
  readonly memory: { readonly total: number; readonly free: number; readonly available: number; readonly swapTotal: number; readonly swapFree: number };
  readonly filesystems: readonly FsEntry[];
  readonly networks: readonly NetEntry[];
  /** Parts that failed, with their cause (the others are still reported). */
  readonly errors: Readonly<Record<string, string>>;
}

/** The label sets of a shaped sample: they change rarely (a mount, an interface), so they are sent only when they do. */
export interface SampleLayout {
  /** Logical CPUs (label cpu="0" … n-1). */
  readonly cpus: number;
  /** Whether the OS has load averages. */
  readonly load: boolean;
  readonly filesystems: readonly { readonly device: string; readonly fstype: string; readonly mountpoint: string }[];
  /** Network device names. */
  readonly networks: readonly string[];
}

/** CPU modes, in the order of their values per CPU. */
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'irq'] as const;
/** Memory fields, in the order of their values. */
export const MEMORY_FIELDS = ['total', 'free', 'available', 'swapTotal', 'swapFree'] as const;
/** Filesystem values per mount, in order. */
export const FS_FIELDS = ['size', 'free', 'avail', 'readonly'] as const;
/** Network counters per device, in order. */
export const NET_FIELDS = ['receiveBytes', 'transmitBytes', 'receiveErrs', 'transmitErrs', 'receiveDrop', 'transmitDrop'] as const;

/**
 * A host sample as the helper sends it: only numbers, in one Float64Array laid out as
 * `layout` says (cpus × CPU_MODES, 3 load averages, MEMORY_FIELDS, filesystems ×
 * FS_FIELDS, networks × NET_FIELDS), so Larder's main thread deserializes one typed
 * array and no objects or strings. `labels` comes only when the layout differs from
 * the one the request said it knows.
 */
export interface ShapedSample {
  /** Identifies the layout (the helper's count of layouts seen). */
  readonly layout: number;
  readonly labels?: SampleLayout;
  readonly values: Float64Array;
  /** Parts that failed, with their cause; usually empty. */
  readonly errors: Readonly<Record<string, string>>;
}

/** Where each part's values start in a ShapedSample of `layout`. */
export function offsets(layout: SampleLayout): { load: number; memory: number; filesystems: number; networks: number; end: number } {
  const load = layout.cpus * CPU_MODES.length;
  const memory = load + 3;
  const filesystems = memory + MEMORY_FIELDS.length;
  const networks = filesystems + layout.filesystems.length * FS_FIELDS.length;
  return { load, memory, filesystems, networks, end: networks + layout.networks.length * NET_FIELDS.length };
}

/** The inventory read once. */
export interface HostInventory {
  readonly cpuModel: string;
  readonly cpuVendor: string;
  readonly cpuCores: number;
  readonly systemVendor: string;
  readonly systemModel: string;
  readonly osPlatform: string;
  readonly osDistro: string;
  readonly osRelease: string;
  readonly arch: string;
}

/** A request to the worker. */
export interface SysinfoRequest {
  readonly id: number;
  readonly op: 'sample' | 'inventory';
  /** For 'sample': the layout Larder already has (its labels are not sent again); 0 = none. */
  readonly layout?: number;
}

/** Its answer. */
export type SysinfoReply =
  | { readonly id: number; readonly ok: true; readonly result: ShapedSample | HostInventory }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The main side's message to the relay thread that lets go of the helper: the relay ends it and exits once it is reaped. */
export const RELAY_STOP = { relayStop: true } as const;

/** Sent once by the helper when it is loaded and listening. */
export interface SysinfoReady {
  readonly ready: true;
}

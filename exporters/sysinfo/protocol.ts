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

/** One reading of everything the fallback host collectors report. */
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
}

/** Its answer. */
export type SysinfoReply =
  | { readonly id: number; readonly ok: true; readonly result: HostSample | HostInventory }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Sent once by the helper when it is loaded and listening. */
export interface SysinfoReady {
  readonly ready: true;
}

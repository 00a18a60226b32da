/** `node_pressure_*_seconds_total` from /proc/pressure (pressure stall information, Linux 4.20+). */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { parsePressure } from './procfs/pressure.js';
import { readOptional } from './procfs/read.js';

/** node_exporter's `pressure` collector; exposes nothing on kernels without PSI. */
export const pressureCollector: CollectorDefinition = {
  name: 'pressure',
  defaultEnabled: true,
  create(ctx) {
    const c = (name: string, help: string): ConstMetric => new ConstMetric(ctx.registry, { name, help, type: 'counter' });
    const cpuWaiting = c('node_pressure_cpu_waiting_seconds_total', 'Total time in seconds that processes have waited for CPU time');
    const ioWaiting = c('node_pressure_io_waiting_seconds_total', 'Total time in seconds that processes have waited due to IO congestion');
    const ioStalled = c('node_pressure_io_stalled_seconds_total', 'Total time in seconds no process could make progress due to IO congestion');
    const memWaiting = c('node_pressure_memory_waiting_seconds_total', 'Total time in seconds that processes have waited for memory');
    const memStalled = c('node_pressure_memory_stalled_seconds_total', 'Total time in seconds no process could make progress due to memory congestion');
    const irqStalled = c('node_pressure_irq_stalled_seconds_total', 'Total time in seconds no process could make progress due to IRQ congestion');
    const one = (m: ConstMetric, v: number | undefined): void => m.set(v === undefined ? [] : [{ labels: {}, value: v }]);
    return {
      async update() {
        const read = async (r: string): Promise<ReturnType<typeof parsePressure>> => {
          const text = await readOptional(ctx.options.procfs, 'pressure', r);
          return text === undefined ? {} : parsePressure(text);
        };
        const [cpu, io, memory, irq] = await Promise.all([read('cpu'), read('io'), read('memory'), read('irq')]);
        one(cpuWaiting, cpu.some);
        one(ioWaiting, io.some);
        one(ioStalled, io.full);
        one(memWaiting, memory.some);
        one(memStalled, memory.full);
        one(irqStalled, irq.full);
      },
    };
  },
};

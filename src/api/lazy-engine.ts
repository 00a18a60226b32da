/**
 * A QueryEngine whose module is loaded on the first query: the PromQL parser and
 * evaluator stay out of a Larder's memory until someone asks it something.
 */
import type { QueryEngine } from '../../query/types.js';

/** Delegates every call to the engine `load` resolves, loading it once, on first use. */
export function lazyEngine(load: () => Promise<QueryEngine>): QueryEngine {
  let engine: Promise<QueryEngine> | undefined;
  const get = (): Promise<QueryEngine> => (engine ??= load());
  return {
    instant: async (...a) => (await get()).instant(...a),
    range: async (...a) => (await get()).range(...a),
    series: async (...a) => (await get()).series(...a),
    labelNames: async (...a) => (await get()).labelNames(...a),
    labelValues: async (...a) => (await get()).labelValues(...a),
  };
}

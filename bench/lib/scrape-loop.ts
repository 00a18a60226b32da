/** A /metrics scraper for the benchmarks: the latency a Prometheus would see while a bench runs. */

/** Fetches `url` in a loop, `pauseMs` apart, until stopped; `stop()` resolves with the latencies in ms. */
export function scrapeLoop(url: string, pauseMs: number): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await (await fetch(url)).text();
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

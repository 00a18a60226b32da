/** PromQL helpers for the definitions: every selector carries the job and instance matchers. */

/** `metric{job=~"$job",instance=~"$instance",<extra>}`. */
export function sel(metric: string, extra = ''): string {
  return `${metric}{job=~"$job",instance=~"$instance"${extra === '' ? '' : `,${extra}`}}`;
}

/** `rate(<selector>[$__rate_interval])`. */
export function rate(metric: string, extra = ''): string {
  return `rate(${sel(metric, extra)}[$__rate_interval])`;
}

/** `histogram_quantile(q, sum by (le, <by>) (rate(<base>_bucket[$__rate_interval])))`. */
export function quantile(q: number, base: string, by: readonly string[]): string {
  return `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (${rate(`${base}_bucket`)}))`;
}

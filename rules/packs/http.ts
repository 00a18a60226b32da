/**
 * The HTTP pack: the express middleware's metrics (exporters/http/middleware.ts):
 * `http_requests_total{method,route,status_code}` and the histogram
 * `http_request_duration_seconds` with the same labels.
 */
import { alert, num, pct, secs, type RulePack } from '../model.js';

export const httpPack: RulePack = {
  name: 'http',
  group: 'larder-http',
  title: 'HTTP',
  about: 'A service instrumented with Larder\'s express middleware (`larder.http()`): its 5xx ratio and the latency of each route.',
  alerts: [
    alert({
      name: 'HttpHighServerErrorRatio',
      severity: 'critical',
      for: '5m',
      params: { threshold: { default: 0.05, unit: 'ratio', help: 'share of requests answered 5xx above which it fires', min: 0, max: 1 } },
      expr: (p) => `(
  sum without (method, route, status_code) (rate(http_requests_total{status_code=~"5.."}[5m]))
/
  sum without (method, route, status_code) (rate(http_requests_total[5m]))
) > ${num(p.threshold)}`,
      summary: () => '{{ $labels.job }} on {{ $labels.instance }} answers many requests with a server error.',
      description: (p) => `{{ $value | humanizePercentage }} of the requests to {{ $labels.job }} on {{ $labels.instance }} got a 5xx answer over the last 5 minutes (threshold ${pct(p.threshold)}).`,
      meaning: 'Users see errors: the service fails requests it should answer (an exception, a dependency down, a timeout).',
      action: 'Split by route and status (`sum by (route, status_code) (rate(http_requests_total{status_code=~"5.."}[5m]))`), read the service\'s error log, and check the DbHighErrorRatio and RedisHighErrorRatio alerts.',
    }),
    alert({
      name: 'HttpSlowRoute',
      severity: 'warning',
      for: '10m',
      params: { threshold: { default: 1, unit: 'seconds', help: 'p95 latency of a route above which it fires', min: 0, max: 3600 } },
      expr: (p) => `histogram_quantile(0.95, sum without (method, status_code) (rate(http_request_duration_seconds_bucket[5m]))) > ${num(p.threshold)}`,
      summary: () => 'Route {{ $labels.route }} of {{ $labels.job }} on {{ $labels.instance }} is slow.',
      description: (p) => `95% of the requests to {{ $labels.route }} of {{ $labels.job }} on {{ $labels.instance }} take up to {{ $value | humanizeDuration }} (threshold ${secs(p.threshold)}).`,
      meaning: 'One route answers slowly for most of its users, not just the odd request.',
      action: 'Check what the route waits on: database (DbSlowQueries), Redis (RedisSlowCommands), the event loop (NodejsEventLoopLagHigh), or an outside API.',
    }),
  ],
};

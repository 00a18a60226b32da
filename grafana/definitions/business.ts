/** Business: the business-metrics API's counters (the seed's registrations, recipes, searches) and engagement. */
import type { DashboardDef, PanelDef } from '../model.js';
import { rate, sel } from './promql.js';

/** A business counter as a rate over time and a total over the dashboard's range. */
function counter(metric: string, what: string, by?: string): PanelDef[] {
  return [
    {
      title: `${what} per minute`,
      description: `${what} per minute${by ? `, by ${by}` : ''} (the rate of \`${metric}\`).`,
      type: 'timeseries', unit: 'short', min: 0, width: 16,
      prometheus: [{ expr: by ? `sum by (${by}) (${rate(metric)}) * 60` : `sum(${rate(metric)}) * 60`, legend: by ? `{{${by}}}` : what }],
      sql: [{ kind: 'rate', metrics: [metric], scale: 60, ...(by ? { by: [by], legend: `{{${by}}}` } : { legend: what }) }],
    },
    {
      title: `${what}, total over the range`,
      description: `How many ${what.toLowerCase()} in the selected time range (the increase of \`${metric}\`).`,
      type: 'stat', unit: 'short', width: 8, height: 8, reduce: 'sum',
      // Prometheus: one value for the whole range; SQL: the per-bucket increases, added by the panel.
      prometheus: [{ expr: `sum(increase(${sel(metric)}[$__range]))` }],
      sql: [{ kind: 'increase', metrics: [metric] }],
    },
  ];
}

const TOTALS = ['User registrations, total over the range', 'Recipes created, total over the range', 'Searches, total over the range'];

export const BUSINESS: DashboardDef = {
  key: 'business',
  title: 'Larder / Business',
  description: 'What the business-metrics API holds: registrations, recipes created, searches, engagement.',
  tags: ['business'],
  variableMetric: 'user_registrations_total',
  rows: [
    { title: 'Registrations', panels: counter('user_registrations_total', 'User registrations') },
    { title: 'Recipes', panels: counter('recipes_created_total', 'Recipes created', 'category') },
    { title: 'Searches', panels: counter('searches_total', 'Searches', 'kind') },
    {
      title: 'Engagement',
      panels: [
        {
          title: 'Engagement score',
          description: 'The engagement score the service reports (its own definition).',
          type: 'timeseries', unit: 'short', width: 24,
          prometheus: [{ expr: `avg(${sel('user_engagement_score')})`, legend: 'score' }],
          sql: [{ kind: 'gauge', metrics: ['user_engagement_score'], agg: 'avg', legend: 'score' }],
        },
      ],
    },
  ],
  lint: {
    'target-rate-interval-rule': {
      reason: 'A total over the selected range is increase over $__range by definition; $__rate_interval would count a window, not the range.',
      panels: TOTALS,
    },
  },
};

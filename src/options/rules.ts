/** Options of the rule evaluator (docs/alerting.md): which rule files, how often, and Prometheus' alerting timings. */
import { defineOptions, duration, showDuration } from './option.js';

/** Most rule-file patterns; a pattern is at most 4096 characters. */
const MAX_PATTERNS = 256;

/**
 * Rule-file paths or globs: one string (a flag or variable; the flag may repeat, the
 * variable separates them by commas) or a list (the config file).
 */
export function ruleFileList(raw: unknown): readonly string[] {
  const items = Array.isArray(raw) ? raw : String(raw).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length > MAX_PATTERNS) throw new Error(`expected at most ${MAX_PATTERNS} rule files or globs`);
  return Object.freeze(
    items.map((v) => {
      if (typeof v !== 'string' || v.trim() === '' || v.length > 4096) throw new Error(`expected file paths or globs, got ${JSON.stringify(v)}`);
      return v.trim();
    }),
  );
}

export const rulesOptions = defineOptions({
  files: {
    flag: 'rules.file',
    env: ['LARDER_RULES_FILE'],
    default: Object.freeze([]) as readonly string[],
    help: 'Prometheus rule file to evaluate (a path or a glob such as rules/*.yml); repeat the flag for more, or separate them by commas in the variable',
    parse: ruleFileList,
    show: (v: readonly string[]) => (v.length > 0 ? v.join(',') : 'none'),
    repeatable: true,
  },
  evaluationInterval: {
    flag: 'rules.evaluation-interval',
    env: ['LARDER_RULES_EVALUATION_INTERVAL'],
    default: 60_000,
    help: "how often a rule group without its own interval is evaluated (Prometheus' global evaluation_interval)",
    parse: duration({ min: 1000, max: 86_400_000 }),
    show: showDuration,
  },
  alertResendDelay: {
    flag: 'rules.alert-resend-delay',
    env: ['LARDER_RULES_ALERT_RESEND_DELAY'],
    default: 60_000,
    help: 'least time between two sends of the same firing alert to the notifiers',
    parse: duration({ min: 0, max: 86_400_000 }),
    show: showDuration,
  },
  forOutageTolerance: {
    flag: 'rules.for-outage-tolerance',
    env: ['LARDER_RULES_FOR_OUTAGE_TOLERANCE'],
    default: 3_600_000,
    help: "longest Larder may have been down and still restore an alert's 'for' state from ALERTS_FOR_STATE",
    parse: duration({ min: 0, max: 31 * 86_400_000 }),
    show: showDuration,
  },
  forGracePeriod: {
    flag: 'rules.for-grace-period',
    env: ['LARDER_RULES_FOR_GRACE_PERIOD'],
    default: 600_000,
    help: "least time an alert with a 'for' at least this long still waits after a restart before it fires",
    parse: duration({ min: 0, max: 31 * 86_400_000 }),
    show: showDuration,
  },
});

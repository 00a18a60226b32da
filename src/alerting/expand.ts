/**
 * Expanding a rule's label and annotation templates for one alert, with the data
 * Prometheus gives them: `.Labels` / `$labels`, `.Value` / `$value`, `.ExternalLabels`
 * / `$externalLabels`, `.ExternalURL` / `$externalURL`.
 */
import type { Labels } from '../../storage/store.js';
import type { Template } from './template.js';
import { TemplateError } from './template-error.js';

/** What a template sees. */
export interface TemplateContext {
  readonly labels: Labels;
  readonly value: number;
  readonly externalLabels: Labels;
  readonly externalURL: string;
}

/**
 * The expansion of `t`; an error at run time becomes the text Prometheus puts in its
 * place, `<error expanding template: …>`, so one bad annotation does not stop the alert.
 */
export function expandTemplate(t: Template, ctx: TemplateContext, what: string): string {
  try {
    const dot = { Labels: ctx.labels, Value: ctx.value, ExternalLabels: ctx.externalLabels, ExternalURL: ctx.externalURL };
    return t.execute(dot, { $labels: ctx.labels, $value: ctx.value, $externalLabels: ctx.externalLabels, $externalURL: ctx.externalURL });
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return `<error expanding template: error executing template ${what}: ${e.message}>`;
  }
}

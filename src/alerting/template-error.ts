/** A rule template that failed to parse or to run; `message` reads like Go's text/template. */
export class TemplateError extends Error {}

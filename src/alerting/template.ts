/**
 * The subset of Go's text/template that Prometheus rule labels and annotations use
 * (docs/alerting.md lists it): text, `{{ pipeline }}` with `|`, `{{- -}}` trimming,
 * comments, `$variables` (`$labels`, `$value`, `$externalLabels`, `$externalURL` and
 * `:=` / `=`), `.Field` access on maps, `if`/`else if`/`else`/`with`/`range`/`end`,
 * string, number and boolean literals, and Prometheus' functions (template/funcs.ts).
 * Parsing is separate from execution so a rule file is checked once, at load.
 */
import { callFunction, formatValue, isTrue, type TValue, GoInt } from './template-funcs.js';
import { TemplateError } from './template-error.js';

export { TemplateError };

type Operand =
  | { kind: 'lit'; value: TValue }
  | { kind: 'var'; name: string; fields: string[] }
  | { kind: 'dot'; fields: string[] }
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline; fields: string[] };

interface Command {
  args: Operand[];
}

interface Pipeline {
  decl?: { names: string[]; assign: boolean };
  cmds: Command[];
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; else: Node[] };

/** Longest template text accepted. */
const MAX_TEMPLATE = 64 * 1024;
/** Most output characters of one expansion. */
const MAX_OUTPUT = 1024 * 1024;

// ---- lexing an action -------------------------------------------------------

type Tok = { t: 'str'; v: string } | { t: 'num'; v: string } | { t: 'word'; v: string } | { t: 'var'; v: string } | { t: 'field'; v: string } | { t: 'sym'; v: string };

function lexAction(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      try {
        out.push({ t: 'str', v: JSON.parse(src.slice(i, j + 1)) as string });
      } catch {
        throw new TemplateError(`invalid quoted string ${src.slice(i, j + 1)}`);
      }
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw quoted string');
      out.push({ t: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === ':' && src[i + 1] === '=') { out.push({ t: 'sym', v: ':=' }); i += 2; continue; }
    if (c === '|' || c === '(' || c === ')' || c === ',' || c === '=') { out.push({ t: 'sym', v: c }); i++; continue; }
    const m = /^(\$[A-Za-z0-9_]*|\.[A-Za-z_][A-Za-z0-9_]*|\.|[-+]?(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?)|[A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i));
    if (!m) throw new TemplateError(`unexpected ${JSON.stringify(c)} in command`);
    const w = m[1]!;
    if (w.startsWith('$')) out.push({ t: 'var', v: w });
    else if (w.startsWith('.') && w.length > 1 && !/^\.[0-9]/.test(w)) out.push({ t: 'field', v: w.slice(1) });
    else if (w === '.') out.push({ t: 'field', v: '' });
    else if (/^[-+.0-9]/.test(w)) out.push({ t: 'num', v: w });
    else out.push({ t: 'word', v: w });
    i += w.length;
    // chained fields: $labels.instance, (pipe).x
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      const f = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i))!;
      out.push({ t: 'field', v: `+${f[1]!}` });
      i += f[0].length;
    }
  }
  return out;
}

class ActionParser {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly funcs: ReadonlySet<string>, private readonly vars: Set<string>) {}

  pipeline(): Pipeline {
    let decl: Pipeline['decl'];
    const t0 = this.toks[0];
    if (t0?.t === 'var') {
      // `$x := …`, `$x = …`, `$k, $v := …` (range)
      const names: string[] = [];
      let j = 0;
      while (this.toks[j]?.t === 'var') {
        names.push(this.toks[j]!.v);
        if (this.toks[j + 1]?.t === 'sym' && this.toks[j + 1]!.v === ',') j += 2;
        else { j++; break; }
      }
      const op = this.toks[j];
      if (op?.t === 'sym' && (op.v === ':=' || op.v === '=')) {
        decl = { names, assign: op.v === '=' };
        this.i = j + 1;
        for (const n of names) {
          if (decl.assign && !this.vars.has(n)) throw new TemplateError(`undefined variable "${n}"`);
          this.vars.add(n);
        }
      }
    }
    const p = this.pipe(decl);
    if (this.i < this.toks.length) throw new TemplateError(`unexpected ${describe(this.toks[this.i]!)} in command`);
    return p;
  }

  private pipe(decl: Pipeline['decl'], inParen = false): Pipeline {
    const cmds: Command[] = [];
    for (;;) {
      const args: Operand[] = [];
      while (this.i < this.toks.length) {
        const t = this.toks[this.i]!;
        if (t.t === 'sym' && (t.v === '|' || t.v === ')')) break;
        args.push(this.operand());
      }
      if (args.length === 0) throw new TemplateError(cmds.length === 0 ? 'missing value for command' : 'missing command after |');
      if (args.length > 1 && args[0]!.kind !== 'ident') throw new TemplateError(`can't give argument to non-function ${show(args[0]!)}`);
      cmds.push({ args });
      const t = this.toks[this.i];
      if (t?.t === 'sym' && t.v === '|') { this.i++; continue; }
      if (t?.t === 'sym' && t.v === ')' && !inParen) throw new TemplateError('unexpected right paren');
      break;
    }
    return decl ? { decl, cmds } : { cmds };
  }

  private fields(): string[] {
    const out: string[] = [];
    while (this.toks[this.i]?.t === 'field' && this.toks[this.i]!.v.startsWith('+')) out.push(this.toks[this.i++]!.v.slice(1));
    return out;
  }

  private operand(): Operand {
    const t = this.toks[this.i++]!;
    switch (t.t) {
      case 'str':
        return { kind: 'lit', value: t.v };
      case 'num': {
        const isInt = /^[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(t.v);
        return { kind: 'lit', value: isInt ? new GoInt(Number(t.v)) : Number(t.v) };
      }
      case 'var':
        if (!this.vars.has(t.v)) throw new TemplateError(`undefined variable "${t.v}"`);
        return { kind: 'var', name: t.v, fields: this.fields() };
      case 'field':
        return { kind: 'dot', fields: t.v === '' ? this.fields() : [t.v.replace(/^\+/, ''), ...this.fields()] };
      case 'word':
        if (t.v === 'true' || t.v === 'false') return { kind: 'lit', value: t.v === 'true' };
        if (t.v === 'nil') throw new TemplateError('nil is not a command');
        if (!this.funcs.has(t.v)) throw new TemplateError(`function "${t.v}" not defined`);
        return { kind: 'ident', name: t.v };
      case 'sym':
        if (t.v === '(') {
          const p = this.pipe(undefined, true);
          const close = this.toks[this.i++];
          if (close?.t !== 'sym' || close.v !== ')') throw new TemplateError('unclosed left paren');
          return { kind: 'pipe', pipe: p, fields: this.fields() };
        }
        throw new TemplateError(`unexpected ${JSON.stringify(t.v)} in operand`);
    }
  }
}

function describe(t: Tok): string {
  return t.t === 'str' ? `quoted string ${JSON.stringify(t.v)}` : `"${t.v.replace(/^\+/, '.')}"`;
}

function show(o: Operand): string {
  switch (o.kind) {
    case 'lit': return typeof o.value === 'string' ? JSON.stringify(o.value) : formatValue(o.value);
    case 'var': return [o.name, ...o.fields].join('.');
    case 'dot': return `.${o.fields.join('.')}`;
    case 'ident': return o.name;
    case 'pipe': return '(…)';
  }
}

// ---- parsing the whole template --------------------------------------------

/** A parsed template, ready to run many times. */
export class Template {
  private constructor(private readonly nodes: Node[], readonly source: string) {}

  /**
   * Parses `text` as a template in which `predefined` variables exist (e.g. `$labels`);
   * throws TemplateError with Go's wording on bad syntax or an unknown function.
   */
  static parse(text: string, funcs: ReadonlySet<string>, predefined: readonly string[]): Template {
    if (text.length > MAX_TEMPLATE) throw new TemplateError(`template is ${text.length} characters long, more than the ${MAX_TEMPLATE} allowed`);
    const vars = new Set(['$', ...predefined]);
    type Frame = { kind: 'root' } | { kind: 'if' | 'with' | 'range'; node: Node & { kind: 'if' | 'with' | 'range' }; inElse: boolean; chain: number };
    const root: Node[] = [];
    const stack: { frame: Frame; list: Node[] }[] = [{ frame: { kind: 'root' }, list: root }];
    let pos = 0;
    let trimNext = false;
    const top = (): { frame: Frame; list: Node[] } => stack[stack.length - 1]!;
    while (pos <= text.length) {
      const open = text.indexOf('{{', pos);
      let chunk = open < 0 ? text.slice(pos) : text.slice(pos, open);
      if (trimNext) chunk = chunk.replace(/^\s+/, '');
      trimNext = false;
      let trimLeft = false;
      if (open >= 0 && text[open + 2] === '-' && /\s/.test(text[open + 3] ?? '')) trimLeft = true;
      if (trimLeft) chunk = chunk.replace(/\s+$/, '');
      if (chunk !== '') top().list.push({ kind: 'text', text: chunk });
      if (open < 0) break;
      const bodyStart = open + 2 + (trimLeft ? 1 : 0);
      // find the closing }} outside quotes
      let j = bodyStart;
      let quote = '';
      for (; j < text.length; j++) {
        const c = text[j]!;
        if (quote !== '') {
          if (c === '\\' && quote === '"') j++;
          else if (c === quote) quote = '';
        } else if (c === '"' || c === '`') quote = c;
        else if (c === '}' && text[j + 1] === '}') break;
      }
      if (j >= text.length) throw new TemplateError('unclosed action');
      let body = text.slice(bodyStart, j);
      if (/\s-$/.test(body)) {
        body = body.slice(0, -1);
        trimNext = true;
      }
      pos = j + 2;
      const trimmed = body.trim();
      if (trimmed.startsWith('/*')) {
        if (!trimmed.endsWith('*/')) throw new TemplateError('unclosed comment');
        continue;
      }
      const kw = /^(if|else|end|with|range|define|template|block|break|continue)\b/.exec(trimmed)?.[1];
      const parsePipe = (src: string): Pipeline => {
        const toks = lexAction(src);
        if (toks.length === 0) throw new TemplateError(`missing value for ${kw ?? 'command'}`);
        return new ActionParser(toks, funcs, vars).pipeline();
      };
      if (kw === undefined) {
        if (trimmed === '') throw new TemplateError('missing value for command');
        top().list.push({ kind: 'action', pipe: parsePipe(trimmed) });
        continue;
      }
      const rest = trimmed.slice(kw.length);
      if (kw === 'if' || kw === 'with' || kw === 'range') {
        const node: Node & { kind: 'if' | 'with' | 'range' } =
          kw === 'range' ? { kind: 'range', pipe: parsePipe(rest), body: [], else: [] } : { kind: kw, pipe: parsePipe(rest), then: [], else: [] };
        top().list.push(node);
        stack.push({ frame: { kind: kw, node, inElse: false, chain: 0 }, list: kw === 'range' ? (node as { body: Node[] }).body : (node as { then: Node[] }).then });
      } else if (kw === 'else') {
        const f = top().frame;
        if (f.kind === 'root' || f.inElse) throw new TemplateError('unexpected {{else}}');
        f.inElse = true;
        const elseList = f.node.else;
        const chained = /^\s*(if|with)\b/.exec(rest);
        if (chained) {
          // `else if …` is an if nested in the else branch, closed by the same {{end}}
          const inner: Node & { kind: 'if' | 'with' } = { kind: chained[1] as 'if' | 'with', pipe: parsePipe(rest.slice(chained[0].length)), then: [], else: [] };
          elseList.push(inner);
          stack.pop();
          stack.push({ frame: { kind: inner.kind, node: inner, inElse: false, chain: f.chain + 1 }, list: inner.then });
        } else {
          if (rest.trim() !== '') throw new TemplateError(`unexpected ${JSON.stringify(rest.trim())} in else`);
          stack[stack.length - 1] = { frame: f, list: elseList };
        }
      } else if (kw === 'end') {
        if (rest.trim() !== '') throw new TemplateError(`unexpected ${JSON.stringify(rest.trim())} in end`);
        const f = top().frame;
        if (f.kind === 'root') throw new TemplateError('unexpected {{end}}');
        stack.pop();
      } else {
        throw new TemplateError(`{{${kw}}} is not supported in rule templates`);
      }
    }
    if (stack.length > 1) throw new TemplateError(`unexpected EOF`);
    return new Template(root, text);
  }

  /** Runs the template with `dot` as `.` and the given variables; throws TemplateError. */
  execute(dot: TValue, vars: Readonly<Record<string, TValue>>): string {
    const scope = new Map<string, TValue>(Object.entries(vars));
    scope.set('$', dot);
    const out: string[] = [];
    let size = 0;
    const emit = (s: string): void => {
      size += s.length;
      if (size > MAX_OUTPUT) throw new TemplateError(`output longer than ${MAX_OUTPUT} characters`);
      out.push(s);
    };
    runNodes(this.nodes, dot, scope, emit, 0);
    return out.join('');
  }
}

/** Most loop iterations of one expansion (a range over a huge map). */
const MAX_ITERATIONS = 100_000;

function runNodes(nodes: readonly Node[], dot: TValue, scope: Map<string, TValue>, emit: (s: string) => void, depth: number): void {
  if (depth > 100) throw new TemplateError('exceeded maximum template depth (100)');
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        emit(n.text);
        break;
      case 'action': {
        const v = runPipe(n.pipe, dot, scope);
        if (!n.pipe.decl) emit(formatValue(v));
        break;
      }
      case 'if':
      case 'with': {
        const v = runPipe(n.pipe, dot, scope);
        if (isTrue(v)) runNodes(n.then, n.kind === 'with' ? v : dot, scope, emit, depth + 1);
        else runNodes(n.else, dot, scope, emit, depth + 1);
        break;
      }
      case 'range': {
        const v = runPipe({ cmds: n.pipe.cmds }, dot, scope);
        const entries: [TValue, TValue][] =
          Array.isArray(v) ? v.map((x, i) => [new GoInt(i), x as TValue]) : v !== null && typeof v === 'object' && !(v instanceof GoInt) ? Object.keys(v).sort().map((k) => [k, (v as Record<string, TValue>)[k]!]) : [];
        if (v !== null && typeof v !== 'object') throw new TemplateError(`range can't iterate over ${formatValue(v)}`);
        if (entries.length > MAX_ITERATIONS) throw new TemplateError(`range over more than ${MAX_ITERATIONS} elements`);
        if (entries.length === 0) runNodes(n.else, dot, scope, emit, depth + 1);
        for (const [k, x] of entries) {
          const names = n.pipe.decl?.names ?? [];
          if (names.length === 1) scope.set(names[0]!, x);
          if (names.length === 2) { scope.set(names[0]!, k); scope.set(names[1]!, x); }
          runNodes(n.body, x, scope, emit, depth + 1);
        }
        break;
      }
    }
  }
}

function field(v: TValue, name: string): TValue {
  if (v === null || typeof v !== 'object' || v instanceof GoInt || Array.isArray(v)) throw new TemplateError(`can't evaluate field ${name} in type ${typeName(v)}`);
  const x = (v as Record<string, TValue>)[name];
  // a missing map key is the zero value, which Go prints as <no value>
  return x === undefined ? null : x;
}

function typeName(v: TValue): string {
  if (v === null) return 'interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return 'int';
  return 'map[string]string';
}

function runPipe(p: Pipeline, dot: TValue, scope: Map<string, TValue>): TValue {
  let prev: TValue | undefined;
  for (const c of p.cmds) prev = runCommand(c, dot, scope, prev);
  const v = prev ?? null;
  if (p.decl) for (const n of p.decl.names) scope.set(n, v);
  return v;
}

function evalOperand(o: Operand, dot: TValue, scope: Map<string, TValue>): TValue {
  switch (o.kind) {
    case 'lit':
      return o.value;
    case 'var': {
      let v = scope.get(o.name) ?? null;
      for (const f of o.fields) v = field(v, f);
      return v;
    }
    case 'dot': {
      let v = dot;
      for (const f of o.fields) v = field(v, f);
      return v;
    }
    case 'ident':
      return callFunction(o.name, []);
    case 'pipe': {
      let v = runPipe(o.pipe, dot, scope);
      for (const f of o.fields) v = field(v, f);
      return v;
    }
  }
}

function runCommand(c: Command, dot: TValue, scope: Map<string, TValue>, prev: TValue | undefined): TValue {
  const head = c.args[0]!;
  if (head.kind === 'ident') {
    const args = c.args.slice(1).map((a) => evalOperand(a, dot, scope));
    if (prev !== undefined) args.push(prev);
    return callFunction(head.name, args);
  }
  if (prev !== undefined) throw new TemplateError(`can't give argument to non-function ${show(head)}`);
  return evalOperand(head, dot, scope);
}

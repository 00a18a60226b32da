/**
 * PromQL regexes are Go RE2, fully anchored, with `.` matching newlines. JavaScript
 * lacks some RE2 syntax: inline flags (`(?i)`, `(?i:…)`), `(?P<name>…)`, `\z`, `\A`.
 * This rewrites them into equivalent JavaScript (case-insensitivity by expanding letters).
 */

/** A JavaScript RegExp for an RE2 pattern, anchored at both ends. Throws SyntaxError when invalid. */
export function compileAnchored(pattern: string): RegExp {
  return new RegExp(`^(?:${translate(pattern)})$`, 's');
}

function caseBoth(c: string): string {
  const lo = c.toLowerCase();
  const up = c.toUpperCase();
  return lo === up ? c : `${lo}${up}`;
}

/** RE2 → JavaScript source. */
export function translate(re: string): string {
  let out = '';
  // Case-insensitivity per open group; index 0 is the whole pattern.
  const ci: boolean[] = [false];
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    const fold = ci[ci.length - 1]!;
    if (c === '\\') {
      const n = re[i + 1] ?? '';
      i++;
      if (!inClass && n === 'z') out += '$(?![\\s\\S])';
      else if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'Q') {
        const end = re.indexOf('\\E', i + 1);
        const lit = end < 0 ? re.slice(i + 1) : re.slice(i + 1, end);
        out += lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
        i = end < 0 ? re.length : end + 1;
      } else if (fold && /[a-zA-Z]/.test(n) && !/[dDwWsSbBpPnrtfvx0-9]/.test(n)) out += inClass ? caseBoth(n) : `[${caseBoth(n)}]`;
      else out += `\\${n}`;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      if (c === '[' && re[i + 1] === ':') {
        const end = re.indexOf(':]', i);
        if (end > 0) {
          out += posixClass(re.slice(i + 2, end));
          i = end + 1;
          continue;
        }
      }
      out += fold && /[a-zA-Z]/.test(c) && re[i + 1] !== '-' && re[i - 1] !== '-' ? caseBoth(c) : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (re[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (re[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(') {
      const flags = /^\(\?([imsU-]+)(\)|:)/.exec(re.slice(i));
      if (flags !== null) {
        const on = flags[1]!.split('-')[0]!.includes('i');
        const off = (flags[1]!.split('-')[1] ?? '').includes('i');
        const value = on ? true : off ? false : fold;
        if (flags[2] === ')') {
          // `(?i)` applies to the rest of the enclosing group.
          ci[ci.length - 1] = value;
        } else {
          ci.push(value);
          out += '(?:';
        }
        i += flags[0].length - 1;
        continue;
      }
      if (re.startsWith('(?P<', i)) {
        out += '(?<';
        i += 3;
      } else out += '(';
      ci.push(fold);
      continue;
    }
    if (c === ')') {
      if (ci.length > 1) ci.pop();
      out += ')';
      continue;
    }
    out += fold && /[a-zA-Z]/.test(c) ? `[${caseBoth(c)}]` : c;
  }
  return out;
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-/:-@[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

function posixClass(name: string): string {
  const p = POSIX[name];
  if (p === undefined) throw new SyntaxError(`invalid character class range: [:${name}:]`);
  return p;
}

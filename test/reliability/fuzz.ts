/**
 * Inputs for the hostile-input fuzz runs: a seeded generator (the same seed gives the
 * same run, so a failure can be replayed) and mutations of valid inputs.
 */

/** A seeded pseudo-random source (mulberry32). */
export class Rng {
  constructor(private state: number) {}

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let x = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One of the items. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A string of `n` characters drawn from `alphabet`. */
  string(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

/** Characters that matter to the exposition, the YAML and the URL grammars, plus some that should not appear. */
export const NASTY = '{}[]()"\'\\\n\r\t #:=,.-+_/?&%*!|>@`$~^0123456789aeEinfINFNaxyz_\u0000\u00e9\u2028\ud83d\ude00\ufffd';

/** A few characters inserted, removed, repeated or swapped, or a piece of another input spliced in. */
export function mutate(rng: Rng, text: string, donors: readonly string[]): string {
  let s = text;
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(s.length + 1);
    switch (rng.int(8)) {
      case 0:
        s = s.slice(0, at) + rng.string(1 + rng.int(4), NASTY) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + rng.int(8));
        break;
      case 2: {
        const piece = s.slice(at, at + 1 + rng.int(40));
        s = s.slice(0, at) + piece.repeat(2 + rng.int(50)) + s.slice(at);
        break;
      }
      case 3: {
        const donor = rng.pick(donors);
        const from = rng.int(donor.length + 1);
        s = s.slice(0, at) + donor.slice(from, from + rng.int(80)) + s.slice(at);
        break;
      }
      case 4:
        s = s.slice(0, at) + 'x'.repeat(rng.pick([100, 1000, 70_000])) + s.slice(at);
        break;
      case 5:
        s = s.slice(0, at);
        break;
      case 6: {
        const lines = s.split('\n');
        const i = rng.int(lines.length);
        lines.splice(i, 0, ...Array<string>(1 + rng.int(20)).fill(lines[rng.int(lines.length)] ?? ''));
        s = lines.join('\n');
        break;
      }
      default:
        s = s.slice(0, at) + String.fromCharCode(rng.int(0x3000)) + s.slice(at + 1);
    }
  }
  return s;
}

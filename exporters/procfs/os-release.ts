/** Parser of os-release(5). */

/** Parses `KEY=value` lines; values may be double- or single-quoted with shell escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) {
      v = v.slice(1, -1);
      if (m[2]!.startsWith('"')) v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]!] = v;
  }
  return out;
}

/** The leading `major.minor` of VERSION_ID as a number (`12` → 12, `22.04` → 22.04); NaN when none. */
export function osVersionNumber(versionId: string): number {
  const m = /^(\d+(?:\.\d+)?)/.exec(versionId);
  return m ? Number(m[1]) : NaN;
}

#!/usr/bin/env node
// Passes tap's TAP output through and ends with the plain count CI reads:
// "N passed, N failed, N skipped", taken from tap's closing `# { total, pass, fail, ... }`
// line, which counts every assertion in every file. No closing line means tap itself
// died, which counts as a failure.
let tail = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk).slice(-65536);
});
process.stdin.on('end', () => {
  const lines = tail.split('\n').filter((l) => /^# \{ total: \d+/.test(l));
  const last = lines.at(-1);
  if (!last) {
    process.stdout.write('\n0 passed, 1 failed, 0 skipped\n');
    return;
  }
  const field = (name) => Number((new RegExp(`\\b${name}: (\\d+)`).exec(last) ?? [])[1] ?? 0);
  const skipped = field('skip') + field('todo');
  process.stdout.write(`\n${field('pass')} passed, ${field('fail')} failed, ${skipped} skipped\n`);
});

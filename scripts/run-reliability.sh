#!/usr/bin/env bash
# The long form of the reliability suite (test/reliability/): more kills, longer
# stalls, a soak. Prints every figure the tests report at the end, then the count.
set -o pipefail
cd "$(dirname "$0")/.."
figures=$(mktemp)
export RELIABILITY=long RELIABILITY_FIGURES="$figures"
# The test files only: the folder also holds their helpers (crash-child.ts, fuzz.ts, …),
# which tap would run as tests if given the folder.
npx tap --reporter=tap --timeout=7200 --jobs=1 test/reliability/*.test.ts "$@" | node scripts/tap-count.mjs > "$figures.out"
status=$?
grep -v '^[0-9]* passed, ' "$figures.out"
echo
echo "== reliability figures =="
cat "$figures"
tail -n1 "$figures.out"
rm -f "$figures" "$figures.out"
exit "$status"

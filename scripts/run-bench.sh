#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its figures and ratios against a
# baseline measured in the same run). Name some to run only those: run-bench.sh scrape
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
files=(bench/*.bench.ts)
if [ $# -gt 0 ]; then files=(); for n in "$@"; do files+=("bench/$n.bench.ts"); done; fi
for f in "${files[@]}"; do
  echo "== $f"
  node --import @tapjs/typescript/import "$f"
done

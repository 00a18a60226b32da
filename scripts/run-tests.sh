#!/usr/bin/env bash
# Runs every tap test and ends with the plain "N passed, N failed" line.
# Exit status is tap's, so a failure fails `make test` and CI.
set -o pipefail
cd "$(dirname "$0")/.."
npx tap --reporter=tap "$@" | node scripts/tap-count.mjs

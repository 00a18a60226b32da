#!/usr/bin/env bash
# PromQL's own test corpus through Larder's engine: passed / failed / skipped per file
# and totals. PROMQLTEST_DIALECTS=sqlite,postgresql adds PostgreSQL (127.0.0.1:5432);
# PROMQLTEST_EXPERIMENTAL=1 also runs the experimental functions the engine implements;
# arguments: file names (default all), -v to list every failure and skip with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import @tapjs/typescript/import test/query/run-promqltest.ts "$@"

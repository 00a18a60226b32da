#!/usr/bin/env bash
# Bytes written per row by write designs on the stack's floor (bench/lib/stack-floor.mjs,
# docs/cost.md "The stack's floor"): each variant started together in its own temp folder,
# write_bytes of /proc/<pid>/io and the rows committed over MEASURE_SECONDS after
# WARMUP_SECONDS. Each argument is name|ENV=value ...:
#
#   scripts/floor-writes.sh 'rows' 'rows-4|FLOOR_COMMIT_TICKS=4' 'packed|FLOOR_LAYOUT=packed'
#   (WARMUP_SECONDS=60 MEASURE_SECONDS=600)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build # the floor imports Larder's V8 setting from dist/
WARM=${WARMUP_SECONDS:-60}
MEAS=${MEASURE_SECONDS:-600}
dir=$(mktemp -d "${TMPDIR:-/tmp}/larder-floor.XXXXXX")
port=$((19600 + RANDOM % 300))
pids=() names=() ports=()
for spec in "$@"; do
  name=${spec%%|*}
  envs=${spec#"$name"}
  envs=${envs#|}
  port=$((port + 1))
  # shellcheck disable=SC2086 # the variables are split on purpose
  env MALLOC_TRIM_THRESHOLD_=131072 $envs node bench/lib/stack-floor.mjs "$port" "$dir/$name.db" &
  pids+=($!) names+=("$name") ports+=("$port")
done
trap 'kill "${pids[@]}" 2>/dev/null || true; wait; rm -rf "$dir"' EXIT
written() { awk '/^write_bytes:/ {print $2}' "/proc/$1/io"; }
rows() { curl -s "http://127.0.0.1:$1/metrics" | awk '/^floor_samples_written_total / {print $2}'; }
sleep "$WARM"
declare -a w0 r0
for i in "${!pids[@]}"; do w0[i]=$(written "${pids[i]}"); r0[i]=$(rows "${ports[i]}"); done
sleep "$MEAS"
echo "$(date -u +%H:%M) UTC, load $(cut -d' ' -f1 /proc/loadavg), $MEAS s after $WARM s:"
for i in "${!pids[@]}"; do
  w=$(( $(written "${pids[i]}") - w0[i] ))
  r=$(awk -v a="$(rows "${ports[i]}")" -v b="${r0[i]}" 'BEGIN {print a - b}')
  awk -v n="${names[i]}" -v w="$w" -v r="$r" 'BEGIN {printf "  %s: %d bytes for %d rows, %.1f bytes a row\n", n, w, r, (r > 0 ? w / r : 0)}'
done

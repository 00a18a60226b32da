#!/usr/bin/env bash
# Side-by-side CPU and RSS of `larder serve` variants started together (docs/cost.md):
# each on SQLite in its own temp folder with the cost bench's settings (collect and record
# every 15 s), after WARMUP_SECONDS, over MEASURE_SECONDS: CPU as time on a CPU from
# /proc/<pid>/task/*/schedstat (nanoseconds, every thread; the main thread apart), the
# 10 ms ticks of /proc/<pid>/task/*/stat beside it, and the median VmRSS of a sample every 5 s.
#
#   scripts/ab-serve.sh 'before|dist-before/src/cli.js serve' 'after|dist/src/cli.js serve' \
#                       'norules|dist/src/cli.js serve --rules.bundled=false'
#   (WARMUP_SECONDS=60 MEASURE_SECONDS=180; each argument is name|command, the command
#   gets --listen=127.0.0.1:<port> added)
set -euo pipefail
WARM=${WARMUP_SECONDS:-60}
MEAS=${MEASURE_SECONDS:-180}
dir=$(mktemp -d "${TMPDIR:-/tmp}/larder-ab.XXXXXX")
port=$((19400 + RANDOM % 500))
pids=()
names=()
for spec in "$@"; do
  name=${spec%%|*}
  cmd=${spec#*|}
  # a relative program path is taken from here, not from the variant's folder
  prog=${cmd%% *}
  [ "${prog#/}" = "$prog" ] && [ -e "$prog" ] && cmd="$PWD/$cmd"
  mkdir -p "$dir/$name"
  port=$((port + 1))
  # shellcheck disable=SC2086 # the command is split on purpose
  (cd "$dir/$name" && MONITORING_DB=sqlite SQLITE_DB_PATH="$dir/$name/monitoring.db" LARDER_SPOOL_PATH="$dir/$name/spool.db" \
    LARDER_COLLECT_INTERVAL=15s LARDER_RECORD_INTERVAL=15s exec $cmd "--listen=127.0.0.1:$port" >out.log 2>err.log) &
  pids+=($!)
  names+=("$name")
done
trap 'kill "${pids[@]}" 2>/dev/null || true; wait; rm -rf "$dir"' EXIT

ticks() { local t=0 f s; for f in /proc/$1/task/*/stat; do s=$(cat "$f" 2>/dev/null) || continue; s=${s##*) }; set -- $s; t=$((t + ${12} + ${13})); done; echo $t; }
cpuns() { local t=0 f a; for f in /proc/$1/task/*/schedstat; do read -r a _ < "$f" 2>/dev/null || continue; t=$((t + a)); done; echo $t; }
mainns() { local a; read -r a _ < "/proc/$1/task/$1/schedstat"; echo "$a"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

sleep "$WARM"
for i in "${!pids[@]}"; do
  kill -0 "${pids[$i]}" 2>/dev/null || { echo "${names[$i]} exited early:" >&2; cat "$dir/${names[$i]}/err.log" >&2; exit 1; }
done
load0=$(cut -d' ' -f1 /proc/loadavg)
declare -A t0 c0 m0 rss
for p in "${pids[@]}"; do t0[$p]=$(ticks "$p"); c0[$p]=$(cpuns "$p"); m0[$p]=$(mainns "$p"); rss[$p]=""; done
for _ in $(seq 1 $((MEAS / 5))); do
  sleep 5
  for p in "${pids[@]}"; do rss[$p]="${rss[$p]} $(awk '/VmRSS/ {print $2}' "/proc/$p/status")"; done
done
echo "$(date -u +%H:%M:%S) UTC, load $load0 -> $(cut -d' ' -f1 /proc/loadavg), ${MEAS} s after ${WARM} s:"
for i in "${!pids[@]}"; do
  p=${pids[$i]}
  # shellcheck disable=SC2086 # the samples are a word list
  echo "  ${names[$i]}: $(( ($(cpuns "$p") - c0[$p]) / 1000000 )) ms on a CPU (main thread $(( ($(mainns "$p") - m0[$p]) / 1000000 ))), $(( $(ticks "$p") - t0[$p] )) ticks, RSS median $(median ${rss[$p]}) kB"
done

#!/usr/bin/env bash
# Installs the Debian packages the tests use as real peers (Prometheus and promtool,
# prometheus-node-exporter, Alertmanager, the sqlite3, psql and redis-cli command-line tools, chromium for the
# built-in page's browser tests, curl for the README's query examples) when they are
# missing and we may install them. Without root the tests that need them skip,
# unless REQUIRE_* makes them fail.
set -u
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v psql >/dev/null || need+=(postgresql-client)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v chromium >/dev/null || need+=(chromium)
command -v curl >/dev/null || need+=(curl)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: missing ${need[*]} (not root or no apt-get); tests needing them will skip" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null

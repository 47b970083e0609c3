#!/usr/bin/env bash
# Benchmark: generate configurations of N local_secret resources that refer
# to each other, apply them once, then measure a no-op `keyform plan`:
# wall time and peak memory (from /usr/bin/time, or Python's resource module).
#
#   bench/noop-plan.sh --profile release --sizes "1000 10000 50000"
#   bench/noop-plan.sh --binary target/debug/keyform --sizes 1000   # no build
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
sizes="1000 10000 50000"
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    *) echo "usage: $0 [--profile debug|release] [--sizes \"1000 10000\"] [--binary PATH (skips the build)]" >&2; exit 2 ;;
  esac
done
# shellcheck source=bench/measure.sh
source bench/measure.sh
binary=$(keyform_binary "$profile" "$binary")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT


printf '%-10s %-12s %-14s %-14s\n' resources apply_s noop_plan_s peak_rss_mb
for size in $sizes; do
  folder="$work/size-$size"
  mkdir -p "$folder"
  {
    echo 'resource "local_key" "main" {'
    echo '  description = "benchmark key"'
    echo '}'
    echo ''
    echo 'resource "local_secret" "first" {'
    echo '  name  = "secret-first"'
    echo '  value = generate({ length = 24 })'
    echo '  key   = local_key.main.id'
    echo '}'
    echo ''
    echo 'resource "local_secret" "many" {'
    echo "  count       = $size"
    echo '  name        = "secret-${count.index}"'
    echo '  description = "depends on ${local_secret.first.name}"'
    echo '  value       = generate({ length = 24 })'
    echo '  key         = local_key.main.id'
    echo '}'
  } > "$folder/main.hcl"
  (cd "$folder" && "$binary" init > /dev/null)
  apply=$(cd "$folder" && measure "$binary" apply --auto-approve --parallelism 16)
  plan=$(cd "$folder" && measure "$binary" plan --detailed-exitcode)
  seconds=${plan% *}
  peak_kib=${plan#* }
  printf '%-10s %-12s %-14s %-14s\n' "$size" "${apply% *}" "$seconds" "$((peak_kib / 1024))"
done

#!/usr/bin/env bash
# Benchmark against moto server: a configuration of N aws_kms_key and N
# aws_secretsmanager_secret (each secret encrypted with one of the keys, its
# value from generate()), applied once, then a no-op `keyform plan
# --detailed-exitcode` (must exit 0: the second plan is empty), then destroyed.
# Prints the apply and no-op plan wall times and each run's peak RSS.
#
# moto: $KEYFORM_TEST_AWS_ENDPOINT (source .tools/services.env), or, if unset,
# a moto server of its own from .tools/venv (scripts/services install) on a
# free port, stopped at the end. Every name and tag carries a unique prefix,
# so a shared moto is safe. moto does not throttle, so the provider block
# raises the rate limits (rate_limits = { "*" = "1000" }).
#
#   bench/aws-bulk.sh --profile release --count 200
#   bench/aws-bulk.sh --binary target/debug/keyform --count 3    # no build
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/measure.sh
source bench/measure.sh
bulk_arguments "$@"
binary=$(keyform_binary "$profile" "$binary")

work=$(mktemp -d)
moto_pid=""
cleanup() {
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

endpoint="${KEYFORM_TEST_AWS_ENDPOINT:-}"
if [ -z "$endpoint" ]; then
  moto_server="$PWD/.tools/venv/bin/moto_server"
  if [ ! -x "$moto_server" ]; then
    echo "$moto_server is missing: run scripts/services install (or set KEYFORM_TEST_AWS_ENDPOINT)" >&2
    exit 1
  fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  "$moto_server" -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
  moto_pid=$!
  endpoint="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$endpoint/moto-api/" 2>/dev/null; then break; fi
    if ! kill -0 "$moto_pid" 2>/dev/null; then cat "$work/moto.log" >&2; echo "moto_server exited" >&2; exit 1; fi
    sleep 0.2
  done
  curl -fsS -o /dev/null "$endpoint/moto-api/" || { echo "moto_server at $endpoint does not answer" >&2; exit 1; }
fi


prefix="kfbench-$(date +%s)-$$"
folder="$work/config"
mkdir -p "$folder"
cat > "$folder/main.hcl" <<EOF
provider "aws" {
  region       = "us-east-1"
  endpoint_url = "$endpoint"
  access_key   = "testing"
  secret_key   = env("KF_BENCH_SECRET_KEY")
  rate_limits  = { "*" = "1000" }
}

resource "aws_kms_key" "bench" {
  count                   = $count
  description             = "$prefix key \${count.index}"
  deletion_window_in_days = 7
  tags = {
    bench = "$prefix"
  }
}

resource "aws_secretsmanager_secret" "bench" {
  count                   = $count
  name                    = "$prefix-secret-\${count.index}"
  kms_key_id              = aws_kms_key.bench[count.index].arn
  value                   = generate({ length = 24 })
  recovery_window_in_days = 0
  tags = {
    bench = "$prefix"
  }
}
EOF
export KF_BENCH_SECRET_KEY=testing
(cd "$folder" && "$binary" init > /dev/null)
destroy() {
  (cd "$folder" && "$binary" destroy --auto-approve --parallelism "$parallelism" > "$work/destroy.log" 2>&1) \
    || { tail -20 "$work/destroy.log" >&2; echo "destroy failed: objects with prefix $prefix may remain at $endpoint" >&2; }
}
apply=$(cd "$folder" && measure "$binary" apply --auto-approve --parallelism "$parallelism") || { destroy; exit 1; }
plan=$(cd "$folder" && measure "$binary" plan --detailed-exitcode --parallelism "$parallelism") || { echo "the no-op plan was not empty (or failed)" >&2; destroy; exit 1; }
destroy_start=$(date +%s.%N)
destroy
destroy_seconds=$(python3 -c "import time; print(f'{time.time() - $destroy_start:.3f}')")

echo "moto: $endpoint; $count aws_kms_key + $count aws_secretsmanager_secret; --parallelism $parallelism; binary: $binary"
printf '%-10s %-10s %-14s %-18s %-22s %-12s\n' resources apply_s noop_plan_s apply_peak_rss_mb noop_plan_peak_rss_mb destroy_s
printf '%-10s %-10s %-14s %-18s %-22s %-12s\n' "$((count * 2))" "${apply% *}" "${plan% *}" \
  "$(( ${apply#* } / 1024 ))" "$(( ${plan#* } / 1024 ))" "$destroy_seconds"

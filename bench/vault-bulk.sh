#!/usr/bin/env bash
# Benchmark against OpenBao (the Vault API): a configuration of one KV v2
# mount, N vault_kv_secret_v2 (each value from generate() through a
# local_secret) and N vault_policy, applied once, then a no-op `keyform plan
# --detailed-exitcode` (must exit 0: the second plan is empty), then
# destroyed. Prints the apply and no-op plan wall times and peak RSS.
#
# OpenBao: $KEYFORM_TEST_VAULT_ADDR and $KEYFORM_TEST_VAULT_TOKEN, as
# `scripts/services start && source .tools/services.env` set them. Every path
# and name carries a unique prefix, so a shared server is safe.
#
#   bench/vault-bulk.sh --profile release --count 200
#   bench/vault-bulk.sh --binary target/release/keyform --count 200   # no build
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/measure.sh
source bench/measure.sh
bulk_arguments "$@"
if [ -z "${KEYFORM_TEST_VAULT_ADDR:-}" ] || [ -z "${KEYFORM_TEST_VAULT_TOKEN:-}" ]; then
  echo "KEYFORM_TEST_VAULT_ADDR and KEYFORM_TEST_VAULT_TOKEN are not set: run scripts/services start && source .tools/services.env" >&2
  exit 1
fi
binary=$(keyform_binary "$profile" "$binary")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="kfbench-$(date +%s)-$$"
folder="$work/config"
mkdir -p "$folder"
cat > "$folder/main.hcl" <<EOF
provider "vault" {
  address = "$KEYFORM_TEST_VAULT_ADDR"
  token   = env("KF_BENCH_VAULT_TOKEN")
}

resource "vault_mount" "bench" {
  path = "$prefix"
  type = "kv-v2"
}

resource "local_key" "bench" {
  description = "protects the generated values"
}

resource "local_secret" "bench" {
  count = $count
  name  = "$prefix-\${count.index}"
  value = generate({ length = 24 })
  key   = local_key.bench.id
}

resource "vault_kv_secret_v2" "bench" {
  count     = $count
  mount     = vault_mount.bench.path
  name      = "app/\${count.index}"
  data_json = jsonencode({ password = local_secret.bench[count.index].value })
}

resource "vault_policy" "bench" {
  count  = $count
  name   = "$prefix-\${count.index}"
  policy = <<-EOT
    path "$prefix/data/app/\${count.index}" {
      capabilities = ["read"]
    }
  EOT
}
EOF
export KF_BENCH_VAULT_TOKEN="$KEYFORM_TEST_VAULT_TOKEN"
(cd "$folder" && "$binary" init > /dev/null)
destroy() {
  (cd "$folder" && "$binary" destroy --auto-approve --parallelism "$parallelism" > "$work/destroy.log" 2>&1) \
    || { tail -20 "$work/destroy.log" >&2; echo "destroy failed: objects with prefix $prefix may remain" >&2; }
}
apply=$(cd "$folder" && measure "$binary" apply --auto-approve --parallelism "$parallelism") || { destroy; exit 1; }
plan=$(cd "$folder" && measure "$binary" plan --detailed-exitcode --parallelism "$parallelism") || { echo "the no-op plan was not empty (or failed)" >&2; destroy; exit 1; }
destroy

echo "OpenBao: $KEYFORM_TEST_VAULT_ADDR; 1 vault_mount + $count vault_kv_secret_v2 + $count vault_policy (+ $count local_secret); --parallelism $parallelism"
printf '%-10s %-10s %-14s %-18s %-22s\n' resources apply_s noop_plan_s apply_peak_rss_mb noop_plan_peak_rss_mb
printf '%-10s %-10s %-14s %-18s %-22s\n' "$((count * 3 + 2))" "${apply% *}" "${plan% *}" \
  "$(( ${apply#* } / 1024 ))" "$(( ${plan#* } / 1024 ))"

# A KV v2 engine, a policy that lets an application read its secrets, and
# one secret whose value comes from the environment.
#
#   export VAULT_ADDR=https://vault.example.com:8200
#   export VAULT_TOKEN=...            # a token that may manage mounts and policies
#   export APP_DB_PASSWORD=...        # the value to store; never written to state
#   keyform init && keyform apply

provider "vault" {
  # address and token default to VAULT_ADDR and VAULT_TOKEN.
}

resource "vault_mount" "apps" {
  path                      = "apps"
  type                      = "kv-v2"
  description               = "application secrets"
  default_lease_ttl_seconds = "1h"
  max_lease_ttl_seconds     = "24h"
}

resource "vault_policy" "app_read" {
  name   = "app-read"
  policy = <<-EOT
    path "apps/data/app/*" {
      capabilities = ["read"]
    }

    path "apps/metadata/app/*" {
      capabilities = ["list", "read"]
    }
  EOT
}

resource "vault_kv_secret_v2" "database" {
  mount = vault_mount.apps.path
  name  = "app/database"
  data_json = jsonencode({
    username = "app"
    password = env("APP_DB_PASSWORD")
  })
}

# An AppRole a CI system logs in with: its tokens carry `app-read` and live one hour.
resource "vault_auth_backend" "approle" {
  type        = "approle"
  description = "machine logins"
}

resource "vault_approle_auth_backend_role" "ci" {
  backend        = vault_auth_backend.approle.path
  role_name      = "ci"
  token_policies = [vault_policy.app_read.name]
  token_ttl      = "1h"
  token_max_ttl  = "4h"
  secret_id_ttl  = "24h"
}

output "ci_role_id" {
  value = vault_approle_auth_backend_role.ci.role_id
}

# Just-in-time PostgreSQL credentials: a database secrets engine whose `app`
# role makes a database user that lives one hour each time it is read, a
# policy that may read those credentials, an AppRole a CI system logs in
# with, bound to that policy, and a KV v2 engine holding a value keyform
# generates.
#
#   export VAULT_ADDR=https://vault.example.com:8200
#   export VAULT_TOKEN=...            # a token that may manage mounts, policies and auth methods
#   export APP_DB_PASSWORD=...        # the password of the PostgreSQL user Vault connects as;
#                                     # sent to Vault, never written to state
#   export KEYFORM_VAR_postgres_address=db.example.com:5432
#   export KEYFORM_VAR_postgres_admin_user=vault_admin
#   keyform init && keyform apply
#
# Then, as the CI system: log in with the AppRole and read database/creds/app.

variable "postgres_address" {
  type        = string
  default     = "127.0.0.1:5432"
  description = "HOST:PORT of the PostgreSQL server Vault makes users on"
}

variable "postgres_admin_user" {
  type        = string
  default     = "vault_admin"
  description = "the PostgreSQL user Vault connects as; it must be allowed to create roles (CREATEROLE)"
}

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

# A value keyform generates: kept encrypted by the embedded local provider
# (its key is made by `keyform init`), and written to Vault for the application.
resource "local_key" "example" {
  description = "protects the values this example generates"
}

resource "local_secret" "session_key" {
  name  = "app-session-key"
  value = generate({ length = 48, special = false })
  key   = local_key.example.id
}

resource "vault_kv_secret_v2" "session" {
  mount = vault_mount.apps.path
  name  = "app/session"
  data_json = jsonencode({
    signing_key = local_secret.session_key.value
  })
}

# Dynamic PostgreSQL credentials: each read of database/creds/app makes a
# user that PostgreSQL drops when its one-hour lease ends or is revoked.
resource "vault_mount" "database" {
  path        = "database"
  type        = "database"
  description = "short-lived PostgreSQL users"
}

resource "vault_database_secret_backend_connection" "postgres" {
  backend       = vault_mount.database.path
  name          = "postgres"
  allowed_roles = ["app"]

  postgresql {
    connection_url = "postgresql://{{username}}:{{password}}@${var.postgres_address}/postgres"
    username       = var.postgres_admin_user
    password       = env("APP_DB_PASSWORD")
  }
}

resource "vault_database_secret_backend_role" "app" {
  backend = vault_mount.database.path
  name    = "app"
  db_name = vault_database_secret_backend_connection.postgres.name
  creation_statements = [
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
  ]
  default_ttl = "1h"
  max_ttl     = "24h"
}

resource "vault_policy" "app_database" {
  name   = "app-database"
  policy = <<-EOT
    path "${vault_mount.database.path}/creds/${vault_database_secret_backend_role.app.name}" {
      capabilities = ["read"]
    }
  EOT
}

# An AppRole a CI system logs in with: its tokens may read the application's
# KV secrets and its database credentials, and live one hour.
resource "vault_auth_backend" "approle" {
  type        = "approle"
  description = "machine logins"
}

resource "vault_approle_auth_backend_role" "ci" {
  backend        = vault_auth_backend.approle.path
  role_name      = "ci"
  token_policies = [vault_policy.app_read.name, vault_policy.app_database.name]
  token_ttl      = "1h"
  token_max_ttl  = "4h"
  secret_id_ttl  = "24h"
}

output "ci_role_id" {
  value = vault_approle_auth_backend_role.ci.role_id
}

# The quickstart: keys and secrets on the embedded local provider.
# No cloud account and no server: run `keyform init`, then `keyform apply`.

resource "local_key" "main" {
  description             = "protects the quickstart's secrets"
  deletion_window_in_days = 7

  rotation {
    every = "90d"
  }
}

resource "local_secret" "api_token" {
  name  = "api-token"
  value = generate({ length = 40, special = false })
  key   = local_key.main.id

  rotation {
    every = "30d"
    grace = "1d"
  }
}

resource "local_secret" "db_password" {
  name        = "db-password"
  description = "the application's database password"
  value       = generate({ length = 32, special = true })
  key         = local_key.main.id
}

output "key_id" {
  value = local_key.main.id
}

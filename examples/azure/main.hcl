# A production vault: 90 days of soft delete and purge protection, so nothing
# in it can be lost for good by mistake; an RSA signing key that Azure rotates
# every year; a database password keyform generates and never stores.
#
# Against a real subscription:  export ARM_CLIENT_SECRET=...; keyform init;
#                               keyform apply --var tenant_id=... --var subscription_id=... --var client_id=...
# Against the test server:      see docs/providers/azure.md.

variable "tenant_id" {
  description = "the Entra ID tenant of the subscription and of the vault"
  type        = string
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "subscription_id" {
  description = "the subscription that holds the vault"
  type        = string
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "client_id" {
  description = "the service principal keyform signs in as (its secret comes from ARM_CLIENT_SECRET)"
  type        = string
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "vault_name" {
  description = "the vault's globally unique name"
  type        = string
  default     = "payments-prod-kv"
}

variable "cloud" {
  description = "the cloud's endpoints: Azure's public cloud, a sovereign cloud, or the test server"
  type = object({
    authority_host   = string
    resource_manager = string
    key_vault_suffix = string
  })
  default = {
    authority_host   = "https://login.microsoftonline.com/"
    resource_manager = "https://management.azure.com/"
    key_vault_suffix = "vault.azure.net"
  }
}

provider "azurerm" {
  tenant_id       = var.tenant_id
  subscription_id = var.subscription_id
  client_id       = var.client_id
  client_secret   = env("ARM_CLIENT_SECRET")

  environment {
    authority_host   = var.cloud.authority_host
    resource_manager = var.cloud.resource_manager
    key_vault_suffix = var.cloud.key_vault_suffix
  }

  features {
    key_vault {
      # Destroying keeps everything soft-deleted for the retention period.
      purge_soft_delete_on_destroy          = false
      purge_soft_deleted_keys_on_destroy    = false
      purge_soft_deleted_secrets_on_destroy = false
      # Declaring a soft-deleted name again brings it back instead of failing.
      recover_soft_deleted_key_vaults = true
      recover_soft_deleted_keys       = true
      recover_soft_deleted_secrets    = true
    }
  }
}

resource "azurerm_key_vault" "payments" {
  name                       = var.vault_name
  location                   = "westeurope"
  resource_group_name        = "payments-prod"
  tenant_id                  = var.tenant_id
  sku_name                   = "premium"
  soft_delete_retention_days = 90
  purge_protection_enabled   = true
  rbac_authorization_enabled = true

  tags = {
    team = "payments"
  }
}

resource "azurerm_key_vault_key" "signing" {
  key_vault_id = azurerm_key_vault.payments.id
  name         = "payments-signing"
  key_type     = "RSA"
  key_size     = 3072
  key_opts     = ["sign", "verify"]

  rotation_policy {
    expire_after         = "P13M"
    notify_before_expiry = "P30D"

    automatic {
      time_after_creation = "P1Y"
    }
  }
}

resource "azurerm_key_vault_secret" "database_password" {
  key_vault_id = azurerm_key_vault.payments.id
  name         = "database-password"
  value        = generate({ length = 32, special = true })
  content_type = "password"
}

output "vault_uri" {
  value = azurerm_key_vault.payments.vault_uri
}

output "signing_key_id" {
  value = azurerm_key_vault_key.signing.id
}

//! [`Kind`]: keys or secrets, what differs between them (path segment, feature
//! flags), and the data-plane calls soft delete needs on either (read,
//! read the soft-deleted object, soft-delete, purge, recover), each sent to
//! the key or the secret client of the object's vault. A 404 from a delete,
//! a purge or a recover means it is done already. **A secret's value is
//! dropped from every answer at once.**

use super::connection::Connection;
use super::data_plane::{done_or_gone, found};
use super::ids::ObjectId;
use super::settings::KeyVaultFeatures;
use super::{keys, secrets};
use crate::provider::{Attributes, LiveObject, ProviderError};

/// Keys or secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    Secret,
}

impl Kind {
    /// The path segment of the data plane: `keys` or `secrets`.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Key => "keys",
            Kind::Secret => "secrets",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Kind::Key => "key",
            Kind::Secret => "secret",
        }
    }

    /// The feature flag that turns recovery on.
    pub fn recover_flag(self) -> &'static str {
        match self {
            Kind::Key => "recover_soft_deleted_keys",
            Kind::Secret => "recover_soft_deleted_secrets",
        }
    }

    /// Whether a create of a soft-deleted name recovers it.
    pub fn recovers(self, features: &KeyVaultFeatures) -> bool {
        match self {
            Kind::Key => features.recover_soft_deleted_keys,
            Kind::Secret => features.recover_soft_deleted_secrets,
        }
    }

    /// Whether a destroy purges (where the vault allows it).
    pub fn purges(self, features: &KeyVaultFeatures) -> bool {
        match self {
            Kind::Key => features.purge_soft_deleted_keys_on_destroy,
            Kind::Secret => features.purge_soft_deleted_secrets_on_destroy,
        }
    }

    /// GET /{keys,secrets}/NAME: the active object of that name, as JSON (a secret without its value).
    pub async fn get(
        self,
        connection: &Connection,
        object: &ObjectId,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        let id = object.versionless(self.collection());
        match self {
            Kind::Key => {
                let client = connection.key_client(&object.vault_uri)?;
                found(client.get_key(&object.name, None).await, "keys:get", &id)
            }
            Kind::Secret => {
                let client = connection.secret_client(&object.vault_uri)?;
                found(client.get_secret(&object.name, None).await, "secrets:get", &id).map(secrets::without_value)
            }
        }
    }

    /// GET /deleted{keys,secrets}/NAME: the soft-deleted object of that name, as JSON (a secret without its value).
    pub async fn get_deleted(
        self,
        connection: &Connection,
        object: &ObjectId,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        let id = object.versionless(self.collection());
        match self {
            Kind::Key => {
                let client = connection.key_client(&object.vault_uri)?;
                found(client.get_deleted_key(&object.name, None).await, "deletedkeys:get", &id)
            }
            Kind::Secret => {
                let client = connection.secret_client(&object.vault_uri)?;
                found(
                    client.get_deleted_secret(&object.name, None).await,
                    "deletedsecrets:get",
                    &id,
                )
                .map(secrets::without_value)
            }
        }
    }

    /// The object as keyform attributes.
    pub async fn live_object(
        self,
        connection: &Connection,
        object: &ObjectId,
        found: &serde_json::Value,
        prior: &Attributes,
    ) -> Result<LiveObject, ProviderError> {
        match self {
            Kind::Key => keys::live_object(connection, object, found, prior).await,
            Kind::Secret => secrets::live_object(connection, object, found, prior).await,
        }
    }

    /// The versionless ids of a vault's active objects.
    pub async fn ids_in(self, connection: &Connection, vault_uri: &str) -> Result<Vec<String>, ProviderError> {
        match self {
            Kind::Key => keys::ids_in(&*connection.key_client(vault_uri)?, vault_uri).await,
            Kind::Secret => secrets::ids_in(&*connection.secret_client(vault_uri)?, vault_uri).await,
        }
    }

    /// DELETE /{keys,secrets}/NAME (a soft delete).
    pub async fn soft_delete(self, connection: &Connection, object: &ObjectId) -> Result<(), ProviderError> {
        let id = object.versionless(self.collection());
        match self {
            Kind::Key => {
                let client = connection.key_client(&object.vault_uri)?;
                done_or_gone(client.delete_key(&object.name, None).await, "keys:delete", &id)
            }
            Kind::Secret => {
                let client = connection.secret_client(&object.vault_uri)?;
                done_or_gone(client.delete_secret(&object.name, None).await, "secrets:delete", &id)
            }
        }
    }

    /// DELETE /deleted{keys,secrets}/NAME (a purge).
    pub async fn purge(self, connection: &Connection, object: &ObjectId) -> Result<(), ProviderError> {
        let id = object.versionless(self.collection());
        match self {
            Kind::Key => {
                let client = connection.key_client(&object.vault_uri)?;
                done_or_gone(
                    client.purge_deleted_key(&object.name, None).await,
                    "deletedkeys:purge",
                    &id,
                )
            }
            Kind::Secret => {
                let client = connection.secret_client(&object.vault_uri)?;
                done_or_gone(
                    client.purge_deleted_secret(&object.name, None).await,
                    "deletedsecrets:purge",
                    &id,
                )
            }
        }
    }

    /// POST /deleted{keys,secrets}/NAME/recover (a secret's answer holds no value, and is dropped unread).
    pub async fn recover_deleted(self, connection: &Connection, object: &ObjectId) -> Result<(), ProviderError> {
        let id = object.versionless(self.collection());
        match self {
            Kind::Key => {
                let client = connection.key_client(&object.vault_uri)?;
                done_or_gone(
                    client.recover_deleted_key(&object.name, None).await,
                    "deletedkeys:recover",
                    &id,
                )
            }
            Kind::Secret => {
                let client = connection.secret_client(&object.vault_uri)?;
                done_or_gone(
                    client.recover_deleted_secret(&object.name, None).await,
                    "deletedsecrets:recover",
                    &id,
                )
            }
        }
    }
}

//! Addresses of objects inside a secrets engine, `BACKEND/KIND/NAME` as in
//! Terraform (`pki/roles/web`, `transit/keys/kek`, `pki/issuer/ID`,
//! `db/config/pg`); [`EngineObject`], a kind of such object (its engine
//! type, path segment and label): its addresses, its errors, and listing it
//! across every engine of the type; and [`address_of_request`], which
//! address any type's apply request acts on.

use super::client::{VaultClient, already_exists, clean_name, clean_path, missing_after_write};
use crate::provider::{ApplyAction, ApplyRequest, Attributes, ProviderError};

/// An object at `BACKEND/KIND/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnginePath {
    pub backend: String,
    /// The path segment before the name (`roles`, `keys`, `issuer`).
    pub kind: &'static str,
    pub name: String,
}

impl EnginePath {
    /// `backend` and the attribute `name_field` of a configuration; the name may not contain `/`.
    pub fn from_attributes(
        attributes: &Attributes,
        kind: &'static str,
        name_field: &str,
    ) -> Result<EnginePath, ProviderError> {
        let field = |name: &str| attributes.get(name).and_then(serde_json::Value::as_str).unwrap_or("");
        let name = clean_name(name_field, field(name_field))?;
        Ok(EnginePath {
            backend: clean_path("backend", field("backend"))?,
            kind,
            name,
        })
    }

    /// Parses `BACKEND/KIND/NAME`; `label` names the type in the error.
    pub fn from_id(id: &str, kind: &'static str, label: &str) -> Result<EnginePath, ProviderError> {
        let (backend, name) = id
            .trim()
            .trim_matches('/')
            .rsplit_once(&format!("/{kind}/"))
            .ok_or_else(|| {
                ProviderError::new(
                    "InvalidId",
                    format!("`{id}` is not a {label} id: write it as BACKEND/{kind}/NAME"),
                )
            })?;
        Ok(EnginePath {
            backend: clean_path("backend", backend)?,
            kind,
            name: clean_path("name", name)?,
        })
    }

    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.backend, self.kind, self.name)
    }
}

/// The address an apply request acts on: from the attributes for a create (or a request without
/// an id), from the id otherwise.
pub fn address_of_request<A>(
    request: &ApplyRequest,
    from_attributes: impl FnOnce(&Attributes) -> Result<A, ProviderError>,
    from_id: impl FnOnce(&str) -> Result<A, ProviderError>,
) -> Result<A, ProviderError> {
    match (&request.action, &request.id) {
        (ApplyAction::Create { .. }, _) | (_, None) => from_attributes(&request.attributes),
        (_, Some(id)) => from_id(id),
    }
}

impl super::role_fields::RoleAddress for EnginePath {
    fn backend(&self) -> &str {
        &self.backend
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn id(&self) -> String {
        EnginePath::id(self)
    }
}

/// A kind of object of an engine type, at `BACKEND/SEGMENT/NAME`, named by its `name` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineObject {
    /// The engine type (`pki`, `transit`, `database`).
    pub engine: &'static str,
    /// The path segment before the name (`roles`, `keys`, `config`).
    pub segment: &'static str,
    /// How messages name it: "PKI role".
    pub label: &'static str,
}

impl EngineObject {
    /// The address from the configured `backend` and `name`.
    pub fn address(self, attributes: &Attributes) -> Result<EnginePath, ProviderError> {
        EnginePath::from_attributes(attributes, self.segment, "name")
    }

    /// The address of an id `BACKEND/SEGMENT/NAME`.
    pub fn address_of_id(self, id: &str) -> Result<EnginePath, ProviderError> {
        EnginePath::from_id(id, self.segment, self.label)
    }

    /// The address of an apply request ([`address_of_request`]).
    pub fn address_of(self, request: &ApplyRequest) -> Result<EnginePath, ProviderError> {
        address_of_request(
            request,
            |attributes| self.address(attributes),
            |id| self.address_of_id(id),
        )
    }

    /// The error of a create that finds an object keyform did not make at `address`.
    pub fn already_exists(self, address: &EnginePath) -> ProviderError {
        already_exists(self.label, &address.id(), "name")
    }

    /// The error of an object that a write did not leave behind.
    pub fn missing_after_write(self, address: &EnginePath) -> ProviderError {
        missing_after_write(self.label, &address.id())
    }

    /// Ids of every object of this kind in every engine of its type.
    pub async fn list(self, client: &VaultClient) -> Result<Vec<String>, ProviderError> {
        list_ids(client, self.engine, self.segment, self.segment).await
    }
}

/// Ids `BACKEND/KIND/NAME` of the names LIST `BACKEND/LISTING` returns, in every engine of type `engine`.
pub async fn list_ids(
    client: &VaultClient,
    engine: &str,
    listing: &str,
    kind: &'static str,
) -> Result<Vec<String>, ProviderError> {
    let mut ids = Vec::new();
    for (backend, found, _) in super::mount::mounts(client).await? {
        if found != engine {
            continue;
        }
        for name in client.list_keys(&format!("{backend}/{listing}")).await? {
            ids.push(
                EnginePath {
                    backend: backend.clone(),
                    kind,
                    name,
                }
                .id(),
            );
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::EnginePath;

    #[test]
    fn ids_round_trip() {
        let path = EnginePath::from_id("team/transit/keys/orders", "keys", "transit key").expect("id");
        assert_eq!(path.backend, "team/transit");
        assert_eq!(path.name, "orders");
        assert_eq!(path.id(), "team/transit/keys/orders");
        let error = EnginePath::from_id("transit/orders", "keys", "transit key").expect_err("no kind");
        assert!(error.message.contains("BACKEND/keys/NAME"), "{}", error.message);
        let attributes = serde_json::json!({ "backend": "pki", "name": "a/b" });
        assert!(EnginePath::from_attributes(attributes.as_object().expect("object"), "roles", "name").is_err());
    }
}

//! Addresses of objects inside a secrets engine, `BACKEND/KIND/NAME` as in
//! Terraform (`pki/roles/web`, `transit/keys/kek`, `pki/issuer/ID`), and
//! listing them across every engine of a type, and the errors and deletes
//! the PKI and transit types share.

use super::client::{Method, VaultClient, api_error, clean_path};
use crate::provider::{Attributes, ProviderError};

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
        let name = clean_path(name_field, field(name_field))?;
        if name.contains('/') {
            return Err(ProviderError::new(
                "InvalidParameter",
                format!("{name_field} `{name}` must not contain `/`"),
            ));
        }
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

/// The error of a create that finds an object keyform did not make at `id` (`label` names the type).
pub fn already_exists(label: &str, id: &str, name_field: &str) -> ProviderError {
    ProviderError::new(
        "AlreadyExists",
        format!("{label} `{id}` already exists and keyform did not create it"),
    )
    .with_help(format!(
        "import it (`keyform import ADDRESS {id}`) or choose another {name_field}"
    ))
}

/// DELETE `path`; an object already gone is no error.
pub async fn delete_path(client: &VaultClient, path: &str) -> Result<(), ProviderError> {
    let answer = client.send(Method::Delete, path, None).await?;
    if (200..300).contains(&answer.status) || answer.status == 404 {
        Ok(())
    } else {
        Err(api_error(Method::Delete, path, &answer))
    }
}

/// The names a LIST of `path` returns; none when nothing is there.
pub async fn list_names(client: &VaultClient, path: &str) -> Result<Vec<String>, ProviderError> {
    let answer = client.send(Method::List, path, None).await?;
    if answer.status == 404 {
        return Ok(Vec::new());
    }
    if !(200..300).contains(&answer.status) {
        return Err(api_error(Method::List, path, &answer));
    }
    Ok(answer.data()["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .map(str::to_string)
        .collect())
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
        for name in list_names(client, &format!("{backend}/{listing}")).await? {
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

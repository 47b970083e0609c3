//! The embedded `local` provider: keys and secrets in an encrypted folder,
//! no cloud and no server.
//!
//! `local_key` is an AES-256-GCM key-encryption key with numbered versions;
//! `local_secret` is a named secret whose versions are envelope-encrypted: a
//! fresh data key per value, wrapped by the `local_key` version current at
//! write time. Key versions are themselves sealed under the master key.
//! **Rotating a key re-encrypts nothing, and values written under older
//! versions still decrypt. Every write is atomic (temporary file, fsync,
//! rename). Deletion is scheduled; a pending object is restored, not
//! recreated.**

mod keys;
mod schema;
mod secrets;
mod store;

use crate::provider::{
    ApplyRequest, AttributeSchema, Attributes, ConfigureRequest, FindRequest, ImportRequest, LiveObject, Provider,
    ProviderError, ReadDataRequest, ReadRequest, ReadSecretRequest, ResourceSchema,
};
use crate::secret::SensitiveString;
use async_trait::async_trait;
use std::sync::OnceLock;
use std::time::Duration;
use store::Store;

/// The environment variable that may hold the master key (base64 of 32 bytes).
pub const MASTER_KEY_VARIABLE: &str = "KEYFORM_LOCAL_MASTER_KEY";
/// Where `keyform init` puts the master key file, relative to the configuration folder.
pub const DEFAULT_MASTER_KEY_FILE: &str = ".keyform/local-master.key";
/// The default store folder, relative to the configuration folder.
pub const DEFAULT_STORE_FOLDER: &str = ".keyform/local-store";

/// The `local` provider.
pub struct LocalProvider {
    store: OnceLock<Store>,
    latency: OnceLock<Duration>,
}

impl LocalProvider {
    pub fn new() -> Self {
        LocalProvider {
            store: OnceLock::new(),
            latency: OnceLock::new(),
        }
    }

    fn store(&self) -> Result<&Store, ProviderError> {
        self.store
            .get()
            .ok_or_else(|| ProviderError::new("NotConfigured", "the local provider was used before it was configured"))
    }

    /// Waits the configured simulated latency (used by tests and benchmarks to model a remote service).
    async fn simulate_latency(&self) {
        if let Some(latency) = self.latency.get().filter(|latency| !latency.is_zero()) {
            tokio::time::sleep(*latency).await;
        }
    }

    /// Runs blocking store I/O off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(Store) -> Result<T, ProviderError> + Send + 'static,
    ) -> Result<T, ProviderError> {
        self.simulate_latency().await;
        let store = self.store()?.clone();
        tokio::task::spawn_blocking(move || work(store))
            .await
            .map_err(|error| ProviderError::new("Internal", format!("a store task failed: {error}")))?
    }
}

impl Default for LocalProvider {
    fn default() -> Self {
        LocalProvider::new()
    }
}

fn unknown_type(resource_type: &str) -> ProviderError {
    ProviderError::new(
        "UnknownType",
        format!("the local provider has no resource type `{resource_type}`"),
    )
}

#[async_trait]
impl Provider for LocalProvider {
    fn name(&self) -> &str {
        "local"
    }

    fn schema(&self) -> Vec<ResourceSchema> {
        schema::resource_schemas()
    }

    fn provider_schema(&self) -> Vec<AttributeSchema> {
        schema::provider_attributes()
    }

    fn data_schema(&self) -> Vec<ResourceSchema> {
        schema::data_schemas()
    }

    async fn read_data(&self, request: ReadDataRequest) -> Result<Attributes, ProviderError> {
        if request.data_type != "local_key" {
            return Err(unknown_type(&request.data_type));
        }
        let id = request
            .arguments
            .get("id")
            .and_then(|value| value.as_str())
            .unwrap_or_default()
            .to_string();
        let live = self.blocking(move |store| keys::read(&store, &id)).await?;
        match live {
            Some(live) if live.status == crate::provider::LiveStatus::Active => Ok(live.attributes),
            Some(_) => Err(ProviderError::new(
                "KeyUnavailable",
                "the local key is pending deletion",
            )),
            None => Err(ProviderError::new("NotFound", "no local key with this id")
                .with_help("check the id given to data \"local_key\"")),
        }
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), ProviderError> {
        let text = |name: &str| crate::provider::text_attribute(&request.attributes, name);
        let store_folder = request
            .folder
            .join(text("store").unwrap_or_else(|| DEFAULT_STORE_FOLDER.to_string()));
        let key_file = request
            .folder
            .join(text("master_key_file").unwrap_or_else(|| DEFAULT_MASTER_KEY_FILE.to_string()));
        let latency = request
            .attributes
            .get("simulated_latency_ms")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let store = tokio::task::spawn_blocking(move || Store::open(store_folder, &key_file))
            .await
            .map_err(|error| ProviderError::new("Internal", format!("opening the store failed: {error}")))??;
        let _ = self.latency.set(Duration::from_millis(latency));
        let _ = self.store.set(store);
        Ok(())
    }

    async fn read(&self, request: ReadRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            "local_key" => self.blocking(move |store| keys::read(&store, &request.id)).await,
            "local_secret" => self.blocking(move |store| secrets::read(&store, &request.id)).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn apply(&self, request: ApplyRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            "local_key" => self.blocking(move |store| keys::apply(&store, &request)).await,
            "local_secret" => self.blocking(move |store| secrets::apply(&store, &request)).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn import(&self, request: ImportRequest) -> Result<Option<LiveObject>, ProviderError> {
        self.read(ReadRequest {
            resource_type: request.resource_type,
            id: request.id,
            prior: Default::default(),
        })
        .await
    }

    async fn find_by_token(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            "local_key" => {
                self.blocking(move |store| keys::find_by_token(&store, &request.token))
                    .await
            }
            "local_secret" => {
                self.blocking(move |store| secrets::find_by_token(&store, &request))
                    .await
            }
            other => Err(unknown_type(other)),
        }
    }

    async fn lookup_existing(&self, request: FindRequest) -> Result<Option<LiveObject>, ProviderError> {
        match request.resource_type.as_str() {
            // Keys get fresh ids: nothing to collide with.
            "local_key" => Ok(None),
            "local_secret" => {
                self.blocking(move |store| secrets::lookup_by_name(&store, &request))
                    .await
            }
            other => Err(unknown_type(other)),
        }
    }

    async fn list(&self, resource_type: &str) -> Result<Vec<String>, ProviderError> {
        let kind = match resource_type {
            "local_key" => store::Kind::Key,
            "local_secret" => store::Kind::Secret,
            other => return Err(unknown_type(other)),
        };
        // Only active objects: one pending deletion is on its way out, not unmanaged.
        self.blocking(move |store| {
            let mut active = Vec::new();
            for id in store.list(kind)? {
                let live = match kind {
                    store::Kind::Key => keys::read(&store, &id)?,
                    store::Kind::Secret => secrets::read(&store, &id)?,
                };
                if live.is_some_and(|live| live.status == crate::provider::LiveStatus::Active) {
                    active.push(id);
                }
            }
            Ok(active)
        })
        .await
    }

    async fn read_secret(&self, request: ReadSecretRequest) -> Result<SensitiveString, ProviderError> {
        match (request.resource_type.as_str(), request.attribute.as_str()) {
            ("local_secret", "value") => {
                self.blocking(move |store| secrets::read_value(&store, &request.id))
                    .await
            }
            (other, attribute) => Err(ProviderError::new(
                "NotSecret",
                format!("`{other}.{attribute}` is not a secret attribute the local provider can read"),
            )),
        }
    }
}

#[cfg(test)]
mod compliance_tests {
    use super::LocalProvider;
    use crate::provider::compliance::{Subject, report, run};
    use crate::provider::{ConfigureRequest, Provider};
    use crate::secret::SensitiveString;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    async fn configured(folder: &std::path::Path) -> Arc<dyn Provider> {
        crate::secret::create_key_file(&folder.join("master.key")).expect("master key");
        let provider = LocalProvider::new();
        let mut attributes = serde_json::Map::new();
        attributes.insert("master_key_file".into(), "master.key".into());
        attributes.insert("store".into(), "store".into());
        provider
            .configure(ConfigureRequest {
                folder: folder.to_path_buf(),
                attributes,
                secrets: BTreeMap::new(),
            })
            .await
            .expect("configure");
        Arc::new(provider)
    }

    fn check(resource_type: &str, results: &[(&'static str, crate::provider::compliance::Outcome)]) {
        let (text, passed) = report(resource_type, results);
        println!("{text}");
        assert!(passed, "{text}");
        assert!(results.len() >= 12, "every case ran:\n{text}");
    }

    #[tokio::test]
    async fn local_key_passes_the_compliance_suite() {
        let folder = tempfile::tempdir().expect("folder");
        let provider = configured(folder.path()).await;
        let mut attributes = serde_json::Map::new();
        attributes.insert("description".into(), "compliance".into());
        attributes.insert("deletion_window_in_days".into(), 7.into());
        let subject = Subject {
            provider,
            resource_type: "local_key".into(),
            attributes,
            secrets: BTreeMap::new(),
            update: Some(("description".into(), "changed".into())),
            missing_id: "no-such-key".into(),
        };
        check("local_key", &run(&subject).await);
    }

    #[tokio::test]
    async fn local_secret_passes_the_compliance_suite() {
        let folder = tempfile::tempdir().expect("folder");
        let provider = configured(folder.path()).await;
        let key = provider
            .apply(crate::provider::ApplyRequest {
                resource_type: "local_key".into(),
                action: crate::provider::ApplyAction::Create {
                    token: "keytoken".into(),
                },
                id: None,
                attributes: serde_json::Map::new(),
                secrets: BTreeMap::new(),
                changed: Vec::new(),
            })
            .await
            .expect("key")
            .expect("key object");
        let mut attributes = serde_json::Map::new();
        attributes.insert("name".into(), "compliance-secret".into());
        attributes.insert("key".into(), key.id.clone().into());
        attributes.insert("recovery_window_in_days".into(), 7.into());
        let subject = Subject {
            provider,
            resource_type: "local_secret".into(),
            attributes,
            secrets: BTreeMap::from([("value".to_string(), SensitiveString::new("first value"))]),
            update: Some(("description".into(), "changed".into())),
            missing_id: "no-such-secret".into(),
        };
        check("local_secret", &run(&subject).await);
    }
}

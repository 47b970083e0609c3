//! Secret values Vault returns once, in the answer to a create: an AppRole
//! secret_id or the token that wraps it, an exported root's private key.
//! They are kept in memory for the rest of the run, so that a resource
//! applied after the one that made them can take them as its value, and
//! written nowhere. **A later run has none of them**: reading one fails with
//! `VALUE_NOT_RETAINED` and help to replace the resource. Debug shows only
//! ids and attribute names.

use crate::provider::ProviderError;
use crate::secret::SensitiveString;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// By object id, then attribute.
type Values = BTreeMap<String, BTreeMap<&'static str, SensitiveString>>;

/// The values generated in this run, by object id and attribute.
#[derive(Default)]
pub struct RunValues {
    values: Mutex<Values>,
}

impl std::fmt::Debug for RunValues {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self
            .lock()
            .iter()
            .flat_map(|(id, attributes)| attributes.keys().map(move |attribute| format!("{id}.{attribute}")))
            .collect();
        formatter.debug_struct("RunValues").field("ids", &ids).finish()
    }
}

impl RunValues {
    fn lock(&self) -> MutexGuard<'_, Values> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `attribute` of the object `id` for the rest of the run.
    pub fn keep(&self, id: &str, attribute: &'static str, value: SensitiveString) {
        self.lock().entry(id.to_string()).or_default().insert(attribute, value);
    }

    /// Forgets every value of the object `id` (it is being destroyed).
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    fn get(&self, id: &str, attribute: &str) -> Option<SensitiveString> {
        self.lock()
            .get(id)
            .and_then(|attributes| attributes.get(attribute))
            .cloned()
    }

    /// Whether this run keeps `attribute` of `id`.
    pub fn has(&self, id: &str, attribute: &str) -> bool {
        self.get(id, attribute).is_some()
    }

    /// `attribute` of the object `id` of type `resource_type`, when this run generated it.
    pub fn value(&self, resource_type: &str, id: &str, attribute: &str) -> Result<SensitiveString, ProviderError> {
        self.get(id, attribute).ok_or_else(|| {
            ProviderError::new(
                crate::provider::VALUE_NOT_RETAINED,
                format!(
                    "the {attribute} of `{id}` is available only in the run that creates it: Vault returns it once, and keyform stores none"
                ),
            )
            .with_help(format!(
                "to hand a new {attribute} to the resources that use it, replace this resource in one run: `keyform apply --replace ADDRESS` (ADDRESS is the {resource_type} resource)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RunValues;
    use crate::secret::SensitiveString;

    #[test]
    fn a_value_is_kept_only_for_the_run_and_never_printed() {
        let values = RunValues::default();
        values.keep(
            "auth/approle/role/ci/secret-id-accessor/a",
            "secret_id",
            SensitiveString::new("hidden-value"),
        );
        let kept = values
            .value("some_type", "auth/approle/role/ci/secret-id-accessor/a", "secret_id")
            .expect("kept");
        assert_eq!(kept.expose(), "hidden-value");
        assert!(values.has("auth/approle/role/ci/secret-id-accessor/a", "secret_id"));
        assert!(!format!("{values:?}").contains("hidden-value"));
        let error = values
            .value("some_type", "auth/approle/role/ci/secret-id-accessor/b", "secret_id")
            .expect_err("not generated in this run");
        assert_eq!(error.code, crate::provider::VALUE_NOT_RETAINED);
        let help = error.help.unwrap_or_default();
        assert!(help.contains("--replace") && help.contains("some_type"), "{help}");
        values.forget("auth/approle/role/ci/secret-id-accessor/a");
        assert!(!values.has("auth/approle/role/ci/secret-id-accessor/a", "secret_id"));
    }
}

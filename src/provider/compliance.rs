//! The compliance suite every driver passes: one fixed list of cases run
//! against a live provider. A driver may skip a case only by answering
//! [`Outcome::NotSupported`] with a reason, which the suite reports.
//!
//! Cases: create, read back, idempotent create (a crash between the call and
//! the journal: the same token must not make a second object), find by
//! token, update in place, a secret write changes the version id (what drift
//! detection relies on), list, import, not-found handling, delete
//! (recoverably where the type allows), recover, idempotent delete.
//!
//! A type addressed by name (an alias) carries no token: when another token
//! finds the object and `lookup_existing` reports the same object by name,
//! "find by another token" is NotSupported, not failed.

use super::{ApplyAction, ApplyRequest, Attributes, FindRequest, ImportRequest, LiveStatus, Provider, ReadRequest};
use crate::secret::SensitiveString;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the suite needs to exercise one resource type.
pub struct Subject {
    pub provider: Arc<dyn Provider>,
    pub resource_type: String,
    /// Attributes of a valid new object.
    pub attributes: Attributes,
    /// Secret values of a valid new object.
    pub secrets: BTreeMap<String, SensitiveString>,
    /// One updatable plain attribute and a new value for it.
    pub update: Option<(String, serde_json::Value)>,
    /// An id that does not exist.
    pub missing_id: String,
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    NotSupported(String),
    Failed(String),
}

/// Runs every case in order and returns (case, outcome) pairs.
pub async fn run(subject: &Subject) -> Vec<(&'static str, Outcome)> {
    let mut results = Vec::new();
    let provider = &subject.provider;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let request = |action: ApplyAction,
                   id: Option<String>,
                   attributes: Attributes,
                   secrets: BTreeMap<String, SensitiveString>| ApplyRequest {
        resource_type: subject.resource_type.clone(),
        action,
        id,
        attributes,
        secrets,
        changed: Vec::new(),
    };
    let create = request(
        ApplyAction::Create { token: token.clone() },
        None,
        subject.attributes.clone(),
        subject.secrets.clone(),
    );
    let created = match provider.apply(create.clone()).await {
        Ok(Some(live)) if !live.id.is_empty() => {
            results.push(("create", Outcome::Passed));
            live
        }
        Ok(_) => {
            results.push(("create", Outcome::Failed("no object returned".into())));
            return results;
        }
        Err(error) => {
            results.push(("create", Outcome::Failed(error.to_string())));
            return results;
        }
    };
    let read = |id: String| {
        provider.read(ReadRequest {
            resource_type: subject.resource_type.clone(),
            id,
            prior: Attributes::new(),
        })
    };
    results.push((
        "read back",
        match read(created.id.clone()).await {
            Ok(Some(live)) if live.id == created.id && live.secret_versions == created.secret_versions => {
                Outcome::Passed
            }
            Ok(Some(live)) => Outcome::Failed(format!(
                "read returned {} with versions {:?}",
                live.id, live.secret_versions
            )),
            Ok(None) => Outcome::Failed("the created object was not found".into()),
            Err(error) => Outcome::Failed(error.to_string()),
        },
    ));
    results.push((
        "idempotent create",
        match provider.apply(create).await {
            Ok(Some(live)) if live.id == created.id => Outcome::Passed,
            Ok(other) => Outcome::Failed(format!(
                "a repeated create with the same token answered {:?}",
                other.map(|live| live.id)
            )),
            Err(error) => Outcome::Failed(format!("a repeated create with the same token failed: {error}")),
        },
    ));
    let find = FindRequest {
        resource_type: subject.resource_type.clone(),
        token: token.clone(),
        attributes: subject.attributes.clone(),
    };
    results.push((
        "find by token",
        match provider.find_by_token(find.clone()).await {
            Ok(Some(live)) if live.id == created.id => Outcome::Passed,
            Ok(other) => Outcome::Failed(format!("found {:?}", other.map(|live| live.id))),
            Err(error) => Outcome::Failed(error.to_string()),
        },
    ));
    let wrong_token = FindRequest {
        token: uuid::Uuid::new_v4().simple().to_string(),
        ..find.clone()
    };
    results.push((
        "find by another token",
        match provider.find_by_token(wrong_token).await {
            Ok(None) => Outcome::Passed,
            Ok(Some(live)) => {
                // A type addressed by name (an alias) carries no token: any create of that name
                // adopts the object, which `lookup_existing` says before a create.
                let by_name = provider
                    .lookup_existing(FindRequest {
                        token: String::new(),
                        ..find
                    })
                    .await;
                match by_name {
                    Ok(Some(existing)) if existing.id == live.id => Outcome::NotSupported(
                        "objects of this type are addressed by name and carry no token: a create of the same name adopts the object".into(),
                    ),
                    _ => Outcome::Failed(format!("another token found {}", live.id)),
                }
            }
            Err(error) => Outcome::Failed(error.to_string()),
        },
    ));
    results.push((
        "update in place",
        match &subject.update {
            None => Outcome::NotSupported("the type has no updatable plain attribute".into()),
            Some((name, value)) => {
                let mut attributes = created.attributes.clone();
                attributes.insert(name.clone(), value.clone());
                match provider
                    .apply(request(
                        ApplyAction::Update,
                        Some(created.id.clone()),
                        attributes,
                        BTreeMap::new(),
                    ))
                    .await
                {
                    Ok(Some(live)) if live.id == created.id && live.attributes.get(name) == Some(value) => {
                        Outcome::Passed
                    }
                    Ok(other) => Outcome::Failed(format!("after the update: {:?}", other.map(|live| live.attributes))),
                    Err(error) => Outcome::Failed(error.to_string()),
                }
            }
        },
    ));
    results.push((
        "secret write changes the version",
        match subject.secrets.keys().next() {
            None => Outcome::NotSupported("the type holds no secret value".into()),
            Some(name) => {
                let secrets = BTreeMap::from([(name.clone(), SensitiveString::new(uuid::Uuid::new_v4().to_string()))]);
                match provider
                    .apply(request(
                        ApplyAction::Update,
                        Some(created.id.clone()),
                        created.attributes.clone(),
                        secrets,
                    ))
                    .await
                {
                    Ok(Some(live))
                        if live.secret_versions.contains_key(name)
                            && live.secret_versions.get(name) != created.secret_versions.get(name) =>
                    {
                        Outcome::Passed
                    }
                    Ok(other) => Outcome::Failed(format!(
                        "versions after a new value: {:?}",
                        other.map(|live| live.secret_versions)
                    )),
                    Err(error) => Outcome::Failed(error.to_string()),
                }
            }
        },
    ));
    results.push((
        "list",
        match provider.list(&subject.resource_type).await {
            Ok(ids) if ids.contains(&created.id) => Outcome::Passed,
            Ok(ids) => Outcome::Failed(format!("list did not include {} ({} ids)", created.id, ids.len())),
            Err(error) => Outcome::Failed(error.to_string()),
        },
    ));
    results.push((
        "import",
        match provider
            .import(ImportRequest {
                resource_type: subject.resource_type.clone(),
                id: created.id.clone(),
            })
            .await
        {
            Ok(Some(live)) if live.id == created.id => Outcome::Passed,
            Ok(other) => Outcome::Failed(format!("import answered {:?}", other.map(|live| live.id))),
            Err(error) => Outcome::Failed(error.to_string()),
        },
    ));
    results.push((
        "not found",
        match read(subject.missing_id.clone()).await {
            Ok(None) => Outcome::Passed,
            Ok(Some(live)) => Outcome::Failed(format!("a missing id read as {}", live.id)),
            Err(error) => Outcome::Failed(format!("a missing id must read as None, not fail: {error}")),
        },
    ));
    let delete = request(
        ApplyAction::Delete { purge: false },
        Some(created.id.clone()),
        created.attributes.clone(),
        BTreeMap::new(),
    );
    results.push((
        "delete",
        match provider.apply(delete.clone()).await {
            Ok(_) => match read(created.id.clone()).await {
                Ok(Some(live)) if matches!(live.status, LiveStatus::PendingDeletion { .. }) => Outcome::Passed,
                Ok(None) => Outcome::Passed,
                Ok(Some(_)) => Outcome::Failed("the object is still active after delete".into()),
                Err(error) => Outcome::Failed(error.to_string()),
            },
            Err(error) => Outcome::Failed(error.to_string()),
        },
    ));
    results.push((
        "recover",
        match read(created.id.clone()).await {
            Ok(Some(live)) if matches!(live.status, LiveStatus::PendingDeletion { .. }) => {
                match provider
                    .apply(request(
                        ApplyAction::Recover,
                        Some(created.id.clone()),
                        live.attributes.clone(),
                        BTreeMap::new(),
                    ))
                    .await
                {
                    Ok(Some(recovered)) if recovered.status == LiveStatus::Active && recovered.id == created.id => {
                        Outcome::Passed
                    }
                    Ok(other) => Outcome::Failed(format!("after recover: {:?}", other.map(|live| live.status))),
                    Err(error) => Outcome::Failed(error.to_string()),
                }
            }
            Ok(_) => Outcome::NotSupported("deletion is immediate for this object".into()),
            Err(error) => Outcome::Failed(error.to_string()),
        },
    ));
    results.push(("idempotent delete", {
        let first = provider.apply(delete.clone()).await;
        let second = provider.apply(delete).await;
        match (first, second) {
            (Ok(_), Ok(_)) => Outcome::Passed,
            (Err(error), _) | (_, Err(error)) => Outcome::Failed(format!("deleting twice failed: {error}")),
        }
    }));
    results
}

/// Formats results as the suite prints them; returns the text and whether every case passed or was NotSupported.
pub fn report(resource_type: &str, results: &[(&'static str, Outcome)]) -> (String, bool) {
    let mut text = String::new();
    let mut passed = true;
    for (case, outcome) in results {
        let line = match outcome {
            Outcome::Passed => format!("{resource_type}: {case}: ok\n"),
            Outcome::NotSupported(reason) => format!("{resource_type}: {case}: not supported ({reason})\n"),
            Outcome::Failed(message) => {
                passed = false;
                format!("{resource_type}: {case}: FAILED: {message}\n")
            }
        };
        text.push_str(&line);
    }
    (text, passed)
}

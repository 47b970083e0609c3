//! Applying a plan: every change in graph order, independent ones
//! concurrently, each journaled the moment it is done.
//!
//! **Before a create call the journal records the intent and its
//! idempotency token; after every provider call the result is journaled
//! (fsynced) before any dependent starts. A failure stops only the
//! dependents of what failed; what succeeded stays recorded, and running
//! apply again continues from there.** Secret values are resolved (read from
//! their source, or generated) only here, just before the call that writes
//! them, and never leave memory.

use crate::addr::{ModulePath, ResourceAddress};
use crate::config::eval::Symbol;
use crate::config::value::{Kind, Value};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::graph::{Node, walk};
use crate::plan::desired::DesiredInstance;
use crate::plan::engine::{Engine, collect_instances, state_from_live};
use crate::plan::{Action, InstanceChange, Plan};
use crate::provider::check::check_applied;
use crate::provider::{ApplyAction, ApplyRequest, LiveObject, ProviderError};
use crate::secret::{SensitiveString, generate};
use crate::state::{JournalEntry, PendingCreate, State, StateStore, timestamp_now};
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One finished change, for the progress output.
#[derive(Debug, Clone)]
pub struct ApplyEvent {
    pub address: String,
    pub action: Action,
    pub elapsed: Duration,
    pub id: Option<String>,
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub events: Vec<ApplyEvent>,
    pub diagnostics: Diagnostics,
    pub peak_in_flight: usize,
}

struct Applier<'a> {
    engine: &'a Engine,
    store: &'a Mutex<StateStore>,
    changes: HashMap<ResourceAddress, Vec<InstanceChange>>,
    state: State,
    plan: &'a Mutex<Plan>,
    events: Mutex<Vec<ApplyEvent>>,
    on_event: &'a (dyn Fn(&ApplyEvent) + Sync),
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Applies a plan made by `engine`.
pub async fn apply(
    engine: &Engine,
    plan: Plan,
    store: &Mutex<StateStore>,
    on_event: &(dyn Fn(&ApplyEvent) + Sync),
) -> ApplyOutcome {
    let mut outcome = ApplyOutcome::default();
    for address in &plan.abandon {
        if let Err(error) = lock(store).record(JournalEntry::Abandon {
            address: address.clone(),
        }) {
            outcome.diagnostics.push(state_diagnostic(&error));
            return outcome;
        }
    }
    for (from, to) in &plan.moves {
        if let Err(error) = lock(store).record(JournalEntry::Move {
            from: from.clone(),
            to: to.clone(),
        }) {
            outcome.diagnostics.push(state_diagnostic(&error));
            return outcome;
        }
    }
    let state = lock(store).state().clone();
    let mut changes: HashMap<ResourceAddress, Vec<InstanceChange>> = HashMap::new();
    let mut orphans = Vec::new();
    let declared: HashSet<ResourceAddress> = engine
        .graph
        .nodes()
        .filter_map(|node| match node {
            Node::Resource(address) => Some(address.clone()),
            _ => None,
        })
        .collect();
    for change in plan.changes.iter().cloned() {
        if declared.contains(&change.address.resource) && change.action != Action::Delete {
            changes.entry(change.address.resource.clone()).or_default().push(change);
        } else if change.action == Action::Delete {
            orphans.push(change);
        }
    }
    let outputs = plan.outputs.clone();
    let plan = Mutex::new(plan);
    let applier = Applier {
        engine,
        store,
        changes,
        state,
        plan: &plan,
        events: Mutex::new(Vec::new()),
        on_event,
    };
    let walked = walk(&engine.graph, |node| applier.apply_node(node)).await;
    let mut diagnostics = engine.take_diagnostics();
    if !walked.skipped.is_empty() {
        let mut skipped: Vec<String> = walked
            .skipped
            .iter()
            .filter(|node| matches!(node, Node::Resource(_)))
            .map(ToString::to_string)
            .collect();
        skipped.sort();
        if !skipped.is_empty() {
            diagnostics.push(
                Diagnostic::warning(
                    Code::ApplyAborted,
                    format!(
                        "not attempted because something they depend on failed: {}",
                        skipped.join(", ")
                    ),
                )
                .with_help("fix the errors above and run apply again; it continues from what is recorded"),
            );
        }
    }
    // Deletions last, dependents before what they depend on. **What a failed (or kept) deletion depends on is
    // kept too**: a mount is not disabled under a key whose destroy was refused.
    let order = deletion_order(&orphans);
    let mut kept: Vec<InstanceChange> = Vec::new();
    let mut not_deleted = Vec::new();
    for batch in order {
        let (blocked, ready): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|change| kept.iter().any(|dependent| depends_on(dependent, change)));
        not_deleted.extend(blocked.iter().map(|change| change.address.to_string()));
        kept.extend(blocked);
        let applier = &applier;
        let results = futures::future::join_all(
            ready
                .iter()
                .map(|change| async move { (change, applier.execute(change, None).await) }),
        )
        .await;
        for (change, result) in results {
            if let Err(diagnostic) = result {
                diagnostics.push(diagnostic);
                kept.push(change.clone());
            }
        }
    }
    if !not_deleted.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                Code::ApplyAborted,
                format!(
                    "not deleted because something that depends on them could not be deleted: {}",
                    not_deleted.join(", ")
                ),
            )
            .with_help("fix the errors above and run apply again; it continues from what is recorded"),
        );
    }
    if !diagnostics.has_errors() || !outputs.is_empty() {
        let final_outputs = lock(&plan).outputs.clone();
        if let Err(error) = lock(store).record(JournalEntry::Outputs { outputs: final_outputs }) {
            diagnostics.push(state_diagnostic(&error));
        }
    }
    if let Err(error) = lock(store).compact() {
        diagnostics.push(state_diagnostic(&error));
    }
    outcome.events = std::mem::take(&mut *lock(&applier.events));
    outcome.diagnostics.extend(diagnostics);
    outcome.peak_in_flight = engine.peak_in_flight();
    outcome
}

/// Records what the refresh found for instances the plan leaves as they are (a transit key's `latest_version`
/// after Vault rotated it), so the next plan no longer reports it as changed outside keyform. Nothing is asked of
/// a provider. Returns how many records changed.
pub fn record_refreshed(plan: &Plan, store: &mut StateStore) -> Result<usize, Diagnostic> {
    let mut recorded = 0;
    for change in plan
        .changes
        .iter()
        .filter(|change| change.action == Action::NoOp && !change.rotate)
    {
        let (Some(live), Some(prior)) = (&change.live, &change.prior) else {
            continue;
        };
        let written = Written {
            names: &[],
            base: Some(prior),
        };
        // Dependencies are recorded from the configuration (an imported record may have none yet).
        let record = record_for(
            change,
            live,
            change.desired.as_ref(),
            written,
            prior.create_token.clone(),
        );
        if record != *prior {
            store
                .record(JournalEntry::Put(record))
                .map_err(|error| state_diagnostic(&error))?;
            recorded += 1;
        }
    }
    if recorded > 0 {
        store.compact().map_err(|error| state_diagnostic(&error))?;
    }
    Ok(recorded)
}

/// What `change` depends on: what state recorded, and what the configuration says when it is still declared.
fn dependencies(change: &InstanceChange) -> impl Iterator<Item = &String> {
    change
        .prior
        .iter()
        .flat_map(|prior| prior.dependencies.iter())
        .chain(change.dependencies.iter())
}

/// Whether `dependent` depends on `dependency`.
fn depends_on(dependent: &InstanceChange, dependency: &InstanceChange) -> bool {
    dependencies(dependent)
        .any(|name| *name == dependency.address.to_string() || *name == dependency.address.resource.to_string())
}

/// Orders deletions in batches: nothing is deleted before what depends on it.
fn deletion_order(deletions: &[InstanceChange]) -> Vec<Vec<InstanceChange>> {
    let mut remaining: Vec<InstanceChange> = deletions.to_vec();
    let mut batches = Vec::new();
    while !remaining.is_empty() {
        let depended_on: HashSet<String> = remaining.iter().flat_map(dependencies).cloned().collect();
        let (ready, rest): (Vec<_>, Vec<_>) = remaining.into_iter().partition(|change| {
            !depended_on.contains(&change.address.to_string())
                && !depended_on.contains(&change.address.resource.to_string())
        });
        if ready.is_empty() {
            // A dependency loop in old state: delete the rest together.
            batches.push(rest);
            break;
        }
        batches.push(ready);
        remaining = rest;
    }
    batches
}

fn state_diagnostic(error: &crate::state::StateError) -> Diagnostic {
    Diagnostic::error(Code::StateIo, format!("the state could not be recorded: {error}"))
        .with_help("check the state folder's disk space and permissions; run apply again to continue")
}

impl Applier<'_> {
    async fn apply_node(&self, node: Node) -> bool {
        match &node {
            Node::Resource(address) => self.apply_resource(address).await,
            Node::Output(..) | Node::Variable(..) | Node::Local(..) | Node::Provider(_) => {
                self.engine.plan_node(node, &self.state, self.plan).await
            }
        }
    }

    async fn apply_resource(&self, address: &ResourceAddress) -> bool {
        if address.mode == crate::addr::ResourceMode::Data {
            // Read again: arguments unknown at plan time are known now.
            return self.engine.read_data_resource(address).await;
        }
        let Some(changes) = self.changes.get(address) else {
            return true;
        };
        let Some((module, resource, schema)) = self.engine.resource_config(address) else {
            return false;
        };
        let mut ok = true;
        let mut work = Vec::new();
        for change in changes {
            // Re-evaluate with what upstream applies produced, when the plan had unknowns.
            let needs_fresh = change
                .desired
                .as_ref()
                .is_some_and(|desired| !desired.unknown.is_empty());
            let desired = if needs_fresh {
                let each = self.each_for(&address.module, module, resource, change);
                match self
                    .engine
                    .desired(&address.module, module, resource, schema, &change.address.key, each)
                {
                    Ok(mut desired) => {
                        self.engine.keep_retained_secrets(
                            &address.module,
                            resource,
                            &mut desired,
                            change.prior.as_ref(),
                        );
                        Some(desired)
                    }
                    Err(diagnostics) => {
                        self.engine.report_all(diagnostics);
                        ok = false;
                        continue;
                    }
                }
            } else {
                change.desired.clone()
            };
            work.push((change, desired));
        }
        let results = futures::future::join_all(
            work.into_iter()
                .map(|(change, desired)| async move { (change, self.execute(change, desired).await) }),
        )
        .await;
        let mut values = Vec::new();
        for (change, result) in results {
            match result {
                Ok(live) => {
                    let mut value = live_value(live.as_ref(), change, schema);
                    // What was just written is what dependents read: the change no longer rewrites it.
                    let applied = InstanceChange {
                        action: Action::NoOp,
                        rotate: false,
                        changes: Vec::new(),
                        live: live.clone(),
                        ..change.clone()
                    };
                    if live.is_some()
                        && let Err(diagnostic) = self.engine.fill_read_secrets(&applied, schema, &mut value).await
                    {
                        self.engine.report(diagnostic);
                        ok = false;
                    }
                    values.push((change.address.key.clone(), value));
                }
                Err(diagnostic) => {
                    self.engine.report(diagnostic);
                    ok = false;
                }
            }
        }
        self.engine
            .store(Symbol::Resource(address.clone()), collect_instances(resource, values));
        ok
    }

    fn each_for(
        &self,
        module_path: &ModulePath,
        module: &crate::config::model::ModuleConfig,
        resource: &crate::config::model::ResourceConfig,
        change: &InstanceChange,
    ) -> Option<(Value, Value)> {
        let instances = self.engine.expand(module_path, module, resource).ok()?;
        instances
            .into_iter()
            .find(|(key, _)| *key == change.address.key)
            .and_then(|(_, each)| each)
    }

    fn record(&self, entry: JournalEntry) -> Result<(), Diagnostic> {
        lock(self.store).record(entry).map_err(|error| state_diagnostic(&error))
    }

    fn finish(&self, change: &InstanceChange, action: Action, started: Instant, id: Option<String>) {
        let event = ApplyEvent {
            address: change.address.to_string(),
            action,
            elapsed: started.elapsed(),
            id,
        };
        (self.on_event)(&event);
        lock(&self.events).push(event);
    }

    async fn call(
        &self,
        change: &InstanceChange,
        request: ApplyRequest,
        operation: &str,
    ) -> Result<Option<LiveObject>, Diagnostic> {
        let address = change.address.to_string();
        let provider = self.engine.provider(&change.provider).cloned().ok_or_else(|| {
            Diagnostic::error(
                Code::UnknownProvider,
                format!("{address}: the provider {} is not configured", change.provider),
            )
            .with_help("keep the provider block until every resource that uses it is destroyed")
        })?;
        if !self.engine.configure_provider(&change.provider).await {
            return Err(Diagnostic::error(
                Code::ProviderConfig,
                format!("{address}: the provider {} could not be configured", change.provider),
            )
            .with_help("see the errors above"));
        }
        let span = self
            .engine
            .resource_config(&change.address.resource)
            .and_then(|(_, resource, _)| resource.span.clone());
        let result = {
            let _permit = self.engine.permit().await;
            provider.apply(request.clone()).await
        };
        let response = result.map_err(|error: ProviderError| {
            self.engine
                .provider_diagnostic(&address, operation, &error, span.clone())
        })?;
        check_applied(&request, &response).map_err(|problem| {
            Diagnostic::error(
                Code::ProviderContract,
                format!(
                    "{address}: the provider {} answered {operation} wrongly: {problem}",
                    change.provider
                ),
            )
            .with_help("this is a bug in the provider driver; nothing was recorded for this resource")
        })?;
        Ok(response)
    }

    /// Resolves the secret values to send: all for a create, changed ones otherwise, fresh ones for a rotation.
    fn secrets(
        &self,
        change: &InstanceChange,
        desired: Option<&DesiredInstance>,
        mode: SecretMode,
    ) -> Result<BTreeMap<String, SensitiveString>, Diagnostic> {
        let mut secrets = BTreeMap::new();
        let Some(desired) = desired else { return Ok(secrets) };
        for (name, value) in &desired.secrets {
            let wanted = match mode {
                SecretMode::All => true,
                SecretMode::Changed => change.changes.iter().any(|attribute| attribute.name == *name),
                SecretMode::Rotate => desired.is_generated(name),
            };
            if !wanted {
                continue;
            }
            let resolved = match &value.kind {
                Kind::String(text) => SensitiveString::new(text.clone()),
                Kind::Generated(spec) => generate(spec).map_err(|error| {
                    Diagnostic::error(
                        Code::FunctionCall,
                        format!("{}: cannot generate `{name}`: {error}", change.address),
                    )
                    .with_help("fix the generate({...}) settings")
                })?,
                _ => {
                    return Err(Diagnostic::error(Code::SecretUnavailable, format!("{}: the value of `{name}` is not known", change.address))
                        .with_help("a secret that depends on another resource's secret is written once that resource exists; run apply again"));
                }
            };
            secrets.insert(name.clone(), resolved);
        }
        Ok(secrets)
    }

    fn request(
        &self,
        change: &InstanceChange,
        action: ApplyAction,
        desired: Option<&DesiredInstance>,
        secrets: BTreeMap<String, SensitiveString>,
    ) -> ApplyRequest {
        let mut attributes = change
            .live
            .as_ref()
            .map(|live| live.attributes.clone())
            .or_else(|| change.prior.as_ref().map(|prior| prior.attributes.clone()))
            .unwrap_or_default();
        // A rotation makes new material only; configuration changes are an update's job.
        if !matches!(action, ApplyAction::Delete { .. } | ApplyAction::Rotate)
            && let Some(desired) = desired
        {
            for (name, value) in &desired.attributes {
                attributes.insert(name.clone(), value.clone());
            }
            // A change to something the configuration no longer has (a removed block) removes it.
            for removed in change.changes.iter().filter(|attribute| {
                !desired.attributes.contains_key(&attribute.name)
                    && !desired.secrets.contains_key(&attribute.name)
                    && !desired.unknown.contains(&attribute.name)
            }) {
                attributes.remove(&removed.name);
            }
        }
        let id = match action {
            ApplyAction::Create { .. } => None,
            _ => change
                .live
                .as_ref()
                .map(|live| live.id.clone())
                .or_else(|| change.prior.as_ref().map(|prior| prior.id.clone())),
        };
        ApplyRequest {
            resource_type: change.resource_type.clone(),
            action,
            id,
            attributes,
            secrets,
            changed: change.changes.iter().map(|attribute| attribute.name.clone()).collect(),
        }
    }

    /// Journals the record of an instance after a provider call and returns it.
    fn put(
        &self,
        change: &InstanceChange,
        live: &LiveObject,
        desired: Option<&DesiredInstance>,
        written: Written<'_>,
        token: Option<String>,
    ) -> Result<crate::state::ResourceState, Diagnostic> {
        let record = record_for(change, live, desired, written, token);
        self.record(JournalEntry::Put(record.clone()))?;
        Ok(record)
    }
}

/// The state record of an instance after a provider call.
fn record_for(
    change: &InstanceChange,
    live: &LiveObject,
    desired: Option<&DesiredInstance>,
    written: Written<'_>,
    token: Option<String>,
) -> crate::state::ResourceState {
    // A fingerprint describes what was written: secrets not written by this call keep what the
    // state recorded of them (`written.base`), those written take the desired fingerprint.
    let mut fingerprints: BTreeMap<String, String> = written
        .base
        .map(|base| {
            base.secrets
                .iter()
                .map(|(name, record)| (name.clone(), record.fingerprint.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(desired) = desired {
        for name in written.names {
            if let Some(fingerprint) = desired.fingerprints.get(name) {
                fingerprints.insert(name.clone(), fingerprint.clone());
            }
        }
    }
    let mut record = state_from_live(
        &change.address.to_string(),
        &change.resource_type,
        &change.provider,
        live,
        &fingerprints,
        token,
    );
    // **The dependencies the plan gave the change are recorded**: destroy orders deletions by them.
    record.dependencies = change.dependencies.clone();
    // Keep the settings keyform itself runs (a rotation schedule), which the provider does not report.
    if let Some(desired) = desired {
        for (name, value) in &desired.attributes {
            if !live.attributes.contains_key(name) {
                record.attributes.insert(name.clone(), value.clone());
            }
        }
    }
    record
}

/// Which secrets a provider call wrote, and the record the others' fingerprints come from.
#[derive(Clone, Copy)]
struct Written<'a> {
    names: &'a [String],
    base: Option<&'a crate::state::ResourceState>,
}

impl Applier<'_> {
    async fn create(
        &self,
        change: &InstanceChange,
        desired: Option<&DesiredInstance>,
    ) -> Result<LiveObject, Diagnostic> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let secrets = self.secrets(change, desired, SecretMode::All)?;
        self.record(JournalEntry::Intent(PendingCreate {
            address: change.address.to_string(),
            resource_type: change.resource_type.clone(),
            provider: change.provider.clone(),
            token: token.clone(),
            started_at: timestamp_now(),
            attributes: desired.map(|desired| desired.attributes.clone()).unwrap_or_default(),
        }))?;
        let names: Vec<String> = secrets.keys().cloned().collect();
        let request = self.request(change, ApplyAction::Create { token: token.clone() }, desired, secrets);
        let live = self
            .call(change, request, "create")
            .await?
            .ok_or_else(|| Diagnostic::error(Code::ProviderContract, "no object returned"))?;
        self.put(
            change,
            &live,
            desired,
            Written {
                names: &names,
                base: None,
            },
            Some(token),
        )?;
        Ok(live)
    }

    async fn delete(&self, change: &InstanceChange) -> Result<(), Diagnostic> {
        let request = self.request(change, ApplyAction::Delete { purge: false }, None, BTreeMap::new());
        self.call(change, request, "delete").await?;
        self.record(JournalEntry::Remove {
            address: change.address.to_string(),
        })
    }

    /// Carries out one change.
    async fn execute(
        &self,
        change: &InstanceChange,
        desired: Option<DesiredInstance>,
    ) -> Result<Option<LiveObject>, Diagnostic> {
        let started = Instant::now();
        let desired = desired.as_ref();
        let token = change.prior.as_ref().and_then(|prior| prior.create_token.clone());
        // The latest record of this instance: fingerprints of secrets a later call does not write come from it.
        let mut base = change.prior.clone();
        let live = match change.action {
            Action::NoOp => {
                let live = change.live.clone();
                if change.adopted
                    && let Some(live) = &live
                {
                    let token = change.prior.as_ref().and_then(|prior| prior.create_token.clone());
                    let written = Written {
                        names: &[],
                        base: change.prior.as_ref(),
                    };
                    self.put(change, live, desired, written, token)?;
                } else if let (Some(live), Some(prior)) = (&live, &change.prior) {
                    let written = Written {
                        names: &[],
                        base: Some(prior),
                    };
                    let record = record_for(change, live, desired, written, prior.create_token.clone());
                    if record != *prior {
                        self.record(JournalEntry::Put(record))?;
                    }
                }
                return Ok(live.or_else(|| change.prior.as_ref().map(live_from_state)));
            }
            Action::Create => Some(self.create(change, desired).await?),
            Action::Delete => {
                self.delete(change).await?;
                None
            }
            Action::Replace if change.create_before_destroy => {
                let live = self.create(change, desired).await?;
                let old = InstanceChange {
                    live: change.live.clone(),
                    ..change.clone()
                };
                let request = self.request(&old, ApplyAction::Delete { purge: false }, None, BTreeMap::new());
                self.call(&old, request, "delete").await?;
                Some(live)
            }
            Action::Replace => {
                self.delete(change).await?;
                let fresh = InstanceChange {
                    live: None,
                    prior: None,
                    ..change.clone()
                };
                Some(self.create(&fresh, desired).await?)
            }
            Action::Update | Action::Recover | Action::Import => {
                let mut live = change.live.clone();
                if change.action == Action::Import
                    && let Some(imported) = &live
                {
                    base = Some(self.put(change, imported, None, Written { names: &[], base: None }, None)?);
                }
                let mut names = Vec::new();
                if change.action != Action::Import || !change.changes.is_empty() {
                    let mode = if change.action == Action::Import {
                        SecretMode::All
                    } else {
                        SecretMode::Changed
                    };
                    let secrets = self.secrets(change, desired, mode)?;
                    names = secrets.keys().cloned().collect();
                    let action = if change.action == Action::Recover {
                        ApplyAction::Recover
                    } else {
                        ApplyAction::Update
                    };
                    let request = self.request(change, action, desired, secrets);
                    live = self.call(change, request, "update").await?;
                }
                if let Some(live) = &live {
                    let written = Written {
                        names: &names,
                        base: base.as_ref(),
                    };
                    base = Some(self.put(change, live, desired, written, token.clone())?);
                }
                live
            }
            Action::Rotate => None,
        };
        let live = if change.action == Action::Rotate || change.rotate {
            let current = InstanceChange {
                live: live.clone().or_else(|| change.live.clone()),
                ..change.clone()
            };
            let secrets = self.secrets(change, desired, SecretMode::Rotate)?;
            let names: Vec<String> = secrets.keys().cloned().collect();
            let request = self.request(&current, ApplyAction::Rotate, desired, secrets);
            let rotated = self.call(change, request, "rotate").await?;
            if let Some(rotated) = &rotated {
                let written = Written {
                    names: &names,
                    base: base.as_ref(),
                };
                self.put(change, rotated, desired, written, token.clone())?;
            }
            rotated
        } else {
            live
        };
        let action = if change.rotate { Action::Rotate } else { change.action };
        self.finish(change, action, started, live.as_ref().map(|live| live.id.clone()));
        Ok(live)
    }
}

#[derive(Clone, Copy)]
enum SecretMode {
    All,
    Changed,
    Rotate,
}

fn live_from_state(prior: &crate::state::ResourceState) -> LiveObject {
    LiveObject {
        id: prior.id.clone(),
        attributes: prior.attributes.clone(),
        secret_versions: prior
            .secrets
            .iter()
            .filter_map(|(name, record)| record.version_id.clone().map(|version| (name.clone(), version)))
            .collect(),
        status: crate::provider::LiveStatus::Active,
        last_rotated: prior.last_rotated.clone(),
    }
}

/// The value other expressions see for an applied instance.
fn live_value(live: Option<&LiveObject>, change: &InstanceChange, schema: &crate::provider::ResourceSchema) -> Value {
    let mut entries = IndexMap::new();
    for attribute in &schema.attributes {
        let value = if attribute.is_secret() {
            Value::unknown().into_sensitive()
        } else {
            live.and_then(|live| live.attributes.get(attribute.name))
                .or_else(|| {
                    change
                        .desired
                        .as_ref()
                        .and_then(|desired| desired.attributes.get(attribute.name))
                })
                .map(Value::from_json)
                .unwrap_or_else(Value::null)
        };
        entries.insert(attribute.name.to_string(), value);
    }
    Value::map(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::parse_instance_address;

    fn deletion(address: &str, recorded: &[&str], configured: &[&str]) -> InstanceChange {
        let mut change = InstanceChange::new(
            parse_instance_address(address).unwrap(),
            "vault_mount",
            "provider.vault",
        );
        change.action = Action::Delete;
        change.prior = Some(crate::state::ResourceState {
            address: address.to_string(),
            resource_type: "vault_mount".to_string(),
            provider: "provider.vault".to_string(),
            id: address.to_string(),
            attributes: serde_json::Map::new(),
            secrets: BTreeMap::new(),
            dependencies: recorded.iter().map(|name| name.to_string()).collect(),
            last_rotated: None,
            create_token: None,
        });
        change.dependencies = configured.iter().map(|name| name.to_string()).collect();
        change
    }

    fn batches(deletions: &[InstanceChange]) -> Vec<Vec<String>> {
        deletion_order(deletions)
            .iter()
            .map(|batch| batch.iter().map(|change| change.address.to_string()).collect())
            .collect()
    }

    #[test]
    fn dependents_are_deleted_before_what_state_says_they_depend_on() {
        let order = batches(&[
            deletion("vault_mount.transit", &[], &[]),
            deletion("vault_transit_secret_backend_key.kek", &["vault_mount.transit"], &[]),
        ]);
        assert_eq!(
            order,
            vec![
                vec!["vault_transit_secret_backend_key.kek"],
                vec!["vault_mount.transit"]
            ]
        );
    }

    #[test]
    fn an_imported_record_without_dependencies_is_ordered_by_the_configuration() {
        let order = batches(&[
            deletion("vault_mount.transit", &[], &[]),
            deletion("vault_transit_secret_backend_key.kek[0]", &[], &["vault_mount.transit"]),
        ]);
        assert_eq!(
            order,
            vec![
                vec!["vault_transit_secret_backend_key.kek[0]"],
                vec!["vault_mount.transit"]
            ]
        );
    }

    #[test]
    fn a_dependency_loop_in_old_state_deletes_the_rest_together() {
        let order = batches(&[
            deletion("vault_mount.a", &["vault_mount.b"], &[]),
            deletion("vault_mount.b", &["vault_mount.a"], &[]),
        ]);
        assert_eq!(order, vec![vec!["vault_mount.a", "vault_mount.b"]]);
    }
}

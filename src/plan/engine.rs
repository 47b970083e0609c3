//! The engine: one walk over the graph that evaluates every node, refreshes
//! each resource instance through its provider, and diffs it into a change.
//!
//! The same [`Engine`] later drives `apply` (see `crate::apply`), which
//! re-evaluates each resource once its dependencies are applied. **Provider
//! calls in flight never exceed `--parallelism`.**

use super::desired::{DesiredInstance, evaluate_instance};
use super::types::{Action, AttributeChange, InstanceChange, Plan};
use crate::addr::{InstanceAddress, InstanceKey, ModulePath, ResourceAddress, ResourceMode, parse_instance_address};
use crate::config::eval::{Resolver, Scope, Symbol, Taint, evaluate, normalize};
use crate::config::model::{Expr, ModuleConfig, ProviderConfig, ResourceConfig, TypeConstraint, provider_key};
use crate::config::value::{Kind, Value};
use crate::config::variables::VariableInput;
use crate::diag::{Code, Diagnostic, Diagnostics, SourceMap, did_you_mean};
use crate::graph::{Graph, Node, walk};
use crate::provider::{
    ConfigureRequest, FindRequest, ImportRequest, LiveObject, LiveStatus, Provider, ProviderError, ReadRequest,
    ResourceSchema,
};
use crate::secret::FingerprintKey;
use crate::state::{OutputState, ResourceState, State};
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::Semaphore;

/// A resource's config, schema and evaluated instances.
type EvaluatedResource<'a> = (
    &'a ResourceConfig,
    &'a ResourceSchema,
    Vec<(InstanceAddress, DesiredInstance)>,
);

/// One instance of a resource: its key and, with for_each, its `each.key` and `each.value`.
pub type Instance = (Option<InstanceKey>, Option<(Value, Value)>);

/// What kind of plan to make.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub destroy: bool,
    pub targets: Vec<InstanceAddress>,
    pub replace: Vec<InstanceAddress>,
    /// Rotate these now, whether or not their rotation is due (`keyform rotate --now`).
    pub rotate_now: Vec<InstanceAddress>,
    /// `keyform import ADDRESS ID`: planned like an import block.
    pub import: Option<(InstanceAddress, String)>,
    pub parallelism: usize,
}

/// Everything a run needs, shared by the plan and apply walks.
pub struct Engine {
    pub root: ModuleConfig,
    pub folder: PathBuf,
    pub sources: SourceMap,
    pub graph: Graph,
    pub inputs: HashMap<String, VariableInput>,
    pub taint: Taint,
    /// Secret attributes other expressions read: (resource, attribute).
    secret_reads: HashSet<(ResourceAddress, String)>,
    /// Secret attributes (of resources keeping their value) that the provider keeps no copy of.
    retained: Mutex<HashSet<(ResourceAddress, String)>>,
    pub values: RwLock<HashMap<Symbol, Value>>,
    pub providers: HashMap<String, Arc<dyn Provider>>,
    pub schemas: HashMap<String, ResourceSchema>,
    /// Data sources, by type name.
    pub data_schemas: HashMap<String, ResourceSchema>,
    pub fingerprint_key: FingerprintKey,
    pub options: PlanOptions,
    pub diagnostics: Mutex<Diagnostics>,
    semaphore: Semaphore,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    configured: Mutex<HashSet<String>>,
}

impl Resolver for Engine {
    fn resolve(&self, symbol: &Symbol) -> Option<Value> {
        let values = self.values.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(value) = values.get(symbol) {
            return Some(value.clone());
        }
        // Declared but not evaluated (skipped after an error, or outside --target): unknown.
        self.graph.node_index(&node_of(symbol)).map(|_| Value::unknown())
    }

    fn module_outputs(&self, module: &ModulePath) -> Option<Vec<String>> {
        self.module_at(module)
            .map(|config| config.outputs.keys().cloned().collect())
    }
}

fn node_of(symbol: &Symbol) -> Node {
    match symbol {
        Symbol::Variable(module, name) => Node::Variable(module.clone(), name.clone()),
        Symbol::Local(module, name) => Node::Local(module.clone(), name.clone()),
        Symbol::Resource(address) => Node::Resource(address.clone()),
        Symbol::Output(module, name) => Node::Output(module.clone(), name.clone()),
    }
}

/// A counter guard for provider calls in flight.
pub struct CallPermit<'a> {
    engine: &'a Engine,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Drop for CallPermit<'_> {
    fn drop(&mut self) {
        self.engine.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Engine {
    /// Prepares a run: providers from the registry, schemas, taint, masks.
    pub fn new(
        root: ModuleConfig,
        sources: SourceMap,
        graph: Graph,
        inputs: HashMap<String, VariableInput>,
        fingerprint_key: FingerprintKey,
        options: PlanOptions,
    ) -> Result<Engine, Diagnostics> {
        let mut diagnostics = Diagnostics::new();
        let mut providers: HashMap<String, Arc<dyn Provider>> = HashMap::new();
        let mut schemas = HashMap::new();
        let mut data_schemas = HashMap::new();
        for node in graph.nodes() {
            let Node::Provider(key) = node else { continue };
            let name = key
                .trim_start_matches("provider.")
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string();
            match crate::providers::registry(&name) {
                Some(provider) => {
                    for schema in provider.schema() {
                        schemas.insert(schema.type_name.to_string(), schema);
                    }
                    for schema in provider.data_schema() {
                        data_schemas.insert(schema.type_name.to_string(), schema);
                    }
                    providers.insert(key.clone(), provider);
                }
                None => {
                    let span = root
                        .providers
                        .iter()
                        .find(|provider| provider.key() == *key)
                        .and_then(|provider| provider.span.clone());
                    let help = match did_you_mean(&name, crate::providers::PROVIDER_NAMES.iter().copied()) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!(
                            "this build has the providers: {}",
                            crate::providers::PROVIDER_NAMES.join(", ")
                        ),
                    };
                    let mut diagnostic =
                        Diagnostic::error(Code::UnknownProvider, format!("unknown provider `{name}`")).with_help(help);
                    diagnostic = diagnostic.with_optional_label(span, "not a provider keyform has");
                    if diagnostic.labels.is_empty() {
                        // An implicit provider: point at the first resource that needs it.
                        let resource_span = first_resource_of(&root, &name);
                        diagnostic = diagnostic.with_optional_label(resource_span, "this resource type needs it");
                    }
                    diagnostics.push(diagnostic);
                }
            }
        }
        let parallelism = options.parallelism.max(1);
        let engine = Engine {
            folder: root.folder.clone(),
            root,
            sources,
            graph,
            inputs,
            taint: Taint::default(),
            secret_reads: HashSet::new(),
            retained: Mutex::new(HashSet::new()),
            values: RwLock::new(HashMap::new()),
            providers,
            schemas,
            data_schemas,
            fingerprint_key,
            options,
            diagnostics: Mutex::new(Diagnostics::new()),
            semaphore: Semaphore::new(parallelism),
            in_flight: AtomicUsize::new(0),
            peak_in_flight: AtomicUsize::new(0),
            configured: Mutex::new(HashSet::new()),
        };
        let mut engine = diagnostics.into_result(engine)?;
        engine.prepare_secret_attributes();
        Ok(engine)
    }

    /// Computes which env and file sources are tainted (they reach a secret attribute).
    fn prepare_secret_attributes(&mut self) {
        let mut taint = Taint::default();
        let mut secret_reads = HashSet::new();
        let mut stack: Vec<(ModulePath, &ModuleConfig)> = vec![(ModulePath::root(), &self.root)];
        while let Some((path, module)) = stack.pop() {
            for resource in module.resources.values() {
                let Some(schema) = self.schemas.get(&resource.resource_type) else {
                    continue;
                };
                for attribute in resource.body.attributes.values() {
                    if schema
                        .attribute(&attribute.name)
                        .is_some_and(|attribute| attribute.is_secret())
                    {
                        collect_taint(&attribute.value, module, &mut taint, &mut HashSet::new());
                    }
                }
                // A nested block's secret attribute (`postgresql { password = ... }`) taints its sources too.
                for block in &resource.body.blocks {
                    let Some(block_schema) = schema.block(&block.block_type) else {
                        continue;
                    };
                    for attribute in block.body.attributes.values() {
                        if block_schema.is_secret_attribute(&attribute.name) {
                            collect_taint(&attribute.value, module, &mut taint, &mut HashSet::new());
                        }
                    }
                }
            }
            for expr in module_expressions(module) {
                for found in crate::config::references::references(expr) {
                    if let crate::config::references::Reference::Resource {
                        mode,
                        resource_type,
                        name,
                        attribute: Some(attribute),
                    } = found.reference
                        && self
                            .schemas
                            .get(&resource_type)
                            .and_then(|schema| schema.attribute(&attribute))
                            .is_some_and(|attribute| attribute.is_secret())
                    {
                        secret_reads.insert((
                            ResourceAddress::new(path.clone(), mode, &resource_type, &name),
                            attribute,
                        ));
                    }
                }
            }
            stack.extend(
                module
                    .module_calls
                    .values()
                    .map(|call| (path.child(&call.name, None), call.child.as_ref())),
            );
        }
        self.taint = taint;
        self.secret_reads = secret_reads;
    }

    /// True when some expression reads this resource's secret attribute (a value source).
    pub fn secret_is_read(&self, address: &ResourceAddress, attribute: &str) -> bool {
        self.secret_reads.contains(&(address.clone(), attribute.to_string()))
    }

    /// Puts the current value of each secret attribute that other expressions read into an
    /// instance's value, when the plan leaves it as it is (otherwise it stays known after apply).
    pub async fn fill_read_secrets(
        &self,
        change: &InstanceChange,
        schema: &ResourceSchema,
        value: &mut Value,
    ) -> Result<(), Diagnostic> {
        for attribute in schema.secret_attributes() {
            if !self.secret_is_read(&change.address.resource, attribute.name) {
                continue;
            }
            let rewritten = change.rotate || change.changes.iter().any(|changed| changed.name == attribute.name);
            let keeps = matches!(
                change.action,
                Action::NoOp | Action::Update | Action::Recover | Action::Import
            ) && !rewritten;
            let id = change
                .live
                .as_ref()
                .map(|live| live.id.clone())
                .or_else(|| change.prior.as_ref().map(|prior| prior.id.clone()));
            if let (true, Some(id), Kind::Map(entries)) = (keeps, id, &mut value.kind) {
                let read = match self.read_referenced_secret(change, attribute.name, &id).await {
                    Ok(read) => read,
                    // The provider keeps no copy: what took the value keeps it (`keep_retained_secrets`).
                    Err(error) if error.code == crate::provider::VALUE_NOT_RETAINED => {
                        self.retained
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert((change.address.resource.clone(), attribute.name.to_string()));
                        Value::unknown().into_sensitive()
                    }
                    Err(error) => {
                        return Err(self.provider_diagnostic(
                            &change.address.to_string(),
                            &format!("reading `{}` for a resource that uses it", attribute.name),
                            &error,
                            None,
                        ));
                    }
                };
                entries.insert(attribute.name.to_string(), read);
            }
        }
        Ok(())
    }

    /// Leaves a secret attribute as state records it when its expression reads another resource's secret that
    /// the provider keeps no copy of (an AppRole secret_id after the run that made it) and that resource keeps
    /// its value: there is nothing to compare and nothing to write. A replaced source is a new value, known
    /// after apply, and the attribute is written again with the rest of its expression.
    pub fn keep_retained_secrets(
        &self,
        module_path: &ModulePath,
        resource: &ResourceConfig,
        desired: &mut DesiredInstance,
        prior: Option<&ResourceState>,
    ) {
        let Some(prior) = prior else {
            return;
        };
        let retained = self.retained.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if retained.is_empty() {
            return;
        }
        let kept: Vec<String> = desired
            .secrets
            .iter()
            .filter(|(name, value)| value.is_unknown() && prior.secrets.contains_key(*name))
            .filter_map(|(name, _)| {
                let expression = &resource.body.attributes.get(name)?.value;
                let reads_retained = crate::config::references::references(expression)
                    .into_iter()
                    .any(|found| match found.reference {
                        crate::config::references::Reference::Resource {
                            mode,
                            resource_type,
                            name: source,
                            attribute: Some(attribute),
                        } => retained.contains(&(
                            ResourceAddress::new(module_path.clone(), mode, &resource_type, &source),
                            attribute,
                        )),
                        _ => false,
                    });
                reads_retained.then(|| name.clone())
            })
            .collect();
        for name in kept {
            desired.secrets.remove(&name);
            desired.unknown.retain(|unknown| unknown != &name);
            if let Some(record) = prior.secrets.get(&name) {
                desired.fingerprints.insert(name, record.fingerprint.clone());
            }
        }
    }

    /// Reads the current value of a secret attribute that another resource uses as its value source.
    pub async fn read_referenced_secret(
        &self,
        change: &InstanceChange,
        attribute: &str,
        id: &str,
    ) -> Result<Value, ProviderError> {
        let provider = self
            .providers
            .get(&change.provider)
            .cloned()
            .ok_or_else(|| ProviderError::new("UnknownProvider", format!("no provider {}", change.provider)))?;
        let request = crate::provider::ReadSecretRequest {
            resource_type: change.resource_type.clone(),
            id: id.to_string(),
            attribute: attribute.to_string(),
        };
        let value = {
            let _permit = self.permit().await;
            provider.read_secret(request).await
        };
        value.map(|secret| Value::string(secret.expose().to_string()).into_sensitive())
    }

    /// The module config at a path.
    pub fn module_at(&self, path: &ModulePath) -> Option<&ModuleConfig> {
        let mut module = &self.root;
        for step in &path.0 {
            module = &module.module_calls.get(&step.name)?.child;
        }
        Some(module)
    }

    pub fn report(&self, diagnostic: Diagnostic) {
        self.diagnostics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(diagnostic);
    }

    pub fn report_all(&self, diagnostics: Diagnostics) {
        self.diagnostics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(diagnostics);
    }

    /// Takes the diagnostics collected so far.
    pub fn take_diagnostics(&self) -> Diagnostics {
        std::mem::take(
            &mut *self
                .diagnostics
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    pub fn store(&self, symbol: Symbol, value: Value) {
        self.values
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(symbol, value);
    }

    /// Waits for a provider-call slot; the count of calls in flight is tracked.
    pub async fn permit(&self) -> CallPermit<'_> {
        let permit = self.semaphore.acquire().await.unwrap_or_else(|_| unreachable_permit());
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        CallPermit {
            engine: self,
            _permit: permit,
        }
    }

    /// The most provider calls that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak_in_flight.load(Ordering::SeqCst)
    }

    pub fn scope<'a>(&'a self, module: &'a ModulePath, folder: &'a std::path::Path) -> Scope<'a> {
        Scope {
            module,
            folder,
            root_folder: &self.folder,
            resolver: self,
            taint: &self.taint,
            each: None,
            count_index: None,
        }
    }

    pub fn provider(&self, key: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(key)
    }

    /// Turns a provider error into a diagnostic naming the address.
    pub fn provider_diagnostic(
        &self,
        address: &str,
        operation: &str,
        error: &ProviderError,
        span: Option<crate::diag::Span>,
    ) -> Diagnostic {
        let mut diagnostic = Diagnostic::error(
            Code::ProviderError,
            format!("{address}: {operation} failed: {}", error.message),
        )
        .with_note(format!("provider error code: {}", error.code))
        .with_optional_label(span, "declared here");
        if error.code == "KF6001" {
            diagnostic.code = Code::MasterKey;
        }
        diagnostic.with_help(
            error.help.clone().unwrap_or_else(|| {
                "fix the cause and run keyform again; what succeeded is recorded in state".to_string()
            }),
        )
    }

    /// Evaluates a node during a plan. Returns false when it failed.
    pub async fn plan_node(&self, node: Node, state: &State, plan: &Mutex<Plan>) -> bool {
        match &node {
            Node::Variable(module, name) => self.evaluate_variable(module, name),
            Node::Local(module, name) => {
                let Some(config) = self.module_at(module) else {
                    return false;
                };
                let Some(local) = config.locals.get(name) else {
                    return false;
                };
                match evaluate(&local.value, &self.scope(module, &config.folder)) {
                    Ok(value) => {
                        self.store(Symbol::Local(module.clone(), name.clone()), value);
                        true
                    }
                    Err(diagnostic) => {
                        self.report(diagnostic);
                        false
                    }
                }
            }
            Node::Output(module, name) => self.evaluate_output(module, name, state, plan),
            Node::Provider(key) => self.configure_provider(key).await,
            Node::Resource(address) => self.plan_resource(address, state, plan).await,
        }
    }

    fn evaluate_variable(&self, module: &ModulePath, name: &str) -> bool {
        let Some(config) = self.module_at(module) else {
            return false;
        };
        let Some(variable) = config.variables.get(name) else {
            return false;
        };
        let mut span = variable.span.clone();
        let given = if module.is_root() {
            self.inputs.get(name).map(|input| {
                span = input.span.clone().or(span.clone());
                Ok(input.value.clone())
            })
        } else {
            let parent_path = ModulePath(module.0[..module.0.len() - 1].to_vec());
            let call_name = &module.0[module.0.len() - 1].name;
            self.module_at(&parent_path)
                .and_then(|parent| parent.module_calls.get(call_name).map(|call| (parent, call)))
                .and_then(|(parent, call)| {
                    call.arguments
                        .get(name)
                        .map(|argument| evaluate(&argument.value, &self.scope(&parent_path, &parent.folder)))
                })
        };
        let value = match given {
            Some(Ok(value)) => value,
            Some(Err(diagnostic)) => {
                self.report(diagnostic);
                return false;
            }
            None => match &variable.default {
                Some(default) => match evaluate(default, &self.scope(module, &config.folder)) {
                    Ok(value) => value,
                    Err(diagnostic) => {
                        self.report(diagnostic);
                        return false;
                    }
                },
                None => {
                    let how = if module.is_root() {
                        format!("pass --var {name}=..., put it in a --var-file, or set KEYFORM_VAR_{name}")
                    } else {
                        format!("set {name} = ... in the module block that calls {module}")
                    };
                    self.report(
                        Diagnostic::error(Code::MissingVariable, format!("variable `{name}` has no value"))
                            .with_optional_label(variable.span.clone(), "declared without a default")
                            .with_help(how),
                    );
                    return false;
                }
            },
        };
        let value = match convert_type(&value, &variable.type_constraint) {
            Ok(value) => value,
            Err(problem) => {
                let shown = if variable.sensitive {
                    "(sensitive)".to_string()
                } else {
                    value.render()
                };
                self.report(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        format!("variable `{name}` must be {}: {problem}", variable.type_constraint),
                    )
                    .with_optional_label(span, format!("the value given is {shown}"))
                    .with_help(format!("give a value of type {}", variable.type_constraint)),
                );
                return false;
            }
        };
        let value = if variable.sensitive {
            value.into_sensitive()
        } else {
            value
        };
        let symbol = Symbol::Variable(module.clone(), name.to_string());
        self.store(symbol, value.clone());
        let scope = self.scope(module, &config.folder);
        let mut valid = true;
        for validation in &variable.validations {
            match evaluate(&validation.condition, &scope) {
                Ok(result) if result.as_bool() == Some(true) || result.is_unknown() => {}
                Ok(result) if result.as_bool() == Some(false) => {
                    let message = evaluate(&validation.error_message, &scope)
                        .ok()
                        .filter(|message| !message.deep_sensitive())
                        .and_then(|message| message.to_plain_string())
                        .unwrap_or_else(|| "the value is not valid".to_string());
                    let mut diagnostic = Diagnostic::error(
                        Code::VariableValidation,
                        format!("invalid value for variable `{name}`: {message}"),
                    )
                    .with_optional_label(validation.condition.span(), "this condition is false")
                    .with_help("give a value that satisfies the condition");
                    if let Some(input) = module.is_root().then(|| self.inputs.get(name)).flatten() {
                        diagnostic = diagnostic
                            .with_optional_label(input.span.clone(), "the value given")
                            .with_note(format!("the value came from {}", input.origin));
                    }
                    self.report(diagnostic);
                    valid = false;
                }
                Ok(result) => {
                    self.report(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            format!(
                                "a validation condition must be true or false, got a {}",
                                result.type_name()
                            ),
                        )
                        .with_optional_label(validation.condition.span(), "not a bool")
                        .with_help("write a comparison, such as length(var.x) > 0"),
                    );
                    valid = false;
                }
                Err(diagnostic) => {
                    self.report(diagnostic);
                    valid = false;
                }
            }
        }
        valid
    }

    fn evaluate_output(&self, module: &ModulePath, name: &str, state: &State, plan: &Mutex<Plan>) -> bool {
        let Some(config) = self.module_at(module) else {
            return false;
        };
        let Some(output) = config.outputs.get(name) else {
            return false;
        };
        let value = match evaluate(&output.value, &self.scope(module, &config.folder)) {
            Ok(value) => value,
            Err(diagnostic) => {
                self.report(diagnostic);
                return false;
            }
        };
        if module.is_root() && value.deep_sensitive() && !output.sensitive {
            self.report(
                Diagnostic::error(
                    Code::HardcodedSecret,
                    format!("output `{name}` would show a sensitive value"),
                )
                .with_optional_label(output.value.span(), "sensitive")
                .with_help("add sensitive = true to the output; keyform then records it without its value"),
            );
            return false;
        }
        let value = if output.sensitive {
            value.into_sensitive()
        } else {
            value
        };
        self.store(Symbol::Output(module.clone(), name.to_string()), value.clone());
        if module.is_root() {
            let recorded = OutputState {
                sensitive: output.sensitive,
                value: if output.sensitive || value.has_unknown() {
                    None
                } else {
                    Some(value.to_json())
                },
            };
            let mut plan = plan.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if state.outputs.get(name) != Some(&recorded) {
                plan.outputs_changed = true;
            }
            plan.outputs.insert(name.to_string(), recorded);
        }
        true
    }

    /// Evaluates a provider block and configures the driver (once per run).
    pub async fn configure_provider(&self, key: &str) -> bool {
        if self
            .configured
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(key)
        {
            return true;
        }
        let Some(provider) = self.providers.get(key).cloned() else {
            return false;
        };
        let config: Option<&ProviderConfig> = self.root.providers.iter().find(|provider| provider.key() == key);
        let mut attributes = serde_json::Map::new();
        let mut secrets = BTreeMap::new();
        let mut ok = true;
        if let Some(config) = config {
            let schema = provider.provider_schema();
            let root = ModulePath::root();
            let scope = self.scope(&root, &self.folder);
            for attribute in config.body.attributes.values() {
                let Some(attribute_schema) = schema.iter().find(|candidate| candidate.name == attribute.name) else {
                    let names: Vec<&str> = schema.iter().map(|candidate| candidate.name).collect();
                    self.report(crate::diag::unknown_attribute(
                        &format!("provider \"{}\"", provider.name()),
                        &attribute.name,
                        attribute.name_span.clone(),
                        &names,
                    ));
                    ok = false;
                    continue;
                };
                match evaluate(&attribute.value, &scope) {
                    Ok(value) if attribute_schema.is_secret() => {
                        match super::provider_blocks::provider_secret(&attribute.name, &value, attribute.value.span()) {
                            Ok(secret) => {
                                secrets.insert(attribute.name.clone(), secret);
                            }
                            Err(diagnostic) => {
                                self.report(diagnostic);
                                ok = false;
                            }
                        }
                    }
                    Ok(value) => match super::desired::convert(&value, attribute_schema.attribute_type) {
                        Ok(json) => {
                            attributes.insert(attribute.name.clone(), json);
                        }
                        Err(wanted) => {
                            self.report(
                                Diagnostic::error(Code::TypeMismatch, format!("`{}` must be {wanted}", attribute.name))
                                    .with_optional_label(
                                        attribute.value.span(),
                                        format!("this is a {}", value.type_name()),
                                    )
                                    .with_help(attribute_schema.description),
                            );
                            ok = false;
                        }
                    },
                    Err(diagnostic) => {
                        self.report(diagnostic);
                        ok = false;
                    }
                }
            }
            // Nested blocks (`assume_role { ... }`): one JSON object per block, under its name.
            for diagnostic in super::provider_blocks::evaluate_provider_blocks(
                provider.as_ref(),
                &config.body,
                &scope,
                &mut attributes,
                &mut secrets,
            ) {
                self.report(diagnostic);
                ok = false;
            }
        }
        if !ok {
            return false;
        }
        let request = ConfigureRequest {
            folder: self.folder.clone(),
            attributes,
            secrets,
        };
        let result = {
            let _permit = self.permit().await;
            provider.configure(request).await
        };
        match result {
            Ok(()) => {
                self.configured
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(key.to_string());
                true
            }
            Err(error) => {
                let mut diagnostic =
                    self.provider_diagnostic(key, "configure", &error, config.and_then(|config| config.span.clone()));
                if diagnostic.code == Code::ProviderError {
                    diagnostic.code = Code::ProviderConfig;
                }
                self.report(diagnostic);
                false
            }
        }
    }

    /// The resource config and schema behind an address (with diagnostics for unknown types).
    pub fn resource_config(
        &self,
        address: &ResourceAddress,
    ) -> Option<(&ModuleConfig, &ResourceConfig, &ResourceSchema)> {
        let module = self.module_at(&address.module)?;
        let local = ResourceAddress {
            module: ModulePath::root(),
            ..address.clone()
        };
        let resource = module.resources.get(&local)?;
        // Unknown types were reported by `checks::check_configuration` before the engine was built.
        let schemas = if resource.mode == ResourceMode::Data {
            &self.data_schemas
        } else {
            &self.schemas
        };
        let schema = schemas.get(&resource.resource_type)?;
        Some((module, resource, schema))
    }

    /// Expands count / for_each into instance keys with their `each` values.
    pub fn expand(
        &self,
        module_path: &ModulePath,
        module: &ModuleConfig,
        resource: &ResourceConfig,
    ) -> Result<Vec<Instance>, Diagnostic> {
        let scope = self.scope(module_path, &module.folder);
        if let Some(count) = &resource.count {
            let value = evaluate(count, &scope)?;
            if value.is_unknown() {
                return Err(unknown_meta(count, "count"));
            }
            let number = value
                .as_number()
                .filter(|number| *number >= 0.0 && number.fract() == 0.0)
                .ok_or_else(|| {
                    Diagnostic::error(
                        Code::InvalidMetaArgument,
                        format!("count must be a whole number, got {}", value.render()),
                    )
                    .with_optional_label(count.span(), "not a whole number")
                    .with_help("write count = 3, or an expression giving a whole number")
                })?;
            return Ok((0..number as u64)
                .map(|index| (Some(InstanceKey::Index(index)), None))
                .collect());
        }
        if let Some(for_each) = &resource.for_each {
            let value = evaluate(for_each, &scope)?;
            if value.has_unknown() {
                return Err(unknown_meta(for_each, "for_each"));
            }
            if value.deep_sensitive() {
                return Err(
                    Diagnostic::error(Code::InvalidMetaArgument, "for_each cannot use a sensitive value")
                        .with_optional_label(for_each.span(), "sensitive")
                        .with_help("instance keys are shown in plans and written to state: use non-secret keys"),
                );
            }
            return match &value.kind {
                Kind::Map(entries) => Ok(entries
                    .iter()
                    .map(|(key, item)| {
                        (
                            Some(InstanceKey::Name(key.clone())),
                            Some((Value::string(key.clone()), item.clone())),
                        )
                    })
                    .collect()),
                Kind::List(items) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map(|key| {
                                (
                                    Some(InstanceKey::Name(key.to_string())),
                                    Some((Value::string(key), Value::string(key))),
                                )
                            })
                            .ok_or_else(|| {
                                Diagnostic::error(Code::InvalidMetaArgument, "for_each over a list needs strings")
                                    .with_optional_label(for_each.span(), "a list with a non-string")
                                    .with_help("use toset([\"a\", \"b\"]) or a map")
                            })
                    })
                    .collect(),
                _ => Err(Diagnostic::error(
                    Code::InvalidMetaArgument,
                    format!("for_each needs a map or a set of strings, got a {}", value.type_name()),
                )
                .with_optional_label(for_each.span(), "not a map or set")
                .with_help("write for_each = toset([\"a\", \"b\"]) or for_each = { a = 1 }")),
            };
        }
        Ok(vec![(None, None)])
    }

    /// Evaluates one instance's body.
    pub fn desired(
        &self,
        module_path: &ModulePath,
        module: &ModuleConfig,
        resource: &ResourceConfig,
        schema: &ResourceSchema,
        key: &Option<InstanceKey>,
        each: Option<(Value, Value)>,
    ) -> Result<DesiredInstance, Diagnostics> {
        let mut scope = self.scope(module_path, &module.folder);
        scope.each = each;
        scope.count_index = match key {
            Some(InstanceKey::Index(index)) if resource.count.is_some() => Some(*index),
            _ => None,
        };
        let desired = evaluate_instance(resource, schema, &scope, &self.fingerprint_key)?;
        self.validate_arguments(resource, &desired)?;
        Ok(desired)
    }

    /// What the provider says it can never accept in `desired` (known arguments only), as diagnostics at the
    /// attribute. The provider's message is a sentence that names what is wrong.
    fn validate_arguments(&self, resource: &ResourceConfig, desired: &DesiredInstance) -> Result<(), Diagnostics> {
        let Some(provider) = self.providers.get(&resource.provider_key()) else {
            return Ok(());
        };
        let request = crate::provider::ValidateRequest {
            resource_type: &resource.resource_type,
            arguments: &desired.attributes,
            unknown: &desired.unknown,
        };
        let problems = provider.validate_arguments(&request);
        if problems.is_empty() {
            return Ok(());
        }
        Err(problems
            .into_iter()
            .map(|problem| {
                let span = resource
                    .body
                    .attributes
                    .get(&problem.attribute)
                    .and_then(|attribute| attribute.value.span())
                    .or_else(|| resource.span.clone());
                let mut diagnostic = Diagnostic::error(
                    Code::InvalidArgument,
                    format!(
                        "{}.{}: {}",
                        resource.resource_type, resource.name, problem.error.message
                    ),
                )
                .with_optional_label(span, format!("{} cannot accept this", resource.resource_type));
                if let Some(help) = problem.error.help {
                    diagnostic = diagnostic.with_help(help);
                }
                diagnostic
            })
            .collect())
    }

    fn selected(&self, address: &InstanceAddress) -> bool {
        self.options.targets.is_empty() || self.options.targets.iter().any(|target| address.is_selected_by(target))
    }

    /// Expands a resource and evaluates every instance; None (with diagnostics reported) on failure.
    fn evaluate_instances(&self, address: &ResourceAddress) -> Option<EvaluatedResource<'_>> {
        let (module, resource, schema) = self.resource_config(address)?;
        let instances = match self.expand(&address.module, module, resource) {
            Ok(instances) => instances,
            Err(diagnostic) => {
                self.report(diagnostic);
                return None;
            }
        };
        let mut ok = true;
        let mut evaluated = Vec::new();
        for (key, each) in instances {
            match self.desired(&address.module, module, resource, schema, &key, each) {
                Ok(desired) => evaluated.push((address.instance(key), desired)),
                Err(diagnostics) => {
                    self.report_all(diagnostics);
                    ok = false;
                }
            }
        }
        ok.then_some((resource, schema, evaluated))
    }

    /// Reads a data source's instances (at plan time when their arguments are known, else at apply)
    /// and makes their attributes available to expressions. Data sources are never in state.
    pub async fn read_data_resource(&self, address: &ResourceAddress) -> bool {
        let Some((resource, schema, evaluated)) = self.evaluate_instances(address) else {
            return false;
        };
        let Some(provider) = self.providers.get(&resource.provider_key()).cloned() else {
            return false;
        };
        let mut ok = true;
        let mut values = Vec::new();
        for (instance, desired) in evaluated {
            let key = instance.key.clone();
            let mut change = InstanceChange::new(instance, &resource.resource_type, &resource.provider_key());
            if !desired.unknown.is_empty() {
                // Read at apply, once the arguments are known.
                change.action = Action::Create;
                change.desired = Some(desired);
                values.push((key, planned_value(&change, schema)));
                continue;
            }
            let request = crate::provider::ReadDataRequest {
                data_type: resource.resource_type.clone(),
                arguments: desired.attributes.clone(),
            };
            let answer = {
                let _permit = self.permit().await;
                provider.read_data(request).await
            };
            match answer {
                Ok(mut attributes) => {
                    for (name, value) in desired.attributes {
                        attributes.entry(name).or_insert(value);
                    }
                    values.push((key, Value::from_json(&serde_json::Value::Object(attributes))));
                }
                Err(error) => {
                    self.report(self.provider_diagnostic(
                        &change.address.to_string(),
                        "reading the data source",
                        &error,
                        resource.span.clone(),
                    ));
                    ok = false;
                }
            }
        }
        self.store(Symbol::Resource(address.clone()), collect_instances(resource, values));
        ok
    }

    async fn plan_resource(&self, address: &ResourceAddress, state: &State, plan: &Mutex<Plan>) -> bool {
        if address.mode == ResourceMode::Data {
            return self.read_data_resource(address).await;
        }
        let Some((resource, schema, planned)) = self.evaluate_instances(address) else {
            return false;
        };
        let mut ok = true;
        let import_ids = self.import_ids(address);
        let futures = planned.into_iter().map(|(instance, desired)| {
            let import_id = import_ids.get(&instance.to_string()).cloned();
            self.plan_instance(instance, resource, schema, desired, state, import_id)
        });
        let results = futures::future::join_all(futures).await;
        let mut values: Vec<(Option<InstanceKey>, Value)> = Vec::new();
        let mut changes = Vec::new();
        for result in results {
            match result {
                Ok(change) => {
                    let mut value = planned_value(&change, schema);
                    if let Err(diagnostic) = self.fill_read_secrets(&change, schema, &mut value).await {
                        self.report(diagnostic);
                        ok = false;
                    }
                    values.push((change.address.key.clone(), value));
                    changes.push(change);
                }
                Err(diagnostic) => {
                    self.report(diagnostic);
                    ok = false;
                }
            }
        }
        self.store(Symbol::Resource(address.clone()), collect_instances(resource, values));
        let mut plan = plan.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        plan.refreshed += changes.iter().filter(|change| change.prior.is_some()).count();
        plan.changes.extend(changes);
        ok
    }

    fn import_ids(&self, address: &ResourceAddress) -> HashMap<String, String> {
        let mut ids = HashMap::new();
        if let Some((target, id)) = &self.options.import
            && target.resource == *address
        {
            ids.insert(target.to_string(), id.clone());
        }
        if !address.module.is_root() {
            return ids;
        }
        let root = ModulePath::root();
        for import in &self.root.imports {
            let Ok(target) = parse_instance_address(&import.to) else {
                continue;
            };
            if target.resource != *address {
                continue;
            }
            match evaluate(&import.id, &self.scope(&root, &self.folder)) {
                Ok(value) => match value.to_plain_string() {
                    Some(id) if !value.deep_sensitive() => {
                        ids.insert(import.to.clone(), id);
                    }
                    _ => self.report(
                        Diagnostic::error(Code::TypeMismatch, "an import id must be a plain string")
                            .with_optional_label(import.id.span(), "not a plain string")
                            .with_help("write the provider's id of the object, such as the secret's name"),
                    ),
                },
                Err(diagnostic) => self.report(diagnostic),
            }
        }
        ids
    }

    /// Refreshes one instance and computes its change.
    async fn plan_instance(
        &self,
        address: InstanceAddress,
        resource: &ResourceConfig,
        schema: &ResourceSchema,
        mut desired: DesiredInstance,
        state: &State,
        import_id: Option<String>,
    ) -> Result<InstanceChange, Diagnostic> {
        let key = address.to_string();
        let provider_key = resource.provider_key();
        let provider =
            self.providers.get(&provider_key).cloned().ok_or_else(|| {
                Diagnostic::error(Code::UnknownProvider, format!("{key}: no provider {provider_key}"))
            })?;
        let mut change = InstanceChange::new(address.clone(), &resource.resource_type, &provider_key);
        change.prior = state.resources.get(&key).cloned();
        change.dependencies = self.graph.resource_dependencies(&address.resource);
        change.create_before_destroy = resource.lifecycle.create_before_destroy;
        if !self.selected(&address) {
            change.desired = Some(desired);
            return Ok(change);
        }
        let span = resource.span.clone();
        let fail =
            |operation: &str, error: ProviderError| self.provider_diagnostic(&key, operation, &error, span.clone());
        // Refresh what state records.
        if let Some(prior) = &change.prior {
            let _permit = self.permit().await;
            let read = provider
                .read(ReadRequest {
                    resource_type: resource.resource_type.clone(),
                    id: prior.id.clone(),
                    prior: prior.attributes.clone(),
                })
                .await;
            change.live = read.map_err(|error| fail("refresh", error))?;
            if change.live.is_none() {
                change.drift.push(AttributeChange {
                    name: "(object)".into(),
                    before: "exists".into(),
                    after: "deleted outside keyform".into(),
                    forces_replacement: false,
                });
            }
            if let Some(live) = &change.live {
                change.drift.extend(attribute_drift(prior, live, schema));
            }
        } else if let Some(pending) = state.pending_creates.get(&key) {
            // A create was interrupted: find what it made by its token.
            let _permit = self.permit().await;
            let found = provider
                .find_by_token(FindRequest {
                    resource_type: resource.resource_type.clone(),
                    token: pending.token.clone(),
                    attributes: desired.attributes.clone(),
                })
                .await
                .map_err(|error| fail("recovery lookup", error))?;
            if let Some(live) = found {
                change.prior = Some(state_from_live(
                    &key,
                    &resource.resource_type,
                    &provider_key,
                    &live,
                    &BTreeMap::new(),
                    Some(pending.token.clone()),
                ));
                change
                    .notes
                    .push("found again after an interrupted create; adopted, not created twice".into());
                change.adopted = true;
                change.live = Some(live);
            }
        } else if let Some(id) = &import_id {
            let _permit = self.permit().await;
            let found = provider
                .import(ImportRequest {
                    resource_type: resource.resource_type.clone(),
                    id: id.clone(),
                })
                .await
                .map_err(|error| fail("import", error))?;
            let Some(live) = found else {
                return Err(Diagnostic::error(
                    Code::ProviderError,
                    format!("{key}: there is no object with id `{id}` to import"),
                )
                .with_optional_label(span.clone(), "import target")
                .with_help("check the id in the import block"));
            };
            change.import_id = Some(id.clone());
            change.live = Some(live);
        } else if !self.options.destroy {
            // A create: an object with the same name may exist already.
            let found = {
                let _permit = self.permit().await;
                provider
                    .lookup_existing(FindRequest {
                        resource_type: resource.resource_type.clone(),
                        token: String::new(),
                        attributes: desired.attributes.clone(),
                    })
                    .await
                    .map_err(|error| fail("lookup before create", error))?
            };
            match found {
                Some(live) if matches!(live.status, LiveStatus::PendingDeletion { .. }) => {
                    change.prior = Some(state_from_live(
                        &key,
                        &resource.resource_type,
                        &provider_key,
                        &live,
                        &BTreeMap::new(),
                        None,
                    ));
                    change.live = Some(live);
                }
                Some(live) => {
                    // Planned as a create that the provider will refuse: say so now, with the way out.
                    self.report(
                        Diagnostic::warning(Code::ProviderError, format!("{key}: `{}` already exists and keyform does not manage it; creating it will fail", live.id))
                            .with_optional_label(span.clone(), "would create it again")
                            .with_help(format!("adopt it with an import block (to = {key}, id = \"{}\") or `keyform import {key} {}`, or choose another name", live.id, live.id)),
                    );
                }
                None => {}
            }
        }
        self.keep_retained_secrets(&address.resource.module, resource, &mut desired, change.prior.as_ref());
        decide(
            &mut change,
            schema,
            &desired,
            &resource.lifecycle.ignore_changes,
            Forced {
                replace: self.options.replace.iter().any(|target| address.is_selected_by(target)),
                rotate: self
                    .options
                    .rotate_now
                    .iter()
                    .any(|target| address.is_selected_by(target)),
            },
        );
        if matches!(change.action, Action::Update | Action::Replace)
            && let Some(current) = change
                .live
                .as_ref()
                .map(|live| (&live.id, &live.attributes))
                .or_else(|| change.prior.as_ref().map(|prior| (&prior.id, &prior.attributes)))
        {
            let request = crate::provider::CheckChangeRequest {
                resource_type: resource.resource_type.clone(),
                id: current.0.clone(),
                current: current.1.clone(),
                desired: desired.attributes.clone(),
            };
            if let Err(error) = provider.check_change(&request) {
                let mut diagnostic = self.provider_diagnostic(&key, "planning the change", &error, span.clone());
                diagnostic.code = Code::ChangeRefused;
                return Err(diagnostic);
            }
        }
        change.desired = Some(desired);
        Ok(change)
    }

    /// Runs the plan walk and adds deletions of what state has but the configuration no longer declares.
    pub async fn plan(&self, state: &State) -> Result<Plan, Diagnostics> {
        let plan = Mutex::new(Plan {
            lineage: state.lineage.clone(),
            serial: state.serial,
            ..Plan::default()
        });
        let moves = self.plan_moves(state);
        // Copy the state only when `moved` blocks change it (a large state is not cloned for nothing).
        let moved_state = if moves.is_empty() {
            std::borrow::Cow::Borrowed(state)
        } else {
            std::borrow::Cow::Owned(apply_moves(state, &moves))
        };
        let state: &State = &moved_state;
        let outcome = walk(&self.graph, |node| self.plan_node(node, state, &plan)).await;
        let mut diagnostics = self.take_diagnostics();
        if !outcome.failed.is_empty() && !diagnostics.has_errors() {
            diagnostics.push(Diagnostic::error(
                Code::InvalidExpression,
                format!(
                    "could not evaluate: {}",
                    outcome
                        .failed
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if diagnostics.has_errors() {
            return Err(diagnostics);
        }
        // Warnings of the walk (an object that a create would collide with) are shown with the plan.
        self.report_all(diagnostics);
        let mut plan = plan.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        plan.moves = moves;
        let declared: HashSet<String> = plan.changes.iter().map(|change| change.address.to_string()).collect();
        for (address, prior) in &state.resources {
            if declared.contains(address) {
                continue;
            }
            let Ok(instance) = parse_instance_address(address) else {
                continue;
            };
            if !self.selected(&instance) {
                continue;
            }
            plan.changes.push(orphan_change(instance, prior));
        }
        self.plan_interrupted_creates(state, &declared, &mut plan).await?;
        self.evaluate_checks();
        if self.options.destroy {
            for change in &mut plan.changes {
                if change.prior.is_some() && self.selected(&change.address) {
                    change.action = Action::Delete;
                    change.rotate = false;
                    change.changes.clear();
                } else {
                    change.action = Action::NoOp;
                }
            }
        }
        for change in &mut plan.changes {
            annotate_deletion(change, &self.schemas, state);
        }
        let protected: Vec<Diagnostic> = plan
            .changes
            .iter()
            .filter(|change| matches!(change.action, Action::Delete | Action::Replace))
            .filter_map(|change| self.prevent_destroy(change))
            .collect();
        if !protected.is_empty() {
            return Err(protected.into_iter().collect());
        }
        for change in &plan.changes {
            if change.rotate || change.action == Action::Rotate {
                continue;
            }
            if let (Some(desired), Some(rotation)) = (
                &change.desired,
                change.desired.as_ref().and_then(|desired| desired.rotation),
            ) && rotation_due(change, rotation.every)
                && !desired.secrets.is_empty()
                && desired.secrets.keys().all(|name| !desired.is_generated(name))
            {
                plan.warnings.push(format!("{}: rotation is due, but its value comes from a source keyform cannot renew; change the source to rotate it", change.address));
            }
        }
        plan.changes.sort_by(|left, right| left.address.cmp(&right.address));
        Ok(plan)
    }

    /// Evaluates the root module's `check` blocks; a false assertion is a warning, as in Terraform.
    fn evaluate_checks(&self) {
        let root = ModulePath::root();
        let scope = self.scope(&root, &self.folder);
        for check in &self.root.checks {
            for assertion in &check.assertions {
                match evaluate(&assertion.condition, &scope) {
                    Ok(result) if result.as_bool() == Some(false) => {
                        let message = evaluate(&assertion.error_message, &scope)
                            .ok()
                            .filter(|message| !message.deep_sensitive())
                            .and_then(|message| message.to_plain_string())
                            .unwrap_or_else(|| "the assertion is false".to_string());
                        self.report(
                            Diagnostic::warning(Code::CheckFailed, format!("check `{}`: {message}", check.name))
                                .with_optional_label(assertion.condition.span(), "this condition is false")
                                .with_help("the plan goes on; fix what the check looks at"),
                        );
                    }
                    Ok(_) => {}
                    Err(diagnostic) => self.report(Diagnostic {
                        severity: crate::diag::Severity::Warning,
                        ..diagnostic
                    }),
                }
            }
        }
    }

    /// Interrupted creates at addresses the configuration no longer declares: what they made
    /// (found by token) is destroyed like any orphan; an intent that made nothing is dropped.
    async fn plan_interrupted_creates(
        &self,
        state: &State,
        declared: &HashSet<String>,
        plan: &mut Plan,
    ) -> Result<(), Diagnostics> {
        for (address, pending) in &state.pending_creates {
            if declared.contains(address) || state.resources.contains_key(address) {
                continue;
            }
            let Ok(instance) = parse_instance_address(address) else {
                continue;
            };
            let Some(provider) = self.providers.get(&pending.provider).cloned() else {
                plan.warnings.push(format!("{address}: an interrupted create is recorded, but its provider {} is no longer configured; add it back so keyform can find what the create made", pending.provider));
                continue;
            };
            if !self.configure_provider(&pending.provider).await {
                return Err(self.take_diagnostics());
            }
            let request = FindRequest {
                resource_type: pending.resource_type.clone(),
                token: pending.token.clone(),
                attributes: pending.attributes.clone(),
            };
            let found = {
                let _permit = self.permit().await;
                provider.find_by_token(request).await
            };
            match found {
                Ok(Some(live)) => {
                    let prior = state_from_live(
                        address,
                        &pending.resource_type,
                        &pending.provider,
                        &live,
                        &BTreeMap::new(),
                        Some(pending.token.clone()),
                    );
                    let mut change = orphan_change(instance, &prior);
                    change.notes = vec!["made by an interrupted create, and no longer in the configuration".into()];
                    change.live = Some(live);
                    plan.changes.push(change);
                }
                Ok(None) => plan.abandon.push(address.clone()),
                Err(error) => {
                    return Err(self
                        .provider_diagnostic(address, "recovery lookup", &error, None)
                        .into());
                }
            }
        }
        Ok(())
    }

    fn prevent_destroy(&self, change: &InstanceChange) -> Option<Diagnostic> {
        let (_, resource, _) = self.resource_config(&change.address.resource)?;
        resource.lifecycle.prevent_destroy.then(|| {
            Diagnostic::error(
                Code::PreventDestroy,
                format!(
                    "{} has lifecycle.prevent_destroy, but the plan would {}",
                    change.address,
                    change.action.words()
                ),
            )
            .with_optional_label(resource.span.clone(), "protected resource")
            .with_help("remove prevent_destroy first if destroying it is really intended")
        })
    }

    /// The `moved` blocks that apply to this state, as (from, to) instance addresses.
    fn plan_moves(&self, state: &State) -> Vec<(String, String)> {
        let mut moves = Vec::new();
        for moved in &self.root.moved {
            let (Ok(from), Ok(to)) = (parse_instance_address(&moved.from), parse_instance_address(&moved.to)) else {
                continue;
            };
            for address in state.resources.keys() {
                let Ok(instance) = parse_instance_address(address) else {
                    continue;
                };
                if from.key.is_none() && to.key.is_none() && instance.resource == from.resource {
                    let target = to.resource.instance(instance.key.clone()).to_string();
                    if !state.resources.contains_key(&target) {
                        moves.push((address.clone(), target));
                    }
                } else if instance == from && !state.resources.contains_key(&moved.to) {
                    moves.push((address.clone(), to.to_string()));
                }
            }
        }
        moves
    }
}

/// Every expression of a module (not its children).
fn module_expressions(module: &ModuleConfig) -> Vec<&Expr> {
    let mut expressions: Vec<&Expr> = Vec::new();
    for resource in module.resources.values() {
        expressions.extend(resource.body.attributes.values().map(|attribute| &attribute.value));
        for block in &resource.body.blocks {
            expressions.extend(block.body.attributes.values().map(|attribute| &attribute.value));
        }
        expressions.extend(resource.count.iter().chain(resource.for_each.iter()));
    }
    expressions.extend(module.locals.values().map(|local| &local.value));
    expressions.extend(module.outputs.values().map(|output| &output.value));
    for call in module.module_calls.values() {
        expressions.extend(call.arguments.values().map(|argument| &argument.value));
    }
    for provider in &module.providers {
        expressions.extend(provider.body.attributes.values().map(|attribute| &attribute.value));
    }
    expressions
}

fn unreachable_permit() -> tokio::sync::SemaphorePermit<'static> {
    // The semaphore is never closed; this path cannot run.
    std::process::abort()
}

fn unknown_meta(expr: &Expr, what: &str) -> Diagnostic {
    Diagnostic::error(Code::InvalidMetaArgument, format!("{what} depends on values known only after apply"))
        .with_optional_label(expr.span(), "known only after apply")
        .with_help(format!("{what} must be known when planning: use values from variables or locals, or apply the resources it depends on first with --target"))
}

fn first_resource_of(root: &ModuleConfig, provider: &str) -> Option<crate::diag::Span> {
    root.resources
        .values()
        .find(|resource| resource.provider_name() == provider)
        .and_then(|resource| resource.span.clone())
}

/// Adds every env/file source an expression (and the locals and variables it uses) draws on.
fn collect_taint(expr: &Expr, module: &ModuleConfig, taint: &mut Taint, seen: &mut HashSet<String>) {
    use crate::config::references::{Reference, references};
    use hcl_edit::expr::Expression;
    use hcl_edit::visit::{Visit, visit_expr};
    struct Sources<'a> {
        module: &'a ModuleConfig,
        taint: &'a mut Taint,
    }
    impl Visit for Sources<'_> {
        fn visit_expr(&mut self, expression: &Expression) {
            if let Expression::FuncCall(call) = expression
                && let Some(argument) = call.args.iter().next()
                && let Some(text) = crate::config::load::literal_string(argument)
            {
                match call.name.name.value().as_str() {
                    "env" => {
                        self.taint.environment.insert(text);
                    }
                    "file" => {
                        self.taint.files.insert(normalize(&self.module.folder.join(text)));
                    }
                    _ => {}
                }
            }
            visit_expr(self, expression);
        }
    }
    Sources { module, taint }.visit_expr(&expr.expression);
    for found in references(expr) {
        if let Reference::Local(name) = &found.reference
            && seen.insert(name.clone())
            && let Some(local) = module.locals.get(name)
        {
            collect_taint(&local.value, module, taint, seen);
        }
    }
}

/// Converts a value to a variable's type constraint.
pub fn convert_type(value: &Value, constraint: &TypeConstraint) -> Result<Value, String> {
    if value.is_unknown() || value.is_null() {
        return Ok(value.clone());
    }
    let keep = |kind: Kind| Value { kind, ..value.clone() };
    match constraint {
        TypeConstraint::Any => Ok(value.clone()),
        TypeConstraint::String => value
            .to_plain_string()
            .map(|text| keep(Kind::String(text)))
            .ok_or_else(|| format!("got a {}", value.type_name())),
        TypeConstraint::Number => match &value.kind {
            Kind::Number(_) => Ok(value.clone()),
            Kind::String(text) => text
                .trim()
                .parse()
                .map(|number| keep(Kind::Number(number)))
                .map_err(|_| "got a string that is not a number".to_string()),
            _ => Err(format!("got a {}", value.type_name())),
        },
        TypeConstraint::Bool => match &value.kind {
            Kind::Bool(_) => Ok(value.clone()),
            Kind::String(text) if text == "true" || text == "false" => Ok(keep(Kind::Bool(text == "true"))),
            _ => Err(format!("got a {}", value.type_name())),
        },
        TypeConstraint::List(inner) | TypeConstraint::Set(inner) => match &value.kind {
            Kind::List(items) => {
                let mut converted = items
                    .iter()
                    .map(|item| convert_type(item, inner))
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(constraint, TypeConstraint::Set(_)) {
                    let mut seen = Vec::new();
                    converted.retain(|item| {
                        let json = item.to_json();
                        if seen.contains(&json) {
                            false
                        } else {
                            seen.push(json);
                            true
                        }
                    });
                }
                Ok(keep(Kind::List(converted)))
            }
            _ => Err(format!("got a {}", value.type_name())),
        },
        TypeConstraint::Map(inner) => match &value.kind {
            Kind::Map(entries) => {
                let converted = entries
                    .iter()
                    .map(|(key, item)| convert_type(item, inner).map(|item| (key.clone(), item)))
                    .collect::<Result<IndexMap<_, _>, _>>()?;
                Ok(keep(Kind::Map(converted)))
            }
            _ => Err(format!("got a {}", value.type_name())),
        },
        TypeConstraint::Object(fields) => match &value.kind {
            Kind::Map(entries) => {
                let mut converted = IndexMap::new();
                for (name, field) in fields {
                    let item = entries.get(name).cloned().unwrap_or_else(Value::null);
                    converted.insert(
                        name.clone(),
                        convert_type(&item, field).map_err(|problem| format!("attribute `{name}`: {problem}"))?,
                    );
                }
                Ok(keep(Kind::Map(converted)))
            }
            _ => Err(format!("got a {}", value.type_name())),
        },
    }
}

/// Builds the state record for a live object.
pub fn state_from_live(
    address: &str,
    resource_type: &str,
    provider: &str,
    live: &LiveObject,
    fingerprints: &BTreeMap<String, String>,
    create_token: Option<String>,
) -> ResourceState {
    let mut secrets = BTreeMap::new();
    for (attribute, fingerprint) in fingerprints {
        secrets.insert(
            attribute.clone(),
            crate::state::SecretRecord {
                fingerprint: fingerprint.clone(),
                version_id: live.secret_versions.get(attribute).cloned(),
            },
        );
    }
    ResourceState {
        address: address.to_string(),
        resource_type: resource_type.to_string(),
        provider: provider.to_string(),
        id: live.id.clone(),
        attributes: live.attributes.clone(),
        secrets,
        dependencies: Vec::new(),
        last_rotated: live.last_rotated.clone(),
        create_token,
    }
}

/// A state with `moved` blocks applied.
pub fn apply_moves(state: &State, moves: &[(String, String)]) -> State {
    let mut moved = state.clone();
    for (from, to) in moves {
        if let Some(mut resource) = moved.resources.remove(from) {
            resource.address = to.clone();
            moved.resources.insert(to.clone(), resource);
        }
    }
    moved
}

fn orphan_change(address: InstanceAddress, prior: &ResourceState) -> InstanceChange {
    let mut change = InstanceChange::new(address, &prior.resource_type, &prior.provider);
    change.action = Action::Delete;
    change.notes = vec!["no longer in the configuration".into()];
    change.prior = Some(prior.clone());
    change.dependencies = prior.dependencies.clone();
    change
}

fn annotate_deletion(change: &mut InstanceChange, schemas: &HashMap<String, ResourceSchema>, state: &State) {
    if !matches!(change.action, Action::Delete | Action::Replace) {
        return;
    }
    // What else in state refers to this object by its id (secrets encrypted under a key).
    if let Some(prior) = &change.prior {
        let id = serde_json::Value::String(prior.id.clone());
        let users: Vec<&str> = state
            .resources
            .values()
            .filter(|other| {
                other.address != prior.address
                    && other
                        .attributes
                        .iter()
                        .any(|(name, value)| name != "id" && *value == id)
            })
            .map(|other| other.address.as_str())
            .collect();
        if !users.is_empty() {
            change.notes.push(format!(
                "still used by {} resource(s): {}",
                users.len(),
                users.join(", ")
            ));
        }
    }
    let recoverable = schemas
        .get(&change.resource_type)
        .is_some_and(|schema| schema.recoverable_deletion);
    // What the refresh read first (a provider setting such as Azure's purge-on-destroy flags changes the
    // window without an apply), then what state recorded.
    let window = [
        change.live.as_ref().map(|live| &live.attributes),
        change.prior.as_ref().map(|prior| &prior.attributes),
    ]
    .into_iter()
    .flatten()
    .find_map(|attributes| {
        attributes
            .get("deletion_window_in_days")
            .or_else(|| attributes.get("recovery_window_in_days"))
            .and_then(serde_json::Value::as_u64)
    });
    match (recoverable, window) {
        (true, Some(0)) => change.irreversible = Some("deleted at once: the recovery window is 0 days".into()),
        (true, Some(days)) => {
            let when = std::time::SystemTime::now() + std::time::Duration::from_secs(days * 86_400);
            let date = humantime::format_rfc3339_seconds(when).to_string();
            change.irreversible = Some(format!(
                "recoverable for {days} days; irreversible after {}",
                &date[..10]
            ));
        }
        (true, None) => change.irreversible = Some("recoverable for the provider's deletion window".into()),
        (false, _) => change.irreversible = Some("irreversible".into()),
    }
}

fn rotation_due(change: &InstanceChange, every: u64) -> bool {
    let last = change
        .live
        .as_ref()
        .and_then(|live| live.last_rotated.clone())
        .or_else(|| change.prior.as_ref().and_then(|prior| prior.last_rotated.clone()));
    let Some(last) = last.and_then(|text| humantime::parse_rfc3339(&text).ok()) else {
        return false;
    };
    std::time::SystemTime::now()
        .duration_since(last)
        .is_ok_and(|elapsed| elapsed.as_secs() >= every)
}

fn render_json(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => "null".into(),
        Some(value) => Value::from_json(value).render(),
    }
}

/// Renders an attribute the way a plan shows it: durations as `90d`, blocks as `{ every = 90d }`.
fn render_attribute(schema: &ResourceSchema, name: &str, value: Option<&serde_json::Value>) -> String {
    use crate::config::duration::format_duration;
    use crate::provider::AttributeType;
    let duration = |value: &serde_json::Value| value.as_u64().map(format_duration);
    if let Some(attribute) = schema.attribute(name)
        && attribute.attribute_type == AttributeType::Duration
        && let Some(text) = value.and_then(duration)
    {
        return text;
    }
    if let (Some(block), Some(serde_json::Value::Object(fields))) = (schema.block(name), value) {
        let parts: Vec<String> = fields
            .iter()
            .map(|(field, inner)| {
                let is_duration = block
                    .attributes
                    .iter()
                    .any(|attribute| attribute.name == field && attribute.attribute_type == AttributeType::Duration);
                let shown = if is_duration {
                    duration(inner).unwrap_or_else(|| render_json(Some(inner)))
                } else {
                    render_json(Some(inner))
                };
                format!("{field} = {shown}")
            })
            .collect();
        return format!("{{ {} }}", parts.join(", "));
    }
    render_json(value)
}

/// Decides the action of an instance from desired, prior state and live object.
/// What the user asked for regardless of the configuration: `--replace`, `rotate --now`.
#[derive(Debug, Clone, Copy, Default)]
struct Forced {
    replace: bool,
    rotate: bool,
}

fn decide(
    change: &mut InstanceChange,
    schema: &ResourceSchema,
    desired: &DesiredInstance,
    ignore: &[String],
    forced: Forced,
) {
    let forced_replace = forced.replace;
    let ignored = |name: &str| ignore.iter().any(|ignored| ignored == "*" || ignored == name);
    let Some(live) = change.live.clone() else {
        change.action = Action::Create;
        for (name, value) in &desired.attributes {
            change.changes.push(AttributeChange {
                name: name.clone(),
                before: String::new(),
                after: render_attribute(schema, name, Some(value)),
                forces_replacement: false,
            });
        }
        // Secrets are listed below, once.
        for name in desired
            .unknown
            .iter()
            .filter(|name| !desired.secrets.contains_key(*name))
        {
            change.changes.push(AttributeChange {
                name: name.clone(),
                before: String::new(),
                after: "(known after apply)".into(),
                forces_replacement: false,
            });
        }
        for (name, value) in &desired.secrets {
            let after = if value.is_unknown() {
                "(sensitive, known after apply)".to_string()
            } else {
                value.render()
            };
            change.changes.push(AttributeChange {
                name: name.clone(),
                before: String::new(),
                after,
                forces_replacement: false,
            });
        }
        return;
    };
    let mut replace_because = Vec::new();
    for (name, value) in &desired.attributes {
        if ignored(name) {
            continue;
        }
        // Settings the provider does not report (a rotation schedule keyform runs) compare against state.
        let before = live
            .attributes
            .get(name)
            .or_else(|| change.prior.as_ref().and_then(|prior| prior.attributes.get(name)));
        // Inside a block, an argument known only at apply is listed on its own below: the block is compared
        // as if it kept its current value.
        let completed = with_unknown_kept(name, value, before, &desired.unknown);
        let value = completed.as_ref().unwrap_or(value);
        let same = before == Some(value)
            || (value.is_null() && before.is_none())
            || before.is_some_and(|before| {
                schema
                    .attribute(name)
                    .is_some_and(|attribute| attribute.same_value(before, value))
            });
        if same {
            continue;
        }
        // A block forces replacement when one of its attributes that does changes.
        let forces = schema.attribute(name).is_some_and(|attribute| attribute.force_new)
            || schema
                .block(name)
                .is_some_and(|block| block.forces_replacement(before, value));
        if forces {
            replace_because.push(name.clone());
        }
        change.changes.push(AttributeChange {
            name: name.clone(),
            before: render_attribute(schema, name, before),
            after: render_attribute(schema, name, Some(value)),
            forces_replacement: forces,
        });
    }
    // A block removed from the configuration that the provider still reports (a rotation through a Lambda)
    // is turned off.
    for block in &schema.blocks {
        let reported = live.attributes.get(block.name).filter(|value| value.is_object());
        if let Some(before) = reported
            && !desired.attributes.contains_key(block.name)
            && !ignored(block.name)
        {
            change.changes.push(AttributeChange {
                name: block.name.to_string(),
                before: render_attribute(schema, block.name, Some(before)),
                after: "(removed)".into(),
                forces_replacement: false,
            });
        }
    }
    for name in &desired.unknown {
        if !ignored(name) && !desired.secrets.contains_key(name) {
            let current = match name.split_once('.') {
                Some((block, inner)) => live.attributes.get(block).and_then(|block| block.get(inner)),
                None => live.attributes.get(name),
            };
            change.changes.push(AttributeChange {
                name: name.clone(),
                before: render_json(current),
                after: "(known after apply)".into(),
                forces_replacement: false,
            });
        }
    }
    for name in desired.secrets.keys() {
        if ignored(name) {
            continue;
        }
        let recorded = change.prior.as_ref().and_then(|prior| prior.secrets.get(name));
        let desired_fingerprint = desired.fingerprints.get(name);
        let changes_to = if desired.secrets.get(name).is_some_and(Value::is_unknown) {
            "(sensitive, known after apply)"
        } else {
            "(sensitive, changes)"
        };
        let live_version = live.secret_versions.get(name);
        match recorded {
            _ if change.import_id.is_some() => change.changes.push(AttributeChange {
                name: name.clone(),
                before: "(imported value)".into(),
                after: "(sensitive, will overwrite the imported value)".into(),
                forces_replacement: false,
            }),
            None => change.changes.push(AttributeChange {
                name: name.clone(),
                before: "(unknown)".into(),
                after: changes_to.into(),
                forces_replacement: false,
            }),
            Some(record) => {
                if record.version_id.is_some() && live_version != record.version_id.as_ref() {
                    change.drift.push(AttributeChange {
                        name: name.clone(),
                        before: format!("version {}", record.version_id.clone().unwrap_or_default()),
                        after: format!(
                            "version {} (written outside keyform)",
                            live_version.cloned().unwrap_or_else(|| "none".into())
                        ),
                        forces_replacement: false,
                    });
                    change.changes.push(AttributeChange {
                        name: name.clone(),
                        before: "(sensitive)".into(),
                        after: "(sensitive, restores the configured value)".into(),
                        forces_replacement: false,
                    });
                } else if desired_fingerprint != Some(&record.fingerprint) {
                    change.changes.push(AttributeChange {
                        name: name.clone(),
                        before: "(sensitive)".into(),
                        after: changes_to.into(),
                        forces_replacement: false,
                    });
                }
            }
        }
    }
    let pending = matches!(live.status, LiveStatus::PendingDeletion { .. });
    change.action = if change.import_id.is_some() {
        Action::Import
    } else if forced_replace || !replace_because.is_empty() {
        if forced_replace {
            change.notes.push("replacement requested with --replace".into());
        } else {
            change
                .notes
                .push(format!("{} forces replacement", replace_because.join(", ")));
        }
        Action::Replace
    } else if pending {
        change
            .notes
            .push("found pending deletion: it will be restored, not recreated".into());
        Action::Recover
    } else if !change.changes.is_empty() {
        Action::Update
    } else {
        Action::NoOp
    };
    let rotatable = desired.secrets.is_empty()
        || desired.rotated_by_provider
        || desired.secrets.keys().any(|name| desired.is_generated(name));
    let due = desired.rotation.filter(|rotation| rotation_due(change, rotation.every));
    if matches!(change.action, Action::NoOp | Action::Update | Action::Recover)
        && rotatable
        && (due.is_some() || forced.rotate)
    {
        let last = live.last_rotated.clone().unwrap_or_default();
        let reason = match due {
            Some(rotation) => format!(
                "rotation due (last rotated {}, every {})",
                last.get(..10).unwrap_or(&last),
                crate::config::duration::format_duration(rotation.every)
            ),
            None => "rotation requested with rotate --now".to_string(),
        };
        change.notes.push(reason);
        if change.action == Action::NoOp {
            change.action = Action::Rotate;
        } else {
            change.rotate = true;
        }
    }
}

/// `value` (the block `name` as configured) with each of its arguments that is known only at apply
/// (`name.ARGUMENT` in `unknown`) set to what `before` holds; None when the block has no such argument.
fn with_unknown_kept(
    name: &str,
    value: &serde_json::Value,
    before: Option<&serde_json::Value>,
    unknown: &[String],
) -> Option<serde_json::Value> {
    let prefix = format!("{name}.");
    let inner: Vec<&str> = unknown
        .iter()
        .filter_map(|unknown| unknown.strip_prefix(prefix.as_str()))
        .collect();
    if inner.is_empty() || !value.is_object() {
        return None;
    }
    let mut completed = value.clone();
    for argument in inner {
        match before.and_then(|before| before.get(argument)) {
            Some(current) => completed[argument] = current.clone(),
            None => {
                if let Some(fields) = completed.as_object_mut() {
                    fields.remove(argument);
                }
            }
        }
    }
    Some(completed)
}

/// Plain attributes the provider reports differently from what keyform last recorded.
fn attribute_drift(prior: &ResourceState, live: &LiveObject, schema: &ResourceSchema) -> Vec<AttributeChange> {
    let mut drift = Vec::new();
    for (name, before) in &prior.attributes {
        let Some(after) = live.attributes.get(name) else {
            continue;
        };
        // A secret's version id is reported with the secret itself.
        let secret_version = name == "version_id" && !prior.secrets.is_empty();
        if after != before && !secret_version {
            drift.push(AttributeChange {
                name: name.clone(),
                before: render_attribute(schema, name, Some(before)),
                after: render_attribute(schema, name, Some(after)),
                forces_replacement: false,
            });
        }
    }
    if let LiveStatus::PendingDeletion { deletion_date } = &live.status {
        drift.push(AttributeChange {
            name: "(object)".into(),
            before: "active".into(),
            after: format!("pending deletion, purged after {deletion_date}"),
            forces_replacement: false,
        });
    }
    drift
}

/// The value other expressions see for a planned instance.
fn planned_value(change: &InstanceChange, schema: &ResourceSchema) -> Value {
    let mut entries = IndexMap::new();
    let creating = matches!(change.action, Action::Create | Action::Replace);
    for attribute in &schema.attributes {
        let known = if creating {
            None
        } else {
            change
                .live
                .as_ref()
                .and_then(|live| live.attributes.get(attribute.name))
        };
        let desired = change
            .desired
            .as_ref()
            .and_then(|desired| desired.attributes.get(attribute.name));
        let value = if attribute.is_secret() {
            Value::unknown().into_sensitive()
        } else if let Some(desired) = desired {
            Value::from_json(desired)
        } else if change
            .desired
            .as_ref()
            .is_some_and(|desired| desired.unknown.iter().any(|name| name == attribute.name))
        {
            Value::unknown()
        } else if let Some(known) =
            known.filter(|_| !attribute.computed || !matches!(change.action, Action::Rotate) || attribute.name == "id")
        {
            Value::from_json(known)
        } else if attribute.computed {
            Value::unknown()
        } else {
            Value::null()
        };
        entries.insert(attribute.name.to_string(), value);
    }
    Value::map(entries)
}

/// The value of a resource as a whole: an object, a list (count) or a map (for_each).
pub fn collect_instances(resource: &ResourceConfig, mut values: Vec<(Option<InstanceKey>, Value)>) -> Value {
    values.sort_by(|left, right| left.0.cmp(&right.0));
    if resource.count.is_some() {
        Value::list(values.into_iter().map(|(_, value)| value).collect())
    } else if resource.for_each.is_some() {
        Value::map(
            values
                .into_iter()
                .filter_map(|(key, value)| match key {
                    Some(InstanceKey::Name(name)) => Some((name, value)),
                    _ => None,
                })
                .collect(),
        )
    } else {
        values
            .into_iter()
            .next()
            .map(|(_, value)| value)
            .unwrap_or_else(Value::unknown)
    }
}

/// Lets the apply walk build a change's provider key without the engine.
pub fn instance_provider_key(resource: &ResourceConfig) -> String {
    match &resource.provider {
        Some((name, alias)) => provider_key(name, alias.as_deref()),
        None => provider_key(resource.provider_name(), None),
    }
}

impl Engine {
    /// Evaluates every node without contacting a provider (for `validate`).
    pub async fn validate(&self) -> Diagnostics {
        let plan = Mutex::new(Plan::default());
        let state = State::default();
        let outcome = walk(&self.graph, |node| {
            let plan = &plan;
            let state = &state;
            async move {
                match &node {
                    Node::Provider(_) => true,
                    Node::Resource(address) => self.validate_resource(address),
                    _ => self.plan_node(node, state, plan).await,
                }
            }
        })
        .await;
        let _ = outcome;
        self.take_diagnostics()
    }

    fn validate_resource(&self, address: &ResourceAddress) -> bool {
        let Some((resource, schema, evaluated)) = self.evaluate_instances(address) else {
            return false;
        };
        let ok = true;
        let values = evaluated
            .into_iter()
            .map(|(instance, desired)| {
                let key = instance.key.clone();
                let mut change = InstanceChange::new(instance, &resource.resource_type, &resource.provider_key());
                change.action = Action::Create;
                change.desired = Some(desired);
                (key, planned_value(&change, schema))
            })
            .collect();
        self.store(Symbol::Resource(address.clone()), collect_instances(resource, values));
        ok
    }
}

//! Running each command.

use super::arguments::{Cli, Command, PlanFormat, RunArguments, SecretCommand};
use super::context::{KeyUse, configuration_folder, lock_timeout, prepare, state_folder};
use super::printer::Printer;
use super::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, files, state_commands};
use crate::apply::{ApplyEvent, apply};
use crate::diag::{Code, Diagnostic, Diagnostics, SourceMap};
use crate::plan::render::{render_markdown, render_text};
use crate::plan::saved::{PlanContext, SavedPlan, saved_changes};
use crate::plan::{Action, Plan};
use crate::provider::ReadSecretRequest;
use crate::state::{JournalEntry, OpenOptions, StateStore};
use std::path::PathBuf;
use std::sync::Mutex;

pub async fn run(cli: Cli, printer: Printer) -> i32 {
    match cli.command {
        Command::Init => files::init(printer),
        Command::Fmt { check, paths } => files::format(printer, check, &paths),
        Command::Validate(run) => validate(printer, &run).await,
        Command::Plan {
            run,
            out,
            detailed_exitcode,
            destroy,
            format,
        } => plan_command(printer, &run, out, detailed_exitcode, destroy, format).await,
        Command::Apply {
            run,
            plan_file: Some(plan_file),
            ..
        } => apply_saved(printer, &run, &plan_file).await,
        Command::Apply {
            run,
            plan_file: None,
            auto_approve,
        } => apply_command(printer, &run, auto_approve, false).await,
        Command::Destroy { run, auto_approve } => apply_command(printer, &run, auto_approve, true).await,
        Command::Rotate {
            mut run,
            now,
            auto_approve,
        } => {
            run.rotate_now = now;
            rotate(printer, &run, auto_approve).await
        }
        Command::Import { run, address, id } => import(printer, &run, &address, &id).await,
        Command::Show { plan_file } => state_commands::show(printer, plan_file.as_deref()),
        Command::Output { name, json } => state_commands::output(printer, name.as_deref(), json),
        Command::Graph => graph(printer),
        Command::Drift { run, format } => super::drift::drift(printer, &run, format).await,
        Command::State(command) => state_commands::run(printer, command),
        Command::Secret(SecretCommand::Get { address, attribute }) => secret_get(printer, &address, &attribute).await,
    }
}

fn fail(printer: Printer, diagnostics: &Diagnostics, sources: &SourceMap) -> i32 {
    printer.diagnostics(diagnostics, sources);
    EXIT_ERROR
}

fn open_store(
    engine_root: Option<&crate::config::model::ModuleConfig>,
    operation: &str,
    run: &RunArguments,
) -> Result<StateStore, Diagnostic> {
    let timeout = lock_timeout(&run.lock_timeout)?;
    let folder = state_folder(&configuration_folder(), engine_root);
    StateStore::open(
        &folder,
        &OpenOptions {
            operation: operation.to_string(),
            lock_timeout: timeout,
        },
    )
    .map_err(|error| state_commands::state_error(&error))
}

async fn validate(printer: Printer, run: &RunArguments) -> i32 {
    let sources = SourceMap::new();
    let engine = match prepare(run, &sources, false, KeyUse::Ephemeral) {
        Ok(engine) => engine,
        Err(diagnostics) => return fail(printer, &diagnostics, &sources),
    };
    let diagnostics = engine.validate().await;
    if diagnostics.has_errors() {
        return fail(printer, &diagnostics, &sources);
    }
    printer.diagnostics(&diagnostics, &sources);
    printer.out("The configuration is valid.");
    EXIT_OK
}

/// Plans with the state held locked; returns the plan and the store.
pub(super) async fn make_plan(
    printer: Printer,
    run: &RunArguments,
    destroy: bool,
    operation: &str,
) -> Result<(crate::plan::engine::Engine, StateStore, Plan, SourceMap), i32> {
    let sources = SourceMap::new();
    let engine = prepare(run, &sources, destroy, KeyUse::Configured)
        .map_err(|diagnostics| fail(printer, &diagnostics, &sources))?;
    let store = open_store(Some(&engine.root), operation, run)
        .map_err(|diagnostic| fail(printer, &diagnostic.into(), &sources))?;
    let started = std::time::Instant::now();
    let count = store.state().resources.len();
    let plan = engine
        .plan(store.state())
        .await
        .map_err(|diagnostics| fail(printer, &diagnostics, &sources))?;
    printer.err(&format!(
        "Refreshing {count} resources ... done in {:.2}s",
        started.elapsed().as_secs_f64()
    ));
    Ok((engine, store, plan, sources))
}

fn print_plan(printer: Printer, plan: &Plan, format: PlanFormat) {
    match format {
        PlanFormat::Text => {
            for line in render_text(plan).lines() {
                printer.out(&printer.plan_line(line));
            }
        }
        PlanFormat::Markdown => printer.out_raw(&render_markdown(plan)),
        PlanFormat::Json => {
            let changes = saved_changes(plan);
            let json = serde_json::json!({ "format_version": 1, "changes": changes, "moves": plan.moves, "empty": plan.is_empty() });
            printer.out(&serde_json::to_string_pretty(&json).unwrap_or_default());
        }
    }
}

async fn plan_command(
    printer: Printer,
    run: &RunArguments,
    out: Option<PathBuf>,
    detailed: bool,
    destroy: bool,
    format: PlanFormat,
) -> i32 {
    let (engine, store, plan, sources) = match make_plan(printer, run, destroy, "plan").await {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    drop(store);
    print_plan(printer, &plan, format);
    // The process exits right after this command: freeing a large plan and engine piece by
    // piece would take longer than making the plan, so their memory goes back with the process.
    let plan = std::mem::ManuallyDrop::new(plan);
    let engine = std::mem::ManuallyDrop::new(engine);
    printer.diagnostics(&engine.take_diagnostics(), &sources);
    if let Some(out) = out {
        let variables = run
            .variables
            .iter()
            .filter(|assignment| {
                assignment
                    .split_once('=')
                    .and_then(|(name, _)| engine.root.variables.get(name))
                    .is_some_and(|variable| !variable.sensitive)
            })
            .cloned()
            .collect();
        let context = PlanContext {
            folder: configuration_folder(),
            variable_files: run
                .variable_files
                .iter()
                .map(|path| std::path::absolute(path).unwrap_or_else(|_| path.clone()))
                .collect(),
            variables,
            targets: run.targets.clone(),
            replace: run.replace.clone(),
            destroy,
        };
        if let Err(error) = SavedPlan::new(&plan, context).write(&out) {
            let diagnostic = Diagnostic::error(
                Code::PlanFile,
                format!("cannot write the plan to {}: {error}", out.display()),
            )
            .with_help("check the folder exists and is writable");
            return fail(printer, &diagnostic.into(), &sources);
        }
        printer.out(&format!(
            "Saved to {}: apply it with `keyform apply {}`.",
            out.display(),
            out.display()
        ));
    }
    if detailed && !plan.is_empty() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

fn confirm(printer: Printer, auto_approve: bool, destroy: bool) -> Result<(), Diagnostic> {
    use std::io::{BufRead as _, IsTerminal as _};
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Diagnostic::error(
            Code::ApplyAborted,
            "not on a terminal, so keyform cannot ask for approval",
        )
        .with_help("review the plan, then run again with --auto-approve, or apply a saved plan file"));
    }
    let question = if destroy {
        "Destroy these resources?"
    } else {
        "Apply these changes?"
    };
    printer.out_raw(&format!("{question} Only 'yes' will be accepted: "));
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Diagnostic::error(Code::ApplyAborted, "apply cancelled").with_help("nothing was changed"))
    }
}

fn event_line(event: &ApplyEvent) -> String {
    let verb = match event.action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "destroyed (recoverably where the provider allows)",
        Action::Recover => "recovered",
        Action::Rotate => "rotated",
        Action::Import => "imported",
        Action::NoOp => "unchanged",
    };
    let id = event.id.as_ref().map(|id| format!(" (id {id})")).unwrap_or_default();
    format!(
        "{} {}: {verb} in {:.2}s{id}",
        event.action.symbol(),
        event.address,
        event.elapsed.as_secs_f64()
    )
}

async fn execute(
    printer: Printer,
    engine: &crate::plan::engine::Engine,
    store: StateStore,
    plan: Plan,
    sources: &SourceMap,
) -> i32 {
    let store = Mutex::new(store);
    let on_event = |event: &ApplyEvent| printer.out(&printer.plan_line(&event_line(event)));
    let outcome = apply(engine, plan, &store, &on_event).await;
    tracing::debug!(
        peak_in_flight = outcome.peak_in_flight,
        "peak provider calls in flight: {}",
        outcome.peak_in_flight
    );
    let count = |actions: &[Action]| {
        outcome
            .events
            .iter()
            .filter(|event| actions.contains(&event.action))
            .count()
    };
    let summary = format!(
        "{} added, {} changed, {} replaced, {} destroyed, {} rotated.",
        count(&[Action::Create]),
        count(&[Action::Update, Action::Recover, Action::Import]),
        count(&[Action::Replace]),
        count(&[Action::Delete]),
        count(&[Action::Rotate])
    );
    if outcome.diagnostics.has_errors() {
        printer.diagnostics(&outcome.diagnostics, sources);
        printer.err(&format!(
            "Apply failed: {summary} What succeeded is recorded in state; run apply again to continue from there."
        ));
        return EXIT_ERROR;
    }
    printer.diagnostics(&outcome.diagnostics, sources);
    printer.out(&format!("Apply complete: {summary}"));
    EXIT_OK
}

async fn apply_command(printer: Printer, run: &RunArguments, auto_approve: bool, destroy: bool) -> i32 {
    let operation = if destroy { "destroy" } else { "apply" };
    let (engine, store, plan, sources) = match make_plan(printer, run, destroy, operation).await {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    print_plan(printer, &plan, PlanFormat::Text);
    if plan.is_empty() {
        // No object changes; what the refresh found is recorded, as Terraform's apply does.
        let mut store = store;
        if let Err(diagnostic) = crate::apply::record_refreshed(&plan, &mut store) {
            return fail(printer, &diagnostic.into(), &sources);
        }
        printer.diagnostics(&engine.take_diagnostics(), &sources);
        return EXIT_OK;
    }
    if let Err(diagnostic) = confirm(printer, auto_approve, destroy) {
        return fail(printer, &diagnostic.into(), &sources);
    }
    execute(printer, &engine, store, plan, &sources).await
}

/// `keyform rotate`: a plan reduced to its rotations, applied. Other changes wait for `apply`.
async fn rotate(printer: Printer, run: &RunArguments, auto_approve: bool) -> i32 {
    let (engine, store, mut plan, sources) = match make_plan(printer, run, false, "rotate").await {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    let mut postponed = 0;
    for change in &mut plan.changes {
        let rotates = change.rotate || change.action == Action::Rotate;
        if change.action != Action::NoOp && !rotates {
            postponed += 1;
        }
        change.action = if rotates { Action::Rotate } else { Action::NoOp };
        change.rotate = false;
        change.changes.clear();
    }
    plan.moves.clear();
    plan.abandon.clear();
    plan.outputs_changed = false;
    print_plan(printer, &plan, PlanFormat::Text);
    if postponed > 0 {
        printer.err(&format!(
            "{postponed} other change(s) are pending; `keyform plan` shows them and `keyform apply` makes them."
        ));
    }
    if plan.is_empty() {
        printer.diagnostics(&engine.take_diagnostics(), &sources);
        return EXIT_OK;
    }
    if let Err(diagnostic) = confirm(printer, auto_approve, false) {
        return fail(printer, &diagnostic.into(), &sources);
    }
    execute(printer, &engine, store, plan, &sources).await
}

async fn apply_saved(printer: Printer, overrides: &RunArguments, path: &std::path::Path) -> i32 {
    let sources = SourceMap::new();
    let saved = match SavedPlan::read(path) {
        Ok(saved) => saved,
        Err(message) => {
            return fail(
                printer,
                &Diagnostic::error(Code::PlanFile, message)
                    .with_help("make a plan with keyform plan --out FILE")
                    .into(),
                &sources,
            );
        }
    };
    if let Err(error) = std::env::set_current_dir(&saved.folder) {
        let diagnostic = Diagnostic::error(
            Code::PlanFile,
            format!("the plan's folder {} cannot be used: {error}", saved.folder.display()),
        )
        .with_help("apply the plan on the machine and checkout it was made in");
        return fail(printer, &diagnostic.into(), &sources);
    }
    // Values of sensitive variables are never saved: they are given again with --var or --var-file.
    let run = RunArguments {
        variables: saved.variables.iter().chain(&overrides.variables).cloned().collect(),
        variable_files: saved
            .variable_files
            .iter()
            .chain(&overrides.variable_files)
            .cloned()
            .collect(),
        parallelism: overrides.parallelism,
        targets: saved.targets.clone(),
        replace: saved.replace.clone(),
        lock_timeout: overrides.lock_timeout.clone(),
        rotate_now: Vec::new(),
        import: None,
    };
    let (engine, store, plan, sources) = match make_plan(printer, &run, saved.destroy, "apply").await {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    let state = store.state();
    // A folder without a snapshot gets a fresh lineage at each run: an empty
    // state at serial 0 matches a plan made against an empty state at serial 0.
    let unborn =
        saved.serial == 0 && state.serial == 0 && state.resources.is_empty() && state.pending_creates.is_empty();
    if (state.lineage != saved.lineage && !unborn) || state.serial != saved.serial {
        let diagnostic = Diagnostic::error(
            Code::StalePlan,
            format!(
                "the state changed after {} was made (serial {} then, {} now)",
                path.display(),
                saved.serial,
                state.serial
            ),
        )
        .with_help("make a new plan with keyform plan --out FILE and review it");
        return fail(printer, &diagnostic.into(), &sources);
    }
    if saved_changes(&plan) != saved.changes || plan.moves != saved.moves {
        let diagnostic = Diagnostic::error(
            Code::StalePlan,
            format!(
                "{} no longer matches: the configuration, a value source or a live object changed since it was made",
                path.display()
            ),
        )
        .with_help("make a new plan with keyform plan --out FILE and review it");
        return fail(printer, &diagnostic.into(), &sources);
    }
    print_plan(printer, &plan, PlanFormat::Text);
    if plan.is_empty() {
        return EXIT_OK;
    }
    execute(printer, &engine, store, plan, &sources).await
}

async fn import(printer: Printer, run: &RunArguments, address: &str, id: &str) -> i32 {
    let targeted = RunArguments {
        targets: vec![address.to_string()],
        import: Some((address.to_string(), id.to_string())),
        ..run.clone()
    };
    let (_engine, mut store, plan, sources) = match make_plan(printer, &targeted, false, "import").await {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    let Some(change) = plan.changes.iter().find(|change| change.address.to_string() == address) else {
        let diagnostic = Diagnostic::error(
            Code::InvalidAddress,
            format!("{address} is not declared in the configuration"),
        )
        .with_help("declare the resource first, then import into it");
        return fail(printer, &diagnostic.into(), &sources);
    };
    let (Some(live), None) = (&change.live, &change.prior) else {
        let diagnostic = Diagnostic::error(Code::StateAddress, format!("{address} is already in state"))
            .with_help("use keyform state rm first to import another object to this address");
        return fail(printer, &diagnostic.into(), &sources);
    };
    let mut record = crate::plan::engine::state_from_live(
        address,
        &change.resource_type,
        &change.provider,
        live,
        &Default::default(),
        None,
    );
    record.dependencies = change.dependencies.clone();
    if let Err(error) = store.record(JournalEntry::Put(record)).and_then(|()| store.compact()) {
        return fail(printer, &state_commands::state_error(&error).into(), &sources);
    }
    printer.out(&format!(
        "{address}: imported {id}. Run keyform plan to see how it differs from the configuration."
    ));
    EXIT_OK
}

fn graph(printer: Printer) -> i32 {
    let sources = SourceMap::new();
    let (root, mut diagnostics) = crate::config::load::load_configuration(&configuration_folder(), &sources);
    diagnostics.extend(crate::plan::checks::check_configuration(&root, &sources));
    if diagnostics.has_errors() {
        return fail(printer, &diagnostics, &sources);
    }
    match crate::graph::build_graph(&root) {
        Ok(graph) => {
            printer.out_raw(&graph.to_dot());
            EXIT_OK
        }
        Err(diagnostics) => fail(printer, &diagnostics, &sources),
    }
}

async fn secret_get(printer: Printer, address: &str, attribute: &str) -> i32 {
    let sources = SourceMap::new();
    let run = RunArguments {
        targets: vec![address.to_string()],
        parallelism: 1,
        lock_timeout: "0s".into(),
        ..RunArguments::default()
    };
    let engine = match prepare(&run, &sources, false, KeyUse::Configured) {
        Ok(engine) => engine,
        Err(diagnostics) => return fail(printer, &diagnostics, &sources),
    };
    let folder = state_folder(&configuration_folder(), Some(&engine.root));
    let state = match StateStore::read(&folder) {
        Ok(state) => state,
        Err(error) => return fail(printer, &state_commands::state_error(&error).into(), &sources),
    };
    let Some(resource) = state.resources.get(address) else {
        let diagnostic = Diagnostic::error(Code::StateAddress, format!("{address} is not in state"))
            .with_help("list the addresses with keyform state list");
        return fail(printer, &diagnostic.into(), &sources);
    };
    if !engine.configure_provider(&resource.provider).await {
        return fail(printer, &engine.take_diagnostics(), &sources);
    }
    let Some(provider) = engine.provider(&resource.provider).cloned() else {
        return EXIT_ERROR;
    };
    let request = ReadSecretRequest {
        resource_type: resource.resource_type.clone(),
        id: resource.id.clone(),
        attribute: attribute.to_string(),
    };
    match provider.read_secret(request).await {
        Ok(value) => {
            printer.out(value.expose());
            EXIT_OK
        }
        Err(error) => fail(
            printer,
            &engine
                .provider_diagnostic(address, "reading the secret", &error, None)
                .into(),
            &sources,
        ),
    }
}

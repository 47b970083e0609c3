//! `keyform drift`: what changed at the providers behind keyform's back, for
//! cron. **Exit 0 clean, 2 drift found, 1 error; it changes nothing.** A
//! listing that fails is reported with the rest of the report, not instead of
//! it, and makes the exit 1.

use super::arguments::{PlanFormat, RunArguments};
use super::printer::Printer;
use super::run::make_plan;
use super::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK};
use crate::diag::Diagnostics;
use crate::plan::{Action, AttributeChange, Plan};
use std::collections::HashSet;

/// One resource whose live object differs from what keyform last recorded.
#[derive(Debug, serde::Serialize)]
struct ManagedDrift {
    address: String,
    changes: Vec<AttributeChange>,
}

/// An object at a provider that no state entry manages.
#[derive(Debug, serde::Serialize)]
struct Unmanaged {
    provider: String,
    #[serde(rename = "type")]
    resource_type: String,
    id: String,
}

#[derive(Debug, Default, serde::Serialize)]
struct Report {
    managed: Vec<ManagedDrift>,
    unmanaged: Vec<Unmanaged>,
    overdue_rotations: Vec<String>,
    /// Rotations that are due but keyform cannot perform (the value comes from env or a file).
    warnings: Vec<String>,
    /// Configuration changes not yet applied (not drift, shown for context).
    pending_changes: usize,
}

impl Report {
    fn is_clean(&self) -> bool {
        self.managed.is_empty()
            && self.unmanaged.is_empty()
            && self.overdue_rotations.is_empty()
            && self.warnings.is_empty()
    }
}

fn managed(plan: &Plan) -> Vec<ManagedDrift> {
    plan.changes
        .iter()
        .filter(|change| !change.drift.is_empty())
        .map(|change| ManagedDrift {
            address: change.address.to_string(),
            changes: change.drift.clone(),
        })
        .collect()
}

pub async fn drift(printer: Printer, run: &RunArguments, format: PlanFormat) -> i32 {
    let (engine, store, plan, sources) = match make_plan(printer, run, false, "drift").await {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    let mut report = Report {
        managed: managed(&plan),
        overdue_rotations: plan
            .changes
            .iter()
            .filter(|change| change.rotate || change.action == Action::Rotate)
            .map(|change| change.address.to_string())
            .collect(),
        pending_changes: plan
            .changes
            .iter()
            .filter(|change| !matches!(change.action, Action::NoOp | Action::Rotate) && change.drift.is_empty())
            .count(),
        warnings: plan.warnings.clone(),
        ..Report::default()
    };
    let known: HashSet<(String, String)> = store
        .state()
        .resources
        .values()
        .map(|resource| (resource.resource_type.clone(), resource.id.clone()))
        .collect();
    drop(store);
    // A provider or type that cannot be listed is an error, but the others are still listed and the report is
    // still printed: a cron job sees the drift it can, and exits 1 because the report is incomplete.
    let mut failures = Diagnostics::new();
    let mut keys: Vec<&String> = engine.providers.keys().collect();
    keys.sort();
    for key in keys {
        let Some(provider) = engine.provider(key).cloned() else {
            continue;
        };
        if !engine.configure_provider(key).await {
            failures.extend(engine.take_diagnostics());
            continue;
        }
        for schema in provider.schema() {
            match provider.list(schema.type_name).await {
                Ok(ids) => {
                    for id in ids {
                        if !known.contains(&(schema.type_name.to_string(), id.clone())) {
                            report.unmanaged.push(Unmanaged {
                                provider: key.clone(),
                                resource_type: schema.type_name.to_string(),
                                id,
                            });
                        }
                    }
                }
                Err(error) => failures.push(engine.provider_diagnostic(
                    key,
                    &format!("listing {}", schema.type_name),
                    &error,
                    None,
                )),
            }
        }
    }
    match format {
        PlanFormat::Json => printer.out(&serde_json::to_string_pretty(&report).unwrap_or_default()),
        PlanFormat::Text | PlanFormat::Markdown => print_text(printer, &report, !failures.has_errors()),
    }
    failures.extend(engine.take_diagnostics());
    printer.diagnostics(&failures, &sources);
    if failures.has_errors() {
        EXIT_ERROR
    } else if report.is_clean() {
        EXIT_OK
    } else {
        EXIT_CHANGES
    }
}

/// The report as text; `complete` is false when some objects could not be listed, and then a clean report does
/// not claim there is no drift.
fn print_text(printer: Printer, report: &Report, complete: bool) {
    if report.is_clean() && complete {
        printer.out("No drift: the live objects match what keyform last applied.");
    } else if report.is_clean() {
        printer.out("No drift among what could be listed; see the errors below for what could not.");
    }
    for drift in &report.managed {
        printer.out(&printer.plan_line(&format!("  ! {}   changed outside keyform", drift.address)));
        for change in &drift.changes {
            printer.out(&format!("      {}: {} -> {}", change.name, change.before, change.after));
        }
    }
    for object in &report.unmanaged {
        printer.out(&format!(
            "  ? {} {} ({})   not managed by keyform",
            object.resource_type, object.id, object.provider
        ));
    }
    for address in &report.overdue_rotations {
        printer.out(&printer.plan_line(&format!("  ⟳ {address}   rotation overdue")));
    }
    for warning in &report.warnings {
        printer.out(&format!("  ! {warning}"));
    }
    if report.pending_changes > 0 {
        printer.out(&format!(
            "{} configuration change(s) are not applied yet (not drift): see keyform plan.",
            report.pending_changes
        ));
    }
}

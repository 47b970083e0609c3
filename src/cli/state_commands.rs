//! `show`, `output` and `state list|show|rm|mv|unlock`.

use super::arguments::StateCommand;
use super::context::{configuration_folder, lock_timeout, state_folder_quick};
use super::printer::Printer;
use super::{EXIT_ERROR, EXIT_OK};
use crate::addr::parse_instance_address;
use crate::diag::{Code, Diagnostic, SourceMap};
use crate::plan::saved::SavedPlan;
use crate::state::{JournalEntry, OpenOptions, State, StateError, StateStore, force_unlock};

/// A state error as a diagnostic.
pub fn state_error(error: &StateError) -> Diagnostic {
    let (code, help) = match error {
        StateError::Locked { .. } => (
            Code::StateLocked,
            "wait for it to finish, retry with --lock-timeout 2m, or if that run is gone: keyform state unlock LOCK_ID",
        ),
        StateError::NewerVersion { .. } => (
            Code::StateVersion,
            "nothing was changed; run the keyform release named in the state file (keyform_version), or a newer one",
        ),
        StateError::Syntax { .. } => (
            Code::StateSyntax,
            "restore the state file from a backup; keyform will not overwrite it",
        ),
        StateError::LockIdMismatch { .. } | StateError::NotLocked { .. } => (
            Code::StateLocked,
            "run keyform state unlock with the id the lock message showed",
        ),
        _ => (Code::StateIo, "check the state folder's permissions and free space"),
    };
    Diagnostic::error(code, error.to_string()).with_help(help)
}

fn fail(printer: Printer, diagnostic: Diagnostic) -> i32 {
    printer.diagnostics(&diagnostic.into(), &SourceMap::new());
    EXIT_ERROR
}

fn read_state(printer: Printer) -> Result<State, i32> {
    StateStore::read(&state_folder_quick(&configuration_folder())).map_err(|error| fail(printer, state_error(&error)))
}

pub fn show(printer: Printer, plan_file: Option<&std::path::Path>) -> i32 {
    if let Some(path) = plan_file {
        return match SavedPlan::read(path) {
            Ok(saved) => {
                printer.out(&format!(
                    "Plan made {} against state serial {}:",
                    saved.created, saved.serial
                ));
                for change in &saved.changes {
                    printer.out(&printer.plan_line(&format!(
                        "  {} {}   {}",
                        change.action.symbol(),
                        change.address,
                        change.action.words()
                    )));
                    for attribute in &change.changes {
                        printer.out(&format!(
                            "        {}: {} -> {}",
                            attribute.name, attribute.before, attribute.after
                        ));
                    }
                }
                EXIT_OK
            }
            Err(message) => fail(
                printer,
                Diagnostic::error(Code::PlanFile, message).with_help("make a plan with keyform plan --out FILE"),
            ),
        };
    }
    let state = match read_state(printer) {
        Ok(state) => state,
        Err(code) => return code,
    };
    if state.resources.is_empty() {
        printer.out("The state is empty.");
        return EXIT_OK;
    }
    for resource in state.resources.values() {
        show_resource(printer, resource);
        printer.out("");
    }
    EXIT_OK
}

fn show_resource(printer: Printer, resource: &crate::state::ResourceState) {
    printer.out(&printer.bold(&format!("# {}:", resource.address)));
    printer.out(&format!("  id = {}", serde_json::Value::String(resource.id.clone())));
    // `id` is printed above; providers also report it as an attribute.
    for (name, value) in resource.attributes.iter().filter(|(name, _)| name.as_str() != "id") {
        printer.out(&format!("  {name} = {value}"));
    }
    for (name, record) in &resource.secrets {
        let version = record.version_id.as_deref().unwrap_or("unknown");
        printer.out(&format!("  {name} = (sensitive, version {version})"));
    }
    if let Some(last) = &resource.last_rotated {
        printer.out(&format!("  # last rotated {last}"));
    }
}

pub fn output(printer: Printer, name: Option<&str>, json: bool) -> i32 {
    let state = match read_state(printer) {
        Ok(state) => state,
        Err(code) => return code,
    };
    let render = |output: &crate::state::OutputState| -> String {
        match (&output.value, output.sensitive) {
            (_, true) => "(sensitive)".to_string(),
            (Some(value), false) if json => value.to_string(),
            (Some(serde_json::Value::String(text)), false) => text.clone(),
            (Some(value), false) => value.to_string(),
            (None, false) => "(known after apply)".to_string(),
        }
    };
    match name {
        Some(name) => match state.outputs.get(name) {
            Some(output) => {
                printer.out(&render(output));
                EXIT_OK
            }
            None => fail(
                printer,
                Diagnostic::error(Code::UndeclaredReference, format!("no output `{name}` in state"))
                    .with_help("run keyform output to list them; outputs are recorded by apply"),
            ),
        },
        None => {
            for (name, output) in &state.outputs {
                printer.out(&format!("{name} = {}", render(output)));
            }
            EXIT_OK
        }
    }
}

pub fn run(printer: Printer, command: StateCommand) -> i32 {
    let folder = state_folder_quick(&configuration_folder());
    match command {
        StateCommand::List => match read_state(printer) {
            Ok(state) => {
                for address in state.resources.keys() {
                    printer.out(address);
                }
                EXIT_OK
            }
            Err(code) => code,
        },
        StateCommand::Show { address } => match read_state(printer) {
            Ok(state) => match state.resources.get(&address) {
                Some(resource) => {
                    show_resource(printer, resource);
                    EXIT_OK
                }
                None => fail(printer, not_in_state(&address)),
            },
            Err(code) => code,
        },
        StateCommand::Rm {
            address,
            lock_timeout: timeout,
        } => change(
            printer,
            &folder,
            &timeout,
            "state rm",
            |state| {
                if !state.resources.contains_key(&address) {
                    return Err(not_in_state(&address));
                }
                Ok(vec![JournalEntry::Remove {
                    address: address.clone(),
                }])
            },
            &format!("Removed {} from state; the object itself was left alone.", address),
        ),
        StateCommand::Mv {
            from,
            to,
            lock_timeout: timeout,
        } => {
            if let Err(error) = parse_instance_address(&to) {
                return fail(
                    printer,
                    Diagnostic::error(Code::InvalidAddress, error.to_string())
                        .with_help("write an address such as local_secret.db"),
                );
            }
            change(
                printer,
                &folder,
                &timeout,
                "state mv",
                |state| {
                    if !state.resources.contains_key(&from) {
                        return Err(not_in_state(&from));
                    }
                    if state.resources.contains_key(&to) {
                        return Err(
                            Diagnostic::error(Code::StateAddress, format!("{to} is already in state"))
                                .with_help("remove or move it first"),
                        );
                    }
                    Ok(vec![JournalEntry::Move {
                        from: from.clone(),
                        to: to.clone(),
                    }])
                },
                &format!("Moved {from} to {to}."),
            )
        }
        StateCommand::Unlock { lock_id } => match force_unlock(&folder, &lock_id) {
            Ok(info) => {
                printer.out(&format!(
                    "Unlocked: the lock held by {} (pid {}, {}) since {} is cleared.",
                    info.who, info.pid, info.operation, info.created
                ));
                EXIT_OK
            }
            Err(error) => fail(printer, state_error(&error)),
        },
    }
}

fn not_in_state(address: &str) -> Diagnostic {
    Diagnostic::error(Code::StateAddress, format!("{address} is not in state"))
        .with_help("list the addresses with keyform state list")
}

fn change(
    printer: Printer,
    folder: &std::path::Path,
    timeout: &str,
    operation: &str,
    entries: impl FnOnce(&State) -> Result<Vec<JournalEntry>, Diagnostic>,
    done: &str,
) -> i32 {
    let timeout = match lock_timeout(timeout) {
        Ok(timeout) => timeout,
        Err(diagnostic) => return fail(printer, diagnostic),
    };
    let mut store = match StateStore::open(
        folder,
        &OpenOptions {
            operation: operation.to_string(),
            lock_timeout: timeout,
        },
    ) {
        Ok(store) => store,
        Err(error) => return fail(printer, state_error(&error)),
    };
    let entries = match entries(store.state()) {
        Ok(entries) => entries,
        Err(diagnostic) => return fail(printer, diagnostic),
    };
    for entry in entries {
        if let Err(error) = store.record(entry) {
            return fail(printer, state_error(&error));
        }
    }
    if let Err(error) = store.compact() {
        return fail(printer, state_error(&error));
    }
    printer.out(done);
    EXIT_OK
}

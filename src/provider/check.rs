//! What the core checks in a driver's answer before trusting it.
//! **State records nothing a driver returned without these checks.**

use super::{ApplyAction, ApplyRequest, LiveObject};

/// Checks an apply's answer; Err says what the driver got wrong.
pub fn check_applied(request: &ApplyRequest, response: &Option<LiveObject>) -> Result<(), String> {
    match (&request.action, response) {
        (ApplyAction::Delete { .. }, _) => Ok(()),
        (_, None) => Err("it reported success but returned no object".to_string()),
        (action, Some(live)) => {
            if live.id.trim().is_empty() {
                return Err("it returned an object without an id".to_string());
            }
            if let (Some(id), false) = (&request.id, matches!(action, ApplyAction::Create { .. }))
                && *id != live.id
            {
                return Err(format!("it was asked to change `{id}` but answered for `{}`", live.id));
            }
            for attribute in request.secrets.keys() {
                if !live.secret_versions.contains_key(attribute) {
                    return Err(format!("it wrote `{attribute}` but returned no version id for it"));
                }
            }
            Ok(())
        }
    }
}

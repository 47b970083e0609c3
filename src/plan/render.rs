//! Showing a plan as text (and Markdown for pull requests).
//! **Sensitive values render as `(sensitive)`; whether they change always shows.**

use super::types::{Action, InstanceChange, Plan};

/// Counts of a plan's actions, for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    pub rotate: usize,
    pub import: usize,
}

impl Summary {
    pub fn of(plan: &Plan) -> Summary {
        let mut summary = Summary::default();
        for change in &plan.changes {
            match change.action {
                Action::Create => summary.add += 1,
                Action::Update | Action::Recover => summary.change += 1,
                Action::Replace => summary.replace += 1,
                Action::Delete => summary.destroy += 1,
                Action::Rotate => summary.rotate += 1,
                Action::Import => summary.import += 1,
                Action::NoOp => {}
            }
            if change.rotate {
                summary.rotate += 1;
            }
        }
        summary
    }

    pub fn line(&self) -> String {
        let mut line = format!(
            "Plan: {} to add, {} to change, {} to replace, {} to destroy, {} to rotate",
            self.add, self.change, self.replace, self.destroy, self.rotate
        );
        if self.import > 0 {
            line.push_str(&format!(", {} to import", self.import));
        }
        line.push('.');
        line
    }
}

/// The lines of a document that a plan shows as a quoted string: a JSON document pretty-printed, or a text of
/// several lines (a Vault policy) as it is.
fn document_lines(rendered: &str) -> Option<Vec<String>> {
    let text: String = serde_json::from_str(rendered).ok()?;
    if let Ok(document) = serde_json::from_str::<serde_json::Value>(&text)
        && (document.is_object() || document.is_array())
    {
        let pretty = serde_json::to_string_pretty(&document).ok()?;
        return Some(pretty.lines().map(str::to_string).collect());
    }
    text.trim_end()
        .contains('\n')
        .then(|| text.trim_end().lines().map(str::to_string).collect())
}

/// A line diff (`  ` kept, `- ` removed, `+ ` added) of two documents (JSON, or texts of several lines), or None
/// when the values are not both documents.
fn document_diff(before: &str, after: &str) -> Option<Vec<String>> {
    let old = document_lines(before)?;
    let new = document_lines(after)?;
    // Longest common subsequence over lines; policies are small.
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for (row, old_line) in old.iter().enumerate().rev() {
        for (column, new_line) in new.iter().enumerate().rev() {
            common[row][column] = if old_line == new_line {
                common[row + 1][column + 1] + 1
            } else {
                common[row + 1][column].max(common[row][column + 1])
            };
        }
    }
    let (mut row, mut column) = (0, 0);
    let mut lines = Vec::new();
    while row < old.len() || column < new.len() {
        if row < old.len() && column < new.len() && old[row] == new[column] {
            lines.push(format!("  {}", old[row]));
            row += 1;
            column += 1;
        } else if row < old.len() && (column == new.len() || common[row + 1][column] >= common[row][column + 1]) {
            // Removed lines first, as diff tools show them.
            lines.push(format!("- {}", old[row]));
            row += 1;
        } else {
            lines.push(format!("+ {}", new[column]));
            column += 1;
        }
    }
    Some(lines)
}

fn visible(change: &InstanceChange) -> bool {
    change.action != Action::NoOp || change.rotate
}

/// The plan as the terminal shows it (without colour; the CLI adds colour).
pub fn render_text(plan: &Plan) -> String {
    let mut text = String::new();
    let drifted: Vec<&InstanceChange> = plan.changes.iter().filter(|change| !change.drift.is_empty()).collect();
    if !drifted.is_empty() {
        text.push_str("Changed outside keyform:\n");
        for change in drifted {
            text.push_str(&format!("  ! {}\n", change.address));
            for drift in &change.drift {
                text.push_str(&format!("      {}: {} -> {}\n", drift.name, drift.before, drift.after));
            }
        }
        text.push('\n');
    }
    for (from, to) in &plan.moves {
        text.push_str(&format!("  {from} has moved to {to}\n"));
    }
    for address in &plan.abandon {
        text.push_str(&format!(
            "  {address}: an interrupted create made nothing; its intent is dropped\n"
        ));
    }
    let width = plan
        .changes
        .iter()
        .filter(|change| visible(change))
        .map(|change| change.address.to_string().len())
        .max()
        .unwrap_or(0);
    for change in plan.changes.iter().filter(|change| visible(change)) {
        let symbol = if change.action == Action::NoOp && change.rotate {
            Action::Rotate.symbol()
        } else {
            change.action.symbol()
        };
        let mut words = change.action.words().to_string();
        if change.action == Action::NoOp && change.rotate {
            words = Action::Rotate.words().to_string();
        } else if change.rotate {
            words.push_str(", then rotate");
        }
        if change.action == Action::Replace {
            let forcing: Vec<&str> = change
                .changes
                .iter()
                .filter(|attribute| attribute.forces_replacement)
                .map(|attribute| attribute.name.as_str())
                .collect();
            if !forcing.is_empty() {
                words = format!("replace ({} forces replacement)", forcing.join(", "));
            }
        }
        if change.action == Action::Delete
            && let Some(irreversible) = &change.irreversible
        {
            words = format!("destroy: {irreversible}");
        }
        text.push_str(&format!(
            "  {symbol:<3} {:<width$}   {words}\n",
            change.address.to_string()
        ));
        let name_width = change
            .changes
            .iter()
            .map(|attribute| attribute.name.len())
            .max()
            .unwrap_or(0);
        for attribute in &change.changes {
            let name = format!("{}:", attribute.name);
            if let Some(lines) = document_diff(&attribute.before, &attribute.after) {
                // A document (a key policy, a Vault policy): shown line by line.
                text.push_str(&format!("        {name}\n"));
                for line in lines {
                    text.push_str(&format!("          {line}\n"));
                }
            } else if change.action == Action::Create || attribute.before.is_empty() {
                text.push_str(&format!("        {name:<w$} {}\n", attribute.after, w = name_width + 1));
            } else {
                text.push_str(&format!(
                    "        {name:<w$} {} -> {}\n",
                    attribute.before,
                    attribute.after,
                    w = name_width + 1
                ));
            }
        }
        for note in &change.notes {
            text.push_str(&format!("        # {note}\n"));
        }
        if change.action == Action::Replace
            && let Some(irreversible) = &change.irreversible
        {
            text.push_str(&format!("        ! the old object: {irreversible}\n"));
        }
    }
    for warning in &plan.warnings {
        text.push_str(&format!("\n  warning: {warning}\n"));
    }
    if !text.is_empty() && !text.ends_with("\n\n") {
        text.push('\n');
    }
    if plan.is_empty() {
        text.push_str("No changes. The live objects match the configuration.\n");
    } else {
        text.push_str(&Summary::of(plan).line());
        text.push('\n');
    }
    text
}

/// The plan as Markdown, for a pull-request comment.
pub fn render_markdown(plan: &Plan) -> String {
    let mut text = String::from("### keyform plan\n\n");
    if plan.is_empty() {
        text.push_str("No changes.\n");
        return text;
    }
    text.push_str(&format!("**{}**\n\n```diff\n", Summary::of(plan).line()));
    let body = render_text(plan);
    for line in body.lines() {
        let trimmed = line.trim_start();
        let marker = if trimmed.starts_with('+') {
            "+"
        } else if trimmed.starts_with("-/+") || trimmed.starts_with('~') || trimmed.starts_with('⟳') {
            "!"
        } else if trimmed.starts_with('-') {
            "-"
        } else {
            " "
        };
        text.push_str(&format!("{marker} {line}\n"));
    }
    text.push_str("```\n");
    text
}

#[cfg(test)]
mod tests {
    use super::document_diff;

    fn quoted(document: &str) -> String {
        serde_json::Value::String(document.to_string()).to_string()
    }

    #[test]
    fn json_documents_differ_line_by_line() {
        let before = quoted(r#"{"Statement":[{"Action":["kms:Decrypt","kms:Encrypt"],"Effect":"Allow"}]}"#);
        let after = quoted(r#"{"Statement":[{"Action":["kms:Decrypt"],"Effect":"Allow"}]}"#);
        let lines = document_diff(&before, &after).expect("both are documents");
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with("- ") && line.contains("kms:Encrypt")),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .filter(|line| line.starts_with("+ ") || line.starts_with("- "))
                .all(|line| line.contains("kms:")),
            "{lines:#?}"
        );
        assert!(document_diff("\"plain\"", &after).is_none());
    }

    #[test]
    fn texts_of_several_lines_differ_line_by_line() {
        let before = quoted("path \"kv/*\" {\n  capabilities = [\"read\"]\n}\n");
        let after = quoted("path \"kv/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n");
        let lines = document_diff(&before, &after).expect("both are texts of several lines");
        assert_eq!(
            lines,
            [
                "  path \"kv/*\" {",
                "-   capabilities = [\"read\"]",
                "+   capabilities = [\"read\", \"list\"]",
                "  }",
            ]
        );
        assert!(document_diff(&quoted("one line"), &quoted("another")).is_none());
    }
}

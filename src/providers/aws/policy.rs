//! Checks a key policy or a secret's resource policy before anything is sent,
//! so a malformed one is a diagnostic at plan time that says where in the
//! policy the problem is (statement number and Sid, element), instead of
//! AWS's `MalformedPolicyDocumentException` at apply. Only what AWS always
//! refuses is checked: the document's shape, `Version`, each statement's
//! `Effect`, that it names a principal and an action (and for a key policy
//! a resource), and element names (a misspelt `Efect` is refused by AWS as
//! well). Whether a principal exists is AWS's to say.

use crate::provider::ProviderError;
use serde_json::Value;

/// The elements a statement may have.
const ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Which policy is checked: a key policy needs `Resource` in each statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Key,
    Secret,
}

/// Where a statement is: `statement 2 (Sid "Audit")`.
fn position(index: usize, statement: &serde_json::Map<String, Value>) -> String {
    match statement.get("Sid").and_then(Value::as_str) {
        Some(sid) => format!("statement {} (Sid \"{sid}\")", index + 1),
        None => format!("statement {}", index + 1),
    }
}

/// The problems of one statement.
fn statement_problems(index: usize, statement: &Value, kind: PolicyKind) -> Vec<String> {
    let Some(statement) = statement.as_object() else {
        return vec![format!("statement {} is not a JSON object", index + 1)];
    };
    let at = position(index, statement);
    let mut problems = Vec::new();
    for name in statement.keys() {
        if !ELEMENTS.contains(&name.as_str()) {
            problems.push(format!(
                "{at} has the element `{name}`, which is not a policy element (they are {})",
                ELEMENTS.join(", ")
            ));
        }
    }
    match statement.get("Effect") {
        None => problems.push(format!("{at} has no `Effect`: it must be \"Allow\" or \"Deny\"")),
        Some(Value::String(effect)) if effect == "Allow" || effect == "Deny" => {}
        Some(effect) => problems.push(format!("{at} has `Effect` {effect}: it must be \"Allow\" or \"Deny\"")),
    }
    let mut needs_one_of = |pair: [&str; 2], what: &str| {
        if !pair.iter().any(|name| statement.contains_key(*name)) {
            problems.push(format!("{at} names no {what}: give `{}` or `{}`", pair[0], pair[1]));
        }
    };
    needs_one_of(["Principal", "NotPrincipal"], "principal");
    needs_one_of(["Action", "NotAction"], "action");
    if kind == PolicyKind::Key {
        needs_one_of(["Resource", "NotResource"], "resource (in a key policy it is \"*\")");
    }
    problems
}

/// The problems of a policy document given as normalised JSON text; empty when AWS may accept it.
pub fn problems(text: &str, kind: PolicyKind) -> Vec<String> {
    let Ok(document) = serde_json::from_str::<Value>(text) else {
        // The configuration layer has already said the text is not JSON.
        return Vec::new();
    };
    let Some(document) = document.as_object() else {
        return vec![
            "the document is not a JSON object: a policy is {\"Version\": ..., \"Statement\": [...]}".to_string(),
        ];
    };
    let mut problems = Vec::new();
    match document.get("Version") {
        None => {}
        Some(Value::String(version)) if version == "2012-10-17" || version == "2008-10-17" => {}
        Some(version) => problems.push(format!(
            "the document has `Version` {version}: it must be \"2012-10-17\" (or the older \"2008-10-17\")"
        )),
    }
    match document.get("Statement") {
        None => problems.push("the document has no `Statement`".to_string()),
        Some(Value::Array(statements)) if statements.is_empty() => {
            problems.push("the document has an empty `Statement` list".to_string());
        }
        Some(Value::Array(statements)) => {
            for (index, statement) in statements.iter().enumerate() {
                problems.extend(statement_problems(index, statement, kind));
            }
        }
        Some(statement @ Value::Object(_)) => problems.extend(statement_problems(0, statement, kind)),
        Some(_) => problems.push("the document's `Statement` is neither a statement nor a list of them".to_string()),
    }
    problems
}

/// The error for the `policy` argument's problems, or None when it has none (or is not set).
pub fn check(arguments: &crate::provider::Attributes, kind: PolicyKind) -> Option<ProviderError> {
    let text = arguments.get("policy").and_then(Value::as_str)?;
    let problems = problems(text, kind);
    if problems.is_empty() {
        return None;
    }
    let what = match kind {
        PolicyKind::Key => "key policy",
        PolicyKind::Secret => "resource policy",
    };
    Some(
        ProviderError::new("MalformedPolicyDocument", format!("the {what} is not valid: {}", problems.join("; ")))
            .with_help(
                "fix the policy: each statement needs \"Effect\": \"Allow\" or \"Deny\", a Principal, an Action and, in a key policy, \"Resource\": \"*\"",
            ),
    )
}

#[cfg(test)]
mod tests {
    use super::{PolicyKind, problems};

    #[test]
    fn a_valid_key_policy_has_no_problems() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
        assert!(problems(policy, PolicyKind::Key).is_empty());
        let single = r#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"NotAction":"kms:Decrypt"}}"#;
        assert!(problems(single, PolicyKind::Secret).is_empty());
    }

    #[test]
    fn each_problem_says_where_it_is() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},{"Sid":"Audit","Effect":"Allwo","Principal":{"AWS":"x"},"Action":"kms:Decrypt"},{"Efect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
        let found = problems(policy, PolicyKind::Key);
        assert!(
            found.contains(
                &r#"statement 2 (Sid "Audit") has `Effect` "Allwo": it must be "Allow" or "Deny""#.to_string()
            ),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|problem| problem.starts_with("statement 2 (Sid \"Audit\") names no resource")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|problem| problem.starts_with("statement 3 has the element `Efect`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|problem| problem == r#"statement 3 has no `Effect`: it must be "Allow" or "Deny""#)
        );
        assert_eq!(found.len(), 4, "{found:?}");
    }

    #[test]
    fn the_document_itself_is_checked() {
        assert_eq!(problems("[]", PolicyKind::Key).len(), 1);
        assert_eq!(
            problems(r#"{"Version":"2020-01-01","Statement":[]}"#, PolicyKind::Key).len(),
            2
        );
        assert_eq!(
            problems(r#"{"Version":"2012-10-17"}"#, PolicyKind::Secret),
            vec!["the document has no `Statement`"]
        );
        let no_resource =
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue"}]}"#;
        assert!(problems(no_resource, PolicyKind::Secret).is_empty());
        assert_eq!(problems(no_resource, PolicyKind::Key).len(), 1);
    }
}

//! Checks a `vault_policy` text before it is sent, so a misspelt key or
//! capability is a diagnostic at plan time naming the path block and the line
//! of the policy, instead of Vault's `failed to parse policy` at apply. An
//! HCL policy is parsed as HCL; a JSON one (`{"path": {...}}`) as JSON. The
//! names accepted are the union of Vault's and OpenBao's, so the check never
//! refuses what either server takes: only a name neither knows.

use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};

/// The keys a path rule may set (Vault and OpenBao).
const RULE_KEYS: &[&str] = &[
    "capabilities",
    "policy",
    "comment",
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "mfa_methods",
    "control_group",
    "subscribe_event_types",
    "pagination_limit",
    "expiration",
    "list_scan_response_keys_filter_path",
];

/// The capabilities a path rule may grant (Vault and OpenBao).
const CAPABILITIES: &[&str] = &[
    "create",
    "read",
    "update",
    "patch",
    "delete",
    "list",
    "sudo",
    "deny",
    "subscribe",
    "scan",
];

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The problems of one rule (`at` names it): keys and capabilities neither Vault nor OpenBao knows, each with
/// its line when the policy is HCL.
fn rule_problems(at: &str, keys: &[(String, Option<usize>)], capabilities: &[(String, Option<usize>)]) -> Vec<String> {
    let line = |position: &Option<usize>| position.map(|line| format!(" (line {line})")).unwrap_or_default();
    let mut problems = Vec::new();
    for (key, position) in keys {
        if !RULE_KEYS.contains(&key.as_str()) {
            problems.push(format!(
                "{at} sets `{key}`{}, which is not a rule key (they are {})",
                line(position),
                RULE_KEYS.join(", ")
            ));
        }
    }
    for (capability, position) in capabilities {
        if !CAPABILITIES.contains(&capability.as_str()) {
            problems.push(format!(
                "{at} grants the capability \"{capability}\"{}, which Vault does not know (capabilities are {})",
                line(position),
                CAPABILITIES.join(", ")
            ));
        }
    }
    problems
}

fn hcl_problems(text: &str, body: &Body) -> Vec<String> {
    let mut problems = Vec::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) if attribute.key.as_str() == "name" => {}
            Structure::Attribute(attribute) => problems.push(format!(
                "the policy sets `{}` at the top level: a policy holds `path \"...\" {{ ... }}` blocks",
                attribute.key.as_str()
            )),
            Structure::Block(block) if block.ident.as_str() != "path" || block.labels.len() != 1 => {
                let line = block.ident.span().map(|span| line_of(text, span.start)).unwrap_or(1);
                problems.push(format!(
                    "the policy has a `{}` block on line {line}: a policy holds `path \"...\" {{ ... }}` blocks",
                    block.ident.as_str()
                ));
            }
            Structure::Block(block) => {
                let at = format!("path \"{}\"", block.labels[0].as_str());
                let mut keys = Vec::new();
                let mut capabilities = Vec::new();
                for inner in block.body.iter() {
                    let Structure::Attribute(attribute) = inner else {
                        continue;
                    };
                    let line = attribute.key.span().map(|span| line_of(text, span.start));
                    keys.push((attribute.key.as_str().to_string(), line));
                    if attribute.key.as_str() == "capabilities"
                        && let Expression::Array(items) = &attribute.value
                    {
                        for item in items.iter() {
                            if let Expression::String(value) = item {
                                capabilities.push((value.as_str().to_string(), line));
                            }
                        }
                    }
                }
                problems.extend(rule_problems(&at, &keys, &capabilities));
            }
        }
    }
    problems
}

fn json_problems(document: &serde_json::Value) -> Vec<String> {
    let Some(paths) = document.get("path").and_then(serde_json::Value::as_object) else {
        return vec![
            "the policy is JSON without a `path` object: a JSON policy is {\"path\": {\"PATH\": {...}}}".to_string(),
        ];
    };
    let mut problems = Vec::new();
    for (path, rule) in paths {
        let at = format!("path \"{path}\"");
        let keys: Vec<(String, Option<usize>)> = rule
            .as_object()
            .map(|rule| rule.keys().map(|key| (key.clone(), None)).collect())
            .unwrap_or_default();
        let capabilities: Vec<(String, Option<usize>)> = rule["capabilities"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(|capability| (capability.to_string(), None))
                    .collect()
            })
            .unwrap_or_default();
        problems.extend(rule_problems(&at, &keys, &capabilities));
    }
    problems
}

/// The problems of a policy text; empty when Vault may accept it.
pub fn problems(text: &str) -> Vec<String> {
    if super::policy::is_json(text) {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(document) => json_problems(&document),
            Err(error) => vec![format!("the policy is not valid JSON: {error}")],
        };
    }
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => hcl_problems(text, &body),
        Err(error) => vec![format!(
            "the policy is not valid HCL: {} at line {}, column {}",
            error.message(),
            error.location().line(),
            error.location().column()
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::problems;

    #[test]
    fn a_valid_policy_has_no_problems() {
        let policy = "# CI\npath \"database/creds/app\" {\n  capabilities = [\"read\"]\n}\n\npath \"secret/*\" {\n  capabilities = [\"create\", \"update\", \"patch\", \"list\", \"scan\"]\n  allowed_parameters = { \"a\" = [] }\n  min_wrapping_ttl = \"1s\"\n}\n";
        assert!(problems(policy).is_empty(), "{:?}", problems(policy));
        assert!(problems(r#"{"path": {"secret/*": {"capabilities": ["read"]}}}"#).is_empty());
        assert!(problems("name = \"x\"\npath \"a\" { policy = \"read\" }").is_empty());
    }

    #[test]
    fn each_problem_names_the_path_and_the_line() {
        let policy = "path \"a/*\" {\n  capabilities = [\"read\"]\n}\npath \"b/*\" {\n  capabilties = [\"read\"]\n}\npath \"c/*\" {\n  capabilities = [\"raed\", \"list\"]\n}\n";
        let found = problems(policy);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("path \"b/*\" sets `capabilties` (line 5)"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("path \"c/*\" grants the capability \"raed\" (line 8)"),
            "{found:?}"
        );
        assert!(problems("pathh \"a\" { capabilities = [\"read\"] }")[0].contains("`pathh` block on line 1"));
        let json = problems(r#"{"path": {"a/*": {"capabilities": ["reed"]}}}"#);
        assert!(json[0].contains("\"reed\""), "{json:?}");
        assert!(problems("path \"a\" {")[0].starts_with("the policy is not valid HCL"));
    }
}

//! The encoding functions: `jsonencode`, `jsondecode`, `base64encode`,
//! `base64decode` and `sha256`, plus the JSON writer `format`'s `%q` and `%#v` share.
//!
//! JSON is written compactly, maps keep their key order, whole numbers have no
//! fraction, and `<`, `>`, `&`, U+2028 and U+2029 are escaped as Terraform
//! escapes them. A non-finite number encodes as `null`.

use super::{Arity, Call, Function, FunctionError};
use crate::config::value::{Kind, Value};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

pub(super) static FUNCTIONS: &[Function] = &[
    Function::new("base64decode", Arity::exactly(1), base64decode),
    Function::new("base64encode", Arity::exactly(1), base64encode),
    Function::new("jsondecode", Arity::exactly(1), jsondecode),
    Function::new("jsonencode", Arity::exactly(1), jsonencode),
    Function::new("sha256", Arity::exactly(1), sha256),
];

/// Writes JSON compactly, escaping the characters Terraform's `jsonencode` escapes.
pub(super) fn encode_json(json: &serde_json::Value) -> String {
    let plain = json.to_string();
    let mut escaped = String::with_capacity(plain.len());
    for character in plain.chars() {
        match character {
            '<' => escaped.push_str("\\u003c"),
            '>' => escaped.push_str("\\u003e"),
            '&' => escaped.push_str("\\u0026"),
            '\u{2028}' => escaped.push_str("\\u2028"),
            '\u{2029}' => escaped.push_str("\\u2029"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `jsonencode(value)`: the value as a JSON string.
fn jsonencode(call: &Call<'_>) -> Result<Value, FunctionError> {
    let value = call.argument(0)?;
    Ok(call.derive_string(encode_json(&value.to_json())))
}

/// `jsondecode(string)`: the value a JSON string describes, with the string's marks throughout.
fn jsondecode(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        if call.is_sensitive(0) {
            call.error(0, "argument 1 is not valid JSON")
        } else {
            call.error(0, format!("argument 1 is not valid JSON: {error}"))
        }
    })?;
    Ok(call.derive_tree(Value::from_json(&json)))
}

/// `base64encode(string)`: the UTF-8 bytes of the string in standard, padded Base64.
fn base64encode(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive_string(STANDARD.encode(call.string(0)?.as_bytes())))
}

/// `base64decode(string)`: decodes standard, padded Base64; the result must be UTF-8.
fn base64decode(call: &Call<'_>) -> Result<Value, FunctionError> {
    let encoded = call.string(0)?;
    let bytes = STANDARD.decode(encoded.as_bytes()).map_err(|error| {
        if call.is_sensitive(0) {
            call.error(0, "argument 1 is not valid Base64")
        } else {
            call.error(0, format!("argument 1 is not valid Base64: {error}"))
        }
    })?;
    let decoded = String::from_utf8(bytes)
        .map_err(|_| call.error(0, "the result of decoding the provided string is not valid UTF-8"))?;
    Ok(call.derive_string(decoded))
}

/// `sha256(string)`: the SHA-256 digest of the string's UTF-8 bytes, in lower-case hex.
fn sha256(call: &Call<'_>) -> Result<Value, FunctionError> {
    let digest = Sha256::digest(call.string(0)?.as_bytes());
    Ok(call.derive(Kind::String(hex::encode(digest))))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::config::value::Value;

    fn string_of(name: &str, arguments: Vec<Value>) -> String {
        call(name, arguments).as_str().unwrap_or("<not a string>").to_string()
    }

    #[test]
    fn jsonencode_keeps_order_and_whole_numbers() {
        let value = map(&[
            ("zeta", number(1.0)),
            ("alpha", list(vec![number(1.5), boolean(true), Value::null()])),
            ("html", text("<a&b>")),
        ]);
        assert_eq!(
            string_of("jsonencode", vec![value]),
            r#"{"zeta":1,"alpha":[1.5,true,null],"html":"\u003ca\u0026b\u003e"}"#
        );
        assert_eq!(string_of("jsonencode", vec![Value::null()]), "null");
        assert_eq!(string_of("jsonencode", vec![text("\u{2028}")]), "\"\\u2028\"");
    }

    #[test]
    fn jsondecode_builds_values_with_the_string_marks() {
        let decoded = call("jsondecode", vec![text(r#"{"b":[1,"x"],"a":null}"#)]);
        assert_same(
            &decoded,
            &map(&[("b", list(vec![number(1.0), text("x")])), ("a", Value::null())]),
        );
        assert!(decoded.literal);
        let secret_tree = call("jsondecode", vec![secret(r#"{"password":"hunter2"}"#)]);
        let inner = secret_tree.as_map().and_then(|entries| entries.get("password"));
        assert!(inner.is_some_and(|value| value.sensitive));
        let error = fail("jsondecode", vec![text("{")]);
        assert!(
            error.message.starts_with("jsondecode: argument 1 is not valid JSON"),
            "{}",
            error.message
        );
    }

    #[test]
    fn json_round_trips() {
        let value = map(&[("list", texts(&["a", "b"])), ("number", number(-2.5))]);
        let encoded = call("jsonencode", vec![value.clone()]);
        assert_same(&call("jsondecode", vec![encoded]), &value);
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(string_of("base64encode", vec![text("Hello World")]), "SGVsbG8gV29ybGQ=");
        assert_eq!(string_of("base64decode", vec![text("SGVsbG8gV29ybGQ=")]), "Hello World");
        let error = fail("base64decode", vec![text("not base64!")]);
        assert!(
            error
                .message
                .starts_with("base64decode: argument 1 is not valid Base64")
        );
        let error = fail("base64decode", vec![text("/w==")]);
        assert!(error.message.contains("not valid UTF-8"));
    }

    #[test]
    fn sha256_hashes_in_hex() {
        assert_eq!(
            string_of("sha256", vec![text("hello world")]),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert!(call("sha256", vec![secret("hunter2")]).sensitive);
    }
}

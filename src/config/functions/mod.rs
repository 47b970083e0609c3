//! The expression function library: the pure functions a configuration can
//! call (`format`, `join`, `merge`, `jsonencode`, ...), with Terraform's semantics.
//!
//! This module owns the dispatch table, the argument count and type checks,
//! and the rules every function shares:
//!
//! - **Marks survive every function.** A result is sensitive when any argument
//!   (deeply) is, and literal only when every argument is. Values a function
//!   builds from its arguments (the pieces of `split`, the keys of `keys`, the
//!   tree of `jsondecode`) carry the same marks; values it passes through
//!   unchanged (the elements of `concat`) keep their own.
//! - **Unknown flows through.** An unknown argument makes the result unknown,
//!   with the merged marks. Functions that must look inside their arguments
//!   (`join`, `jsonencode`, `sort`, ...) also return unknown when an argument
//!   merely contains an unknown value.
//! - **Generated secrets are refused** by every function except `length`: a
//!   `generate({...})` value can only be assigned directly to a secret attribute.
//! - **Messages never show a sensitive argument's content**; they say `(sensitive)`.
//!
//! The families live in submodules: [`strings`], [`format`], [`collections`],
//! [`conversions`], [`encoding`] and [`numbers`]. `env`, `file`, `try`, `can`,
//! `generate` and `sealed` need the evaluator's context and are handled there.

mod collections;
mod conversions;
mod encoding;
mod format;
mod numbers;
mod strings;

use crate::config::value::{Kind, Value};
use indexmap::IndexMap;
use std::borrow::Cow;
use std::fmt::Display;
use std::sync::OnceLock;

/// Why a function call failed. The message starts with the function's name and
/// never holds a sensitive argument's content.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct FunctionError {
    pub message: String,
    /// the argument at fault, when one is: an index into the call's arguments, counted from 0
    pub argument: Option<usize>,
}

/// Calls a pure function by name. `env`, `file`, `try`, `can`, `generate` and `sealed` are handled by the evaluator, not here.
pub fn call_function(name: &str, arguments: Vec<Value>) -> Result<Value, FunctionError> {
    let Some(function) = all_functions().find(|function| function.name == name) else {
        return Err(FunctionError {
            message: "unknown function".to_string(),
            argument: None,
        });
    };
    let call = Call {
        name: function.name,
        arguments: &arguments,
    };
    call.check_count(function.arity)?;
    if !function.accepts_generated {
        call.refuse_generated()?;
    }
    if let Some(unknown) = call.unknown_result(function.looks_inside) {
        return Ok(unknown);
    }
    let result = (function.implementation)(&call)?;
    Ok(call.marked(result))
}

/// Every name `call_function` knows, sorted (used for did-you-mean).
pub fn function_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<&'static str> = all_functions().map(|function| function.name).collect();
        names.sort_unstable();
        names
    })
}

fn all_functions() -> impl Iterator<Item = &'static Function> {
    [
        strings::FUNCTIONS,
        format::FUNCTIONS,
        collections::FUNCTIONS,
        conversions::FUNCTIONS,
        encoding::FUNCTIONS,
        numbers::FUNCTIONS,
    ]
    .into_iter()
    .flatten()
}

/// The body of a function: computes the result's kind and content; the caller
/// merges the marks of the arguments into it.
type Implementation = fn(&Call<'_>) -> Result<Value, FunctionError>;

/// One entry of the dispatch table.
#[derive(Clone, Copy)]
struct Function {
    name: &'static str,
    arity: Arity,
    /// Returns unknown when an argument contains an unknown value anywhere,
    /// not only when an argument is itself unknown.
    looks_inside: bool,
    /// Accepts a `generate({...})` value (only `length` does).
    accepts_generated: bool,
    implementation: Implementation,
}

impl Function {
    const fn new(name: &'static str, arity: Arity, implementation: Implementation) -> Self {
        Function {
            name,
            arity,
            looks_inside: true,
            accepts_generated: false,
            implementation,
        }
    }

    /// For functions that move elements around without reading them, so an
    /// unknown element stays an unknown element of a known result.
    const fn shallow(self) -> Self {
        Function {
            looks_inside: false,
            ..self
        }
    }

    const fn accepting_generated(self) -> Self {
        Function {
            accepts_generated: true,
            ..self
        }
    }
}

/// How many arguments a function takes.
#[derive(Clone, Copy)]
struct Arity {
    minimum: usize,
    maximum: Option<usize>,
}

impl Arity {
    const fn exactly(count: usize) -> Self {
        Arity {
            minimum: count,
            maximum: Some(count),
        }
    }

    const fn between(minimum: usize, maximum: usize) -> Self {
        Arity {
            minimum,
            maximum: Some(maximum),
        }
    }

    const fn at_least(minimum: usize) -> Self {
        Arity { minimum, maximum: None }
    }

    fn accepts(self, count: usize) -> bool {
        count >= self.minimum && self.maximum.is_none_or(|maximum| count <= maximum)
    }

    fn describe(self) -> String {
        let plural = |count: usize| if count == 1 { "argument" } else { "arguments" };
        match self.maximum {
            Some(maximum) if maximum == self.minimum => format!("{maximum} {}", plural(maximum)),
            Some(maximum) if maximum == self.minimum + 1 => format!("{} or {maximum} arguments", self.minimum),
            Some(maximum) => format!("{} to {maximum} arguments", self.minimum),
            None => format!("at least {} {}", self.minimum, plural(self.minimum)),
        }
    }
}

/// One call of a function: its name and arguments, with the helpers that read
/// arguments and word errors.
struct Call<'a> {
    name: &'static str,
    arguments: &'a [Value],
}

impl<'a> Call<'a> {
    fn check_count(&self, arity: Arity) -> Result<(), FunctionError> {
        let count = self.arguments.len();
        if arity.accepts(count) {
            return Ok(());
        }
        let message = format!("expects {}, got {count}", arity.describe());
        Err(match arity.maximum {
            Some(maximum) if count > maximum => self.error(maximum, message),
            _ => self.failure(message),
        })
    }

    fn refuse_generated(&self) -> Result<(), FunctionError> {
        match self.arguments.iter().position(contains_generated) {
            Some(index) => Err(self.error(
                index,
                format!(
                    "argument {} is a generated secret; generated values can only be assigned directly to a secret attribute",
                    index + 1
                ),
            )),
            None => Ok(()),
        }
    }

    fn unknown_result(&self, looks_inside: bool) -> Option<Value> {
        let unknown = self.arguments.iter().any(|argument| {
            if looks_inside {
                argument.has_unknown()
            } else {
                argument.is_unknown()
            }
        });
        unknown.then(|| self.marked(Value::unknown()))
    }

    /// The value with the marks of every argument merged in: sensitive when any
    /// argument is, literal only when every argument is (so a call without
    /// arguments gives a literal).
    fn marked(&self, mut value: Value) -> Value {
        value.literal = true;
        value.with_marks_of(self.arguments)
    }

    /// A new value built from the arguments, carrying their marks.
    fn derive(&self, kind: Kind) -> Value {
        self.marked(Value::new(kind))
    }

    fn derive_string(&self, text: impl Into<String>) -> Value {
        self.derive(Kind::String(text.into()))
    }

    /// A new list of strings built from the arguments, every piece carrying their marks.
    fn derive_strings<I: IntoIterator<Item = S>, S: Into<String>>(&self, pieces: I) -> Value {
        let items = pieces.into_iter().map(|piece| self.derive_string(piece)).collect();
        self.derive(Kind::List(items))
    }

    /// A new tree built from the arguments (as `jsondecode` builds), every node carrying their marks.
    fn derive_tree(&self, value: Value) -> Value {
        let kind = match value.kind {
            Kind::List(items) => Kind::List(items.into_iter().map(|item| self.derive_tree(item)).collect()),
            Kind::Map(entries) => Kind::Map(
                entries
                    .into_iter()
                    .map(|(key, item)| (key, self.derive_tree(item)))
                    .collect(),
            ),
            other => other,
        };
        self.derive(kind)
    }

    /// An error about one argument: `name: message`.
    fn error(&self, index: usize, message: impl Display) -> FunctionError {
        FunctionError {
            message: format!("{}: {message}", self.name),
            argument: Some(index),
        }
    }

    /// An error about the call as a whole.
    fn failure(&self, message: impl Display) -> FunctionError {
        FunctionError {
            message: format!("{}: {message}", self.name),
            argument: None,
        }
    }

    fn wrong_type(&self, index: usize, expected: &str) -> FunctionError {
        let found = self.arguments.get(index).map_or("nothing", Value::type_name);
        self.error(index, format!("argument {} must be {expected}, got {found}", index + 1))
    }

    /// The argument's content as a message may show it: `(sensitive)` when it is.
    fn shown(&self, index: usize) -> String {
        self.arguments
            .get(index)
            .map_or_else(|| "nothing".to_string(), Value::render)
    }

    fn is_sensitive(&self, index: usize) -> bool {
        self.arguments.get(index).is_some_and(Value::deep_sensitive)
    }

    fn argument(&self, index: usize) -> Result<&'a Value, FunctionError> {
        self.arguments
            .get(index)
            .ok_or_else(|| self.failure(format!("argument {} is missing", index + 1)))
    }

    fn not_null(&self, index: usize) -> Result<&'a Value, FunctionError> {
        let value = self.argument(index)?;
        if value.is_null() {
            return Err(self.error(index, format!("argument {} must not be null", index + 1)));
        }
        Ok(value)
    }

    /// A string argument; numbers and bools convert, as HCL converts them.
    fn string(&self, index: usize) -> Result<Cow<'a, str>, FunctionError> {
        let value = self.not_null(index)?;
        match &value.kind {
            Kind::String(text) => Ok(Cow::Borrowed(text)),
            _ => value
                .to_plain_string()
                .map(Cow::Owned)
                .ok_or_else(|| self.wrong_type(index, "a string")),
        }
    }

    /// A number argument; strings that spell a number convert.
    fn number(&self, index: usize) -> Result<f64, FunctionError> {
        let value = self.not_null(index)?;
        match &value.kind {
            Kind::Number(number) => Ok(*number),
            Kind::String(text) => parse_number(text).ok_or_else(|| {
                self.error(
                    index,
                    format!("argument {} must be a number, got {}", index + 1, self.shown(index)),
                )
            }),
            _ => Err(self.wrong_type(index, "a number")),
        }
    }

    /// A whole-number argument, small enough to be exact.
    fn integer(&self, index: usize) -> Result<i64, FunctionError> {
        let number = self.number(index)?;
        if !number.is_finite() || number.fract() != 0.0 {
            return Err(self.error(index, format!("argument {} must be a whole number", index + 1)));
        }
        if number.abs() > MAXIMUM_EXACT_INTEGER {
            return Err(self.error(index, format!("argument {} is too large", index + 1)));
        }
        Ok(number as i64)
    }

    fn list(&self, index: usize) -> Result<&'a [Value], FunctionError> {
        self.not_null(index)?
            .as_list()
            .ok_or_else(|| self.wrong_type(index, "a list"))
    }

    fn map(&self, index: usize) -> Result<&'a IndexMap<String, Value>, FunctionError> {
        self.not_null(index)?
            .as_map()
            .ok_or_else(|| self.wrong_type(index, "a map"))
    }
}

/// The largest integer an f64 holds exactly (2^53).
const MAXIMUM_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Parses a number as HCL converts a string to a number: decimal notation
/// only, no surrounding space, and never an infinity or NaN.
fn parse_number(text: &str) -> Option<f64> {
    let spelled_as_decimal = text
        .chars()
        .all(|character| character.is_ascii_digit() || matches!(character, '.' | 'e' | 'E' | '+' | '-'));
    let has_digit = text.chars().any(|character| character.is_ascii_digit());
    if !spelled_as_decimal || !has_digit {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

fn contains_generated(value: &Value) -> bool {
    match &value.kind {
        Kind::Generated(_) => true,
        Kind::List(items) => items.iter().any(contains_generated),
        Kind::Map(entries) => entries.values().any(contains_generated),
        _ => false,
    }
}

/// Builders and call helpers shared by the tests of every family.
#[cfg(test)]
mod test_support {
    use super::{FunctionError, call_function};
    use crate::config::value::{Kind, Value};
    use indexmap::IndexMap;

    pub fn text(content: &str) -> Value {
        Value::literal(Kind::String(content.to_string()))
    }

    pub fn number(content: f64) -> Value {
        Value::literal(Kind::Number(content))
    }

    pub fn boolean(content: bool) -> Value {
        Value::literal(Kind::Bool(content))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::literal(Kind::List(items))
    }

    pub fn texts(items: &[&str]) -> Value {
        list(items.iter().map(|item| text(item)).collect())
    }

    pub fn map(entries: &[(&str, Value)]) -> Value {
        let entries: IndexMap<String, Value> = entries
            .iter()
            .map(|(key, value)| (key.to_string(), value.clone()))
            .collect();
        Value::literal(Kind::Map(entries))
    }

    /// A sensitive string read from outside the configuration (so not a literal).
    pub fn secret(content: &str) -> Value {
        Value::string(content).into_sensitive()
    }

    /// Calls a function that must succeed.
    pub fn call(name: &str, arguments: Vec<Value>) -> Value {
        match call_function(name, arguments) {
            Ok(value) => value,
            Err(error) => panic!("{name} failed: {error}"),
        }
    }

    /// Calls a function that must fail.
    pub fn fail(name: &str, arguments: Vec<Value>) -> FunctionError {
        match call_function(name, arguments) {
            Ok(value) => panic!("{name} succeeded with {value:?}"),
            Err(error) => error,
        }
    }

    /// Compares content only, ignoring marks.
    pub fn same(left: &Value, right: &Value) -> bool {
        left.to_json() == right.to_json() && left.type_name() == right.type_name()
    }

    pub fn assert_same(actual: &Value, expected: &Value) {
        assert!(same(actual, expected), "expected {expected:?}, got {actual:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::config::value::GenerateSpec;

    #[test]
    fn names_are_sorted_unique_and_callable() {
        let names = function_names();
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "{names:?}");
        assert!(names.contains(&"format") && names.contains(&"zipmap"));
        assert!(!names.contains(&"md5"));
        for name in names {
            let error = call_function(name, vec![Value::list(vec![]); 9]);
            assert_ne!(
                error.map_err(|error| error.message),
                Err("unknown function".to_string())
            );
        }
    }

    #[test]
    fn unknown_names_are_reported() {
        let error = fail("md5", vec![text("a")]);
        assert_eq!(error.message, "unknown function");
        assert_eq!(error.argument, None);
    }

    #[test]
    fn wrong_counts_are_reported() {
        assert_eq!(fail("upper", vec![]).message, "upper: expects 1 argument, got 0");
        let error = fail("split", vec![text("a"), text("b"), text("c")]);
        assert_eq!(error.message, "split: expects 2 arguments, got 3");
        assert_eq!(error.argument, Some(2));
        assert_eq!(
            fail("lookup", vec![text("a")]).message,
            "lookup: expects 2 or 3 arguments, got 1"
        );
        assert_eq!(fail("range", vec![]).message, "range: expects 1 to 3 arguments, got 0");
        assert_eq!(fail("min", vec![]).message, "min: expects at least 1 argument, got 0");
    }

    #[test]
    fn wrong_types_are_reported() {
        let error = fail("format", vec![text("%s"), list(vec![])]);
        assert_eq!(error.argument, Some(1));
        assert!(error.message.starts_with("format: "), "{}", error.message);
        let error = fail("upper", vec![list(vec![])]);
        assert_eq!(error.message, "upper: argument 1 must be a string, got list");
        assert_eq!(error.argument, Some(0));
        let error = fail("join", vec![text(","), text("a")]);
        assert_eq!(error.message, "join: argument 2 must be a list, got string");
        let error = fail("upper", vec![Value::null()]);
        assert_eq!(error.message, "upper: argument 1 must not be null");
    }

    #[test]
    fn literal_only_when_every_argument_is() {
        let all_literal = call("upper", vec![text("a")]);
        assert!(all_literal.literal && !all_literal.sensitive);
        let computed = call("join", vec![text("-"), list(vec![text("a"), Value::string("b")])]);
        assert!(!computed.literal);
        let nothing = call("concat", vec![]);
        assert!(nothing.literal);
    }

    #[test]
    fn sensitive_marks_flow_through() {
        let joined = call("join", vec![text(","), list(vec![text("a"), secret("hunter2")])]);
        assert!(joined.sensitive && !joined.literal);
        assert_eq!(joined.as_str(), Some("a,hunter2"));
        let formatted = call("format", vec![text("pw=%s"), secret("hunter2")]);
        assert!(formatted.sensitive);
        let encoded = call("jsonencode", vec![map(&[("password", secret("hunter2"))])]);
        assert!(encoded.sensitive);
        let merged = call("merge", vec![map(&[("a", text("1"))]), map(&[("b", secret("2"))])]);
        assert!(merged.sensitive);
        let looked_up = call("lookup", vec![map(&[("a", text("1")), ("b", secret("2"))]), text("a")]);
        assert!(looked_up.sensitive);
        let pieces = call("split", vec![text(","), secret("a,b")]);
        assert!(
            pieces
                .as_list()
                .is_some_and(|items| items.iter().all(|item| item.sensitive))
        );
    }

    #[test]
    fn unknown_flows_through() {
        let unknown = call("upper", vec![Value::unknown()]);
        assert!(unknown.is_unknown());
        let sensitive_unknown = call("format", vec![text("%s-%s"), Value::unknown(), secret("x")]);
        assert!(sensitive_unknown.is_unknown() && sensitive_unknown.sensitive);
        let inside = call("join", vec![text(","), list(vec![text("a"), Value::unknown()])]);
        assert!(inside.is_unknown());
        let shallow = call("concat", vec![list(vec![Value::unknown()]), texts(&["a"])]);
        assert_eq!(shallow.as_list().map(<[Value]>::len), Some(2));
        let counted = call("length", vec![list(vec![Value::unknown()])]);
        assert_eq!(counted.as_number(), Some(1.0));
    }

    #[test]
    fn generated_values_are_refused_except_by_length() {
        let generated = Value::new(Kind::Generated(GenerateSpec::default())).into_sensitive();
        let error = fail("upper", vec![generated.clone()]);
        assert!(
            error
                .message
                .contains("can only be assigned directly to a secret attribute")
        );
        assert_eq!(error.argument, Some(0));
        let nested = fail("concat", vec![list(vec![generated.clone()])]);
        assert_eq!(nested.argument, Some(0));
        let length = call("length", vec![generated]);
        assert_eq!(length.as_number(), Some(32.0));
        assert!(length.sensitive);
    }

    #[test]
    fn errors_never_show_sensitive_content() {
        let cases = vec![
            ("tonumber", vec![secret("hunter2")]),
            ("tobool", vec![secret("hunter2")]),
            ("lookup", vec![map(&[]), secret("hunter2")]),
            ("regex", vec![secret("hunter2("), text("x")]),
            ("replace", vec![text("x"), secret("/hunter2(/"), text("")]),
            ("base64decode", vec![secret("hunter2$")]),
            ("jsondecode", vec![secret("{hunter2")]),
            ("substr", vec![text("abc"), secret("hunter2"), number(1.0)]),
            ("format", vec![secret("%d hunter2"), text("x")]),
            ("format", vec![text("%d"), secret("hunter2")]),
            ("index", vec![texts(&["a"]), secret("hunter2")]),
            ("min", vec![secret("hunter2")]),
        ];
        for (name, arguments) in cases {
            let error = fail(name, arguments);
            assert!(!error.message.contains("hunter2"), "{name}: {}", error.message);
        }
    }

    #[test]
    fn no_function_panics_on_odd_arguments() {
        let pool = vec![
            Value::null(),
            Value::unknown(),
            text(""),
            text("a,b"),
            text("%d %[9]s %"),
            text("/(/"),
            number(-1.0),
            number(2.5),
            number(1e300),
            number(f64::NAN),
            number(f64::NEG_INFINITY),
            boolean(true),
            list(vec![]),
            list(vec![
                text("a"),
                number(1.0),
                Value::null(),
                list(vec![Value::unknown()]),
            ]),
            map(&[("a", secret("x")), ("b", list(vec![]))]),
        ];
        for name in function_names() {
            let _ = call_function(name, vec![]);
            for first in &pool {
                let _ = call_function(name, vec![first.clone()]);
                for second in &pool {
                    let _ = call_function(name, vec![first.clone(), second.clone()]);
                    for third in &pool {
                        let _ = call_function(name, vec![first.clone(), second.clone(), third.clone()]);
                    }
                }
            }
        }
    }

    #[test]
    fn numbers_parse_as_hcl_converts_them() {
        assert_eq!(parse_number("12"), Some(12.0));
        assert_eq!(parse_number("-1.5e3"), Some(-1500.0));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number(" 1"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("1e999"), None);
    }
}

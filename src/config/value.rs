//! The values expressions evaluate to.
//!
//! A [`Value`] is a dynamic HCL value that carries two marks: **sensitive**
//! (it holds or derives from secret material) and **literal** (it was built
//! only from literals written in the configuration). Marks survive every
//! function and operator: a result is sensitive when any input was, and
//! literal only when every input was. **The Debug and Display of a sensitive
//! value print `(sensitive)`, whatever it holds.** `Unknown` stands for a
//! value known only after apply; `Generated` for a `generate({...})` source,
//! resolved only when the object is created or rotated.

use indexmap::IndexMap;
use std::fmt;

/// Settings of a `generate({...})` value source, as Terraform's `random_password`.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct GenerateSpec {
    pub length: u32,
    pub upper: bool,
    pub lower: bool,
    pub numeric: bool,
    pub special: bool,
    pub override_special: Option<String>,
    pub min_upper: u32,
    pub min_lower: u32,
    pub min_numeric: u32,
    pub min_special: u32,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        GenerateSpec {
            length: 32,
            upper: true,
            lower: true,
            numeric: true,
            special: true,
            override_special: None,
            min_upper: 0,
            min_lower: 0,
            min_numeric: 0,
            min_special: 0,
        }
    }
}

impl fmt::Debug for GenerateSpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "generate({} chars)", self.length)
    }
}

/// The shape of a value, without marks.
#[derive(Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(IndexMap<String, Value>),
    /// Known only after apply.
    Unknown,
    /// A `generate({...})` value source.
    Generated(GenerateSpec),
}

/// A value with its marks.
#[derive(Clone, PartialEq)]
pub struct Value {
    pub kind: Kind,
    /// Holds or derives from secret material.
    pub sensitive: bool,
    /// Built only from literals written in the configuration.
    pub literal: bool,
}

impl Value {
    /// A value computed by keyform or read from outside the configuration (not a literal).
    pub fn new(kind: Kind) -> Self {
        Value {
            kind,
            sensitive: false,
            literal: false,
        }
    }

    /// A value written as a literal in the configuration.
    pub fn literal(kind: Kind) -> Self {
        Value {
            kind,
            sensitive: false,
            literal: true,
        }
    }

    pub fn null() -> Self {
        Value::literal(Kind::Null)
    }

    pub fn unknown() -> Self {
        Value::new(Kind::Unknown)
    }

    pub fn string(text: impl Into<String>) -> Self {
        Value::new(Kind::String(text.into()))
    }

    pub fn bool(value: bool) -> Self {
        Value::new(Kind::Bool(value))
    }

    pub fn number(value: f64) -> Self {
        Value::new(Kind::Number(value))
    }

    pub fn list(items: Vec<Value>) -> Self {
        Value::new(Kind::List(items))
    }

    pub fn map(entries: IndexMap<String, Value>) -> Self {
        Value::new(Kind::Map(entries))
    }

    /// The same value marked sensitive.
    pub fn into_sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// The same value with the marks of `inputs` merged in: sensitive when any
    /// input is, literal only when every input is.
    pub fn with_marks_of<'a>(mut self, inputs: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut all_literal = true;
        let mut any = false;
        for input in inputs {
            any = true;
            self.sensitive |= input.deep_sensitive();
            all_literal &= input.deep_literal();
        }
        if any {
            self.literal = all_literal;
        }
        self
    }

    /// True when this value or any value inside it is sensitive.
    pub fn deep_sensitive(&self) -> bool {
        self.sensitive
            || match &self.kind {
                Kind::List(items) => items.iter().any(Value::deep_sensitive),
                Kind::Map(entries) => entries.values().any(Value::deep_sensitive),
                _ => false,
            }
    }

    /// True when this value and every value inside it are literals.
    pub fn deep_literal(&self) -> bool {
        self.literal
            && match &self.kind {
                Kind::List(items) => items.iter().all(Value::deep_literal),
                Kind::Map(entries) => entries.values().all(Value::deep_literal),
                _ => true,
            }
    }

    /// True when this value or any value inside it is unknown.
    pub fn has_unknown(&self) -> bool {
        match &self.kind {
            Kind::Unknown => true,
            Kind::List(items) => items.iter().any(Value::has_unknown),
            Kind::Map(entries) => entries.values().any(Value::has_unknown),
            _ => false,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.kind, Kind::Unknown)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(value) => Some(value),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self.kind {
            Kind::Number(value) => Some(value),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&IndexMap<String, Value>> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The name of the value's type, as diagnostics show it.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "bool",
            Kind::Number(_) => "number",
            Kind::String(_) => "string",
            Kind::List(_) => "list",
            Kind::Map(_) => "object",
            Kind::Unknown => "unknown",
            Kind::Generated(_) => "generated secret",
        }
    }

    /// The value as a string when it is a string, number or bool (HCL's conversion rules).
    pub fn to_plain_string(&self) -> Option<String> {
        match &self.kind {
            Kind::String(text) => Some(text.clone()),
            Kind::Number(number) => Some(format_number(*number)),
            Kind::Bool(value) => Some(value.to_string()),
            _ => None,
        }
    }

    /// Converts to JSON. Callers decide whether a sensitive value may be converted;
    /// unknown and generated values become null.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.kind {
            Kind::Null | Kind::Unknown | Kind::Generated(_) => serde_json::Value::Null,
            Kind::Bool(value) => serde_json::Value::Bool(*value),
            Kind::Number(number) => number_to_json(*number),
            Kind::String(text) => serde_json::Value::String(text.clone()),
            Kind::List(items) => serde_json::Value::Array(items.iter().map(Value::to_json).collect()),
            Kind::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Converts from JSON; the result is not a literal and not sensitive.
    pub fn from_json(json: &serde_json::Value) -> Value {
        Value::new(match json {
            serde_json::Value::Null => Kind::Null,
            serde_json::Value::Bool(value) => Kind::Bool(*value),
            serde_json::Value::Number(number) => Kind::Number(number.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(text) => Kind::String(text.clone()),
            serde_json::Value::Array(items) => Kind::List(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(entries) => Kind::Map(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), Value::from_json(value)))
                    .collect(),
            ),
        })
    }

    /// Renders the value the way a plan shows it: HCL-like, sensitive parts as
    /// `(sensitive)`, unknown parts as `(known after apply)`.
    pub fn render(&self) -> String {
        if let Kind::Generated(spec) = &self.kind {
            return format!("(sensitive, generated: {} chars)", spec.length);
        }
        if self.sensitive {
            return "(sensitive)".to_string();
        }
        match &self.kind {
            Kind::Null => "null".to_string(),
            Kind::Bool(value) => value.to_string(),
            Kind::Number(number) => format_number(*number),
            Kind::String(text) => serde_json::Value::String(text.clone()).to_string(),
            Kind::List(items) => {
                let parts: Vec<String> = items.iter().map(Value::render).collect();
                format!("[{}]", parts.join(", "))
            }
            Kind::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(key, value)| format!("{key} = {}", value.render()))
                    .collect();
                format!("{{ {} }}", parts.join(", "))
            }
            Kind::Unknown => "(known after apply)".to_string(),
            Kind::Generated(spec) => format!("(sensitive, generated: {} chars)", spec.length),
        }
    }
}

/// Formats a number as HCL does: integers without a fraction.
pub fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

fn number_to_json(number: f64) -> serde_json::Value {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        serde_json::Value::from(number as i64)
    } else {
        serde_json::Number::from_f64(number).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sensitive {
            return formatter.write_str("(sensitive)");
        }
        match &self.kind {
            Kind::Null => formatter.write_str("null"),
            Kind::Bool(value) => write!(formatter, "{value}"),
            Kind::Number(number) => formatter.write_str(&format_number(*number)),
            Kind::String(text) => write!(formatter, "{text:?}"),
            Kind::List(items) => formatter.debug_list().entries(items).finish(),
            Kind::Map(entries) => formatter.debug_map().entries(entries).finish(),
            Kind::Unknown => formatter.write_str("(known after apply)"),
            Kind::Generated(spec) => write!(formatter, "{spec:?}"),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_never_print() {
        let secret = Value::string("hunter2").into_sensitive();
        assert_eq!(format!("{secret:?}"), "(sensitive)");
        assert_eq!(format!("{secret}"), "(sensitive)");
        let list = Value::list(vec![secret]);
        assert!(!format!("{list:?}").contains("hunter2"));
    }

    #[test]
    fn marks_merge() {
        let literal = Value::literal(Kind::String("a".into()));
        let secret = Value::string("b").into_sensitive();
        let merged = Value::string("ab").with_marks_of([&literal, &secret]);
        assert!(merged.sensitive);
        assert!(!merged.literal);
        let both_literal = Value::string("aa").with_marks_of([&literal, &literal]);
        assert!(both_literal.literal);
    }
}

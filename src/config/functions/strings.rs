//! The string functions: `join`, `split`, case changes, trimming, `replace`,
//! `substr`, the prefix/suffix/contains tests, and the regular-expression
//! functions `regex` and `regexall`.
//!
//! Lengths and offsets count Unicode scalar values (`char`s). Patterns use the
//! `regex` crate's syntax, which is RE2's, as Terraform's are.

use super::{Arity, Call, Function, FunctionError};
use crate::config::value::{Kind, Value};
use indexmap::IndexMap;
use regex::{Captures, Regex};

pub(super) static FUNCTIONS: &[Function] = &[
    Function::new("endswith", Arity::exactly(2), endswith),
    Function::new("join", Arity::at_least(2), join),
    Function::new("lower", Arity::exactly(1), lower),
    Function::new("regex", Arity::exactly(2), regex),
    Function::new("regexall", Arity::exactly(2), regexall),
    Function::new("replace", Arity::exactly(3), replace),
    Function::new("split", Arity::exactly(2), split),
    Function::new("startswith", Arity::exactly(2), startswith),
    Function::new("strcontains", Arity::exactly(2), strcontains),
    Function::new("substr", Arity::exactly(3), substr),
    Function::new("title", Arity::exactly(1), title),
    Function::new("trim", Arity::exactly(2), trim),
    Function::new("trimprefix", Arity::exactly(2), trimprefix),
    Function::new("trimspace", Arity::exactly(1), trimspace),
    Function::new("trimsuffix", Arity::exactly(2), trimsuffix),
    Function::new("upper", Arity::exactly(1), upper),
];

/// `join(separator, list, ...)`: the elements of every list, in order, with the separator between.
fn join(call: &Call<'_>) -> Result<Value, FunctionError> {
    let separator = call.string(0)?;
    let mut pieces = Vec::new();
    for index in 1..call.arguments.len() {
        for (position, item) in call.list(index)?.iter().enumerate() {
            pieces.push(join_piece(call, index, position, item)?);
        }
    }
    Ok(call.derive_string(pieces.join(&separator)))
}

fn join_piece(call: &Call<'_>, index: usize, position: usize, item: &Value) -> Result<String, FunctionError> {
    if item.is_null() {
        return Err(call.error(
            index,
            format!(
                "element {position} of argument {} is null; cannot join null values",
                index + 1
            ),
        ));
    }
    item.to_plain_string().ok_or_else(|| {
        call.error(
            index,
            format!(
                "element {position} of argument {} must be a string, got {}",
                index + 1,
                item.type_name()
            ),
        )
    })
}

/// `split(separator, string)`: the pieces between separators; an empty separator splits into characters.
fn split(call: &Call<'_>) -> Result<Value, FunctionError> {
    let separator = call.string(0)?;
    let text = call.string(1)?;
    if separator.is_empty() {
        return Ok(call.derive_strings(text.chars().map(String::from)));
    }
    Ok(call.derive_strings(text.split(separator.as_ref())))
}

fn lower(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive_string(call.string(0)?.to_lowercase()))
}

fn upper(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive_string(call.string(0)?.to_uppercase()))
}

/// `title(string)`: the first letter of every word in upper case, the rest unchanged.
fn title(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    let mut titled = String::with_capacity(text.len());
    let mut after_separator = true;
    for character in text.chars() {
        if after_separator {
            titled.extend(character.to_uppercase());
        } else {
            titled.push(character);
        }
        after_separator = is_word_separator(character);
    }
    Ok(call.derive_string(titled))
}

/// Where a word ends, as Go's `strings.Title` decides (which Terraform uses).
fn is_word_separator(character: char) -> bool {
    if character.is_ascii() {
        return !(character.is_ascii_alphanumeric() || character == '_');
    }
    character.is_whitespace()
}

fn trimspace(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive_string(call.string(0)?.trim()))
}

/// `trim(string, characters)`: removes any of the characters from both ends.
fn trim(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    let characters = call.string(1)?;
    Ok(call.derive_string(text.trim_matches(|character| characters.contains(character))))
}

fn trimprefix(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    let prefix = call.string(1)?;
    let trimmed = text.strip_prefix(prefix.as_ref()).unwrap_or(&text);
    Ok(call.derive_string(trimmed))
}

fn trimsuffix(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    let suffix = call.string(1)?;
    let trimmed = text.strip_suffix(suffix.as_ref()).unwrap_or(&text);
    Ok(call.derive_string(trimmed))
}

fn startswith(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    Ok(call.derive(Kind::Bool(text.starts_with(call.string(1)?.as_ref()))))
}

fn endswith(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    Ok(call.derive(Kind::Bool(text.ends_with(call.string(1)?.as_ref()))))
}

fn strcontains(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    Ok(call.derive(Kind::Bool(text.contains(call.string(1)?.as_ref()))))
}

/// `replace(string, search, replacement)`: replaces every occurrence; a search
/// written `/pattern/` is a regular expression and the replacement may use `$1` or `${name}`.
fn replace(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    let search = call.string(1)?;
    let replacement = call.string(2)?;
    let pattern = search
        .strip_prefix('/')
        .and_then(|rest| rest.strip_suffix('/'))
        .filter(|_| search.len() > 1);
    let replaced = match pattern {
        Some(pattern) => compile(call, 1, pattern)?
            .replace_all(&text, replacement.as_ref())
            .into_owned(),
        None => text.replace(search.as_ref(), &replacement),
    };
    Ok(call.derive_string(replaced))
}

/// `substr(string, offset, length)`: `length` characters from `offset`; a
/// negative offset counts from the end and a negative length takes the rest.
fn substr(call: &Call<'_>) -> Result<Value, FunctionError> {
    let text = call.string(0)?;
    let offset = call.integer(1)?;
    let length = call.integer(2)?;
    let total = text.chars().count() as i64;
    let start = if offset < 0 { (offset + total).max(0) } else { offset };
    let remaining = text.chars().skip(usize::try_from(start).unwrap_or(usize::MAX));
    let piece: String = match usize::try_from(length) {
        Ok(length) => remaining.take(length).collect(),
        Err(_) => remaining.collect(),
    };
    Ok(call.derive_string(piece))
}

/// `regex(pattern, string)`: the first match: the matched text when the pattern
/// has no capture groups, else a list (unnamed groups) or a map (named groups).
fn regex(call: &Call<'_>) -> Result<Value, FunctionError> {
    let pattern = compile(call, 0, &call.string(0)?)?;
    let shape = capture_shape(call, &pattern)?;
    let text = call.string(1)?;
    let captures = pattern
        .captures(&text)
        .ok_or_else(|| call.failure("pattern did not match any part of the given string"))?;
    Ok(match_value(call, &shape, &captures))
}

/// `regexall(pattern, string)`: every non-overlapping match, each shaped as `regex` shapes it.
fn regexall(call: &Call<'_>) -> Result<Value, FunctionError> {
    let pattern = compile(call, 0, &call.string(0)?)?;
    let shape = capture_shape(call, &pattern)?;
    let text = call.string(1)?;
    let matches = pattern
        .captures_iter(&text)
        .map(|captures| match_value(call, &shape, &captures))
        .collect();
    Ok(call.derive(Kind::List(matches)))
}

/// What a match of a pattern becomes, decided by its capture groups.
enum CaptureShape {
    WholeMatch,
    Unnamed,
    Named(Vec<String>),
}

fn capture_shape(call: &Call<'_>, pattern: &Regex) -> Result<CaptureShape, FunctionError> {
    let groups: Vec<Option<&str>> = pattern.capture_names().skip(1).collect();
    let names: Vec<String> = groups.iter().flatten().map(|name| name.to_string()).collect();
    match (groups.len(), names.len()) {
        (0, _) => Ok(CaptureShape::WholeMatch),
        (_, 0) => Ok(CaptureShape::Unnamed),
        (all, named) if all == named => Ok(CaptureShape::Named(names)),
        _ => Err(call.error(0, "invalid pattern: cannot mix named and unnamed capture groups")),
    }
}

fn match_value(call: &Call<'_>, shape: &CaptureShape, captures: &Captures<'_>) -> Value {
    let group = |found: Option<regex::Match<'_>>| match found {
        Some(found) => call.derive_string(found.as_str()),
        None => call.marked(Value::null()),
    };
    match shape {
        CaptureShape::WholeMatch => group(captures.get(0)),
        CaptureShape::Unnamed => {
            let items = (1..captures.len()).map(|index| group(captures.get(index))).collect();
            call.derive(Kind::List(items))
        }
        CaptureShape::Named(names) => {
            let entries: IndexMap<String, Value> = names
                .iter()
                .map(|name| (name.clone(), group(captures.name(name))))
                .collect();
            call.derive(Kind::Map(entries))
        }
    }
}

/// Compiles the pattern given as argument `index`; the error shows the pattern
/// only when that argument is not sensitive.
fn compile(call: &Call<'_>, index: usize, pattern: &str) -> Result<Regex, FunctionError> {
    Regex::new(pattern).map_err(|error| {
        if call.is_sensitive(index) {
            call.error(
                index,
                format!("argument {} is not a valid regular expression", index + 1),
            )
        } else {
            call.error(
                index,
                format!("invalid regular expression {pattern:?}: {}", regex_reason(&error)),
            )
        }
    })
}

/// The last line of a regex error, which says what is wrong (the lines above draw the pattern).
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text.lines().last().unwrap_or_default();
    last.trim_start_matches("error: ").to_string()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::config::value::Value;

    fn string_of(name: &str, arguments: Vec<Value>) -> String {
        call(name, arguments).as_str().unwrap_or("<not a string>").to_string()
    }

    #[test]
    fn join_joins_every_list() {
        assert_eq!(
            string_of("join", vec![text(", "), texts(&["a", "b"]), texts(&["c"])]),
            "a, b, c"
        );
        assert_eq!(
            string_of("join", vec![text("-"), list(vec![number(1.0), boolean(true)])]),
            "1-true"
        );
        assert_eq!(string_of("join", vec![text("-"), list(vec![])]), "");
        let error = fail("join", vec![text("-"), list(vec![text("a"), Value::null()])]);
        assert_eq!(
            error.message,
            "join: element 1 of argument 2 is null; cannot join null values"
        );
        assert_eq!(error.argument, Some(1));
    }

    #[test]
    fn split_splits_like_go() {
        assert_same(
            &call("split", vec![text(","), text("a,b,,c")]),
            &texts(&["a", "b", "", "c"]),
        );
        assert_same(&call("split", vec![text(","), text("")]), &texts(&[""]));
        assert_same(&call("split", vec![text(""), text("ab")]), &texts(&["a", "b"]));
        assert_same(&call("split", vec![text(""), text("")]), &texts(&[]));
    }

    #[test]
    fn case_changes() {
        assert_eq!(string_of("lower", vec![text("HeLLo")]), "hello");
        assert_eq!(string_of("upper", vec![text("straße")]), "STRASSE");
        assert_eq!(string_of("upper", vec![number(5.0)]), "5");
        assert_eq!(
            string_of("title", vec![text("hello wORLD-foo_bar é")]),
            "Hello WORLD-Foo_bar É"
        );
    }

    #[test]
    fn trimming() {
        assert_eq!(string_of("trimspace", vec![text(" \n a b \t")]), "a b");
        assert_eq!(string_of("trim", vec![text("?!hello?!"), text("!?")]), "hello");
        assert_eq!(
            string_of("trimprefix", vec![text("helloworld"), text("hello")]),
            "world"
        );
        assert_eq!(string_of("trimprefix", vec![text("hello"), text("x")]), "hello");
        assert_eq!(
            string_of("trimsuffix", vec![text("helloworld"), text("world")]),
            "hello"
        );
    }

    #[test]
    fn prefix_suffix_and_contains_tests() {
        assert_eq!(
            call("startswith", vec![text("hello"), text("he")]).as_bool(),
            Some(true)
        );
        assert_eq!(
            call("startswith", vec![text("hello"), text("lo")]).as_bool(),
            Some(false)
        );
        assert_eq!(call("endswith", vec![text("hello"), text("lo")]).as_bool(), Some(true));
        assert_eq!(
            call("strcontains", vec![text("hello"), text("ell")]).as_bool(),
            Some(true)
        );
        assert_eq!(
            call("strcontains", vec![text("hello"), text("xyz")]).as_bool(),
            Some(false)
        );
    }

    #[test]
    fn replace_plain_and_regex() {
        assert_eq!(string_of("replace", vec![text("a-b-c"), text("-"), text("+")]), "a+b+c");
        assert_eq!(
            string_of("replace", vec![text("hello"), text("/l+/"), text("L")]),
            "heLo"
        );
        let swapped = string_of(
            "replace",
            vec![text("key=value"), text("/(\\w+)=(\\w+)/"), text("$2=$1")],
        );
        assert_eq!(swapped, "value=key");
        assert_eq!(string_of("replace", vec![text("a/b"), text("/"), text("|")]), "a|b");
        let error = fail("replace", vec![text("x"), text("/(/"), text("")]);
        assert!(
            error.message.starts_with("replace: invalid regular expression"),
            "{}",
            error.message
        );
        assert_eq!(error.argument, Some(1));
    }

    #[test]
    fn substr_counts_characters() {
        assert_eq!(
            string_of("substr", vec![text("hello world"), number(1.0), number(4.0)]),
            "ello"
        );
        assert_eq!(string_of("substr", vec![text("🤔🤷"), number(0.0), number(1.0)]), "🤔");
        assert_eq!(
            string_of("substr", vec![text("hello world"), number(-5.0), number(3.0)]),
            "wor"
        );
        assert_eq!(
            string_of("substr", vec![text("hello"), number(2.0), number(-1.0)]),
            "llo"
        );
        assert_eq!(string_of("substr", vec![text("hello"), number(10.0), number(2.0)]), "");
        assert_eq!(
            string_of("substr", vec![text("hello"), number(-10.0), number(2.0)]),
            "he"
        );
        let error = fail("substr", vec![text("hello"), number(1.5), number(2.0)]);
        assert_eq!(error.message, "substr: argument 2 must be a whole number");
    }

    #[test]
    fn regex_shapes_its_result_by_capture_groups() {
        assert_eq!(
            string_of("regex", vec![text("[a-z]+"), text("53453453.345345aaabbbccc23454")]),
            "aaabbbccc"
        );
        let unnamed = call("regex", vec![text("(\\d+)-(\\d+)(x)?"), text("10-20")]);
        assert_same(&unnamed, &list(vec![text("10"), text("20"), Value::null()]));
        let named = call("regex", vec![text("(?P<user>\\w+)@(?P<host>\\w+)"), text("me@example")]);
        assert_same(&named, &map(&[("user", text("me")), ("host", text("example"))]));
        let error = fail("regex", vec![text("[a-z]+"), text("123")]);
        assert_eq!(
            error.message,
            "regex: pattern did not match any part of the given string"
        );
        let mixed = fail("regex", vec![text("(?P<a>x)(y)"), text("xy")]);
        assert_eq!(mixed.argument, Some(0));
    }

    #[test]
    fn regexall_finds_every_match() {
        assert_same(
            &call("regexall", vec![text("[a-z]+"), text("1a2bb3")]),
            &texts(&["a", "bb"]),
        );
        assert_same(&call("regexall", vec![text("x"), text("abc")]), &texts(&[]));
        let pairs = call("regexall", vec![text("(\\w)=(\\d)"), text("a=1 b=2")]);
        assert_same(&pairs, &list(vec![texts(&["a", "1"]), texts(&["b", "2"])]));
    }

    #[test]
    fn regex_results_carry_the_marks() {
        let found = call("regex", vec![text("(\\w+)"), secret("hunter2")]);
        assert!(found.sensitive);
        assert!(
            found
                .as_list()
                .is_some_and(|items| items.iter().all(|item| item.sensitive))
        );
    }
}

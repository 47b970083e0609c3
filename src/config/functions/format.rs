//! `format` and `formatlist`: printf-style formatting with Terraform's verbs.
//!
//! Supported: `%%`, `%v` (`%#v` for JSON), `%s`, `%q`, `%t`, `%d`, `%b`, `%o`,
//! `%x`, `%X`, `%f`, `%e`, `%E`; the flags `-`, `+`, ` `, `0` and `#`; a width, a
//! `.precision` and an explicit `[n]` argument index, as Terraform reads them.
//! Widths and precisions count characters. `%v` shows a number the way string
//! interpolation does (`1234567`, where Terraform's `%v` would print `1.234567e+06`);
//! `%g` and `%G` are not supported.

use super::encoding::encode_json;
use super::{Arity, Call, Function, FunctionError, parse_number};
use crate::config::value::{Kind, Value, format_number};

pub(super) static FUNCTIONS: &[Function] = &[
    Function::new("format", Arity::at_least(1), format),
    Function::new("formatlist", Arity::at_least(1), formatlist),
];

/// The largest width or precision a verb may ask for.
const MAXIMUM_WIDTH: usize = 100_000;

/// `format(spec, values...)`: the spec with each verb replaced by its value.
fn format(call: &Call<'_>) -> Result<Value, FunctionError> {
    let spec = call.string(0)?;
    let values: Vec<&Value> = call.arguments.iter().skip(1).collect();
    let formatted = render(&spec, &values, call.is_sensitive(0)).map_err(|failure| failure.into_error(call))?;
    Ok(call.derive_string(formatted))
}

/// `formatlist(spec, values...)`: `format` once per element of the list
/// arguments (which must have the same length), repeating the other arguments.
fn formatlist(call: &Call<'_>) -> Result<Value, FunctionError> {
    let spec = call.string(0)?;
    let count = iteration_count(call)?;
    let mut lines = Vec::with_capacity(count);
    for iteration in 0..count {
        let values: Vec<&Value> = call
            .arguments
            .iter()
            .skip(1)
            .map(|argument| match &argument.kind {
                Kind::List(items) => items.get(iteration).unwrap_or(argument),
                _ => argument,
            })
            .collect();
        let line = render(&spec, &values, call.is_sensitive(0)).map_err(|failure| {
            let error = failure.into_error(call);
            let detail = error.message.trim_start_matches("formatlist: ");
            FunctionError {
                message: format!("formatlist: error on format iteration {iteration}: {detail}"),
                argument: error.argument,
            }
        })?;
        lines.push(line);
    }
    Ok(call.derive_strings(lines))
}

/// How many lines `formatlist` produces: the common length of its list
/// arguments, or one when none is a list.
fn iteration_count(call: &Call<'_>) -> Result<usize, FunctionError> {
    let mut chosen: Option<(usize, usize)> = None;
    for (index, argument) in call.arguments.iter().enumerate().skip(1) {
        let Some(items) = argument.as_list() else { continue };
        match chosen {
            None => chosen = Some((index, items.len())),
            Some((first, length)) if length != items.len() => {
                return Err(call.error(
                    index,
                    format!(
                        "argument {} has length {}, which is inconsistent with argument {} of length {length}",
                        index + 1,
                        items.len(),
                        first + 1
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(chosen.map_or(1, |(_, length)| length))
}

/// A formatting failure; `value` is the index of the value at fault (0 is the first after the spec).
struct Failure {
    message: String,
    value: Option<usize>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            value: None,
        }
    }

    fn about(value: usize, message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            value: Some(value),
        }
    }

    fn into_error(self, call: &Call<'_>) -> FunctionError {
        match self.value {
            Some(value) => call.error(value + 1, self.message),
            None => call.error(0, self.message),
        }
    }
}

/// One `%` sequence of a spec.
#[derive(Default)]
struct Verb {
    /// The sequence as written, for messages (`(sensitive)` when the spec is).
    written: String,
    offset: usize,
    /// 1-based index of the value it formats.
    value_number: usize,
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    precision: Option<usize>,
    mode: char,
}

impl Verb {
    fn unsupported(&self, value: usize, reason: &str) -> Failure {
        Failure::about(
            value,
            format!(
                "unsupported value for {} at offset {}: {reason}",
                self.written, self.offset
            ),
        )
    }
}

/// Formats `spec` with `values`; `hide_spec` keeps a sensitive spec out of messages.
fn render(spec: &str, values: &[&Value], hide_spec: bool) -> Result<String, Failure> {
    let mut output = String::with_capacity(spec.len());
    let mut next_value = 1;
    let mut characters = spec.char_indices().peekable();
    while let Some((offset, character)) = characters.next() {
        if character != '%' {
            output.push(character);
            continue;
        }
        if characters.next_if(|(_, next)| *next == '%').is_some() {
            output.push('%');
            continue;
        }
        let mut verb = parse_verb(spec, offset, &mut characters, next_value)?;
        if hide_spec {
            verb.written = "(sensitive)".to_string();
        }
        let index = verb.value_number - 1;
        let value = values.get(index).ok_or_else(|| {
            Failure::new(format!(
                "not enough arguments for {} at offset {offset}: need argument {} but have {}",
                verb.written,
                verb.value_number,
                values.len()
            ))
        })?;
        output.push_str(&format_value(&verb, index, value)?);
        next_value = verb.value_number + 1;
    }
    if next_value <= values.len() {
        return Err(Failure::about(
            next_value - 1,
            format!("too many arguments; only {} used by format string", next_value - 1),
        ));
    }
    Ok(output)
}

type Characters<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// Reads the flags, `[n]`, width, precision and mode after a `%` at `offset`.
fn parse_verb(spec: &str, offset: usize, characters: &mut Characters<'_>, next_value: usize) -> Result<Verb, Failure> {
    let mut verb = Verb {
        offset,
        value_number: next_value,
        ..Verb::default()
    };
    while let Some((_, flag)) = characters.next_if(|(_, next)| matches!(next, '-' | '+' | ' ' | '0' | '#')) {
        match flag {
            '-' => verb.minus = true,
            '+' => verb.plus = true,
            ' ' => verb.space = true,
            '0' => verb.zero = true,
            _ => verb.sharp = true,
        }
    }
    if characters.next_if(|(_, next)| *next == '[').is_some() {
        verb.value_number = read_number(characters)
            .filter(|number| *number > 0)
            .ok_or_else(|| invalid(offset))?;
        characters
            .next_if(|(_, next)| *next == ']')
            .ok_or_else(|| invalid(offset))?;
    }
    verb.width = read_number(characters);
    if characters.next_if(|(_, next)| *next == '.').is_some() {
        verb.precision = Some(read_number(characters).unwrap_or(0));
    }
    if verb.width.max(verb.precision).is_some_and(|size| size > MAXIMUM_WIDTH) {
        return Err(Failure::new(format!(
            "width or precision at offset {offset} is larger than {MAXIMUM_WIDTH}"
        )));
    }
    let (end, mode) = characters.next().ok_or_else(|| invalid(offset))?;
    if !mode.is_ascii_alphabetic() {
        return Err(Failure::new(format!(
            "unrecognized format character {mode:?} at offset {end}"
        )));
    }
    verb.mode = mode;
    verb.written = format!("{:?}", spec.get(offset..end + mode.len_utf8()).unwrap_or("%"));
    Ok(verb)
}

fn invalid(offset: usize) -> Failure {
    Failure::new(format!("invalid format string starting at offset {offset}"))
}

/// Reads decimal digits; `None` when there are none (or too many to matter).
fn read_number(characters: &mut Characters<'_>) -> Option<usize> {
    let mut number: Option<usize> = None;
    while let Some((_, digit)) = characters.next_if(|(_, next)| next.is_ascii_digit()) {
        let value = digit.to_digit(10).unwrap_or(0) as usize;
        number = Some(number.unwrap_or(0).saturating_mul(10).saturating_add(value));
    }
    number
}

fn format_value(verb: &Verb, index: usize, value: &Value) -> Result<String, Failure> {
    if value.is_null() && verb.mode != 'v' {
        return Err(verb.unsupported(index, "null value cannot be formatted"));
    }
    match verb.mode {
        'v' => Ok(pad(verb, as_is(verb, value))),
        't' => format_bool(verb, index, value),
        's' | 'q' => format_string(verb, index, value),
        'd' | 'b' | 'o' | 'x' | 'X' => format_integer(verb, index, value),
        'f' | 'e' | 'E' => format_float(verb, index, value),
        other => Err(Failure::about(
            index,
            format!(
                "unsupported format verb {other:?} in {} at offset {}",
                verb.written, verb.offset
            ),
        )),
    }
}

/// `%v`: strings and numbers as interpolation shows them, everything else (and `%#v`) as JSON.
fn as_is(verb: &Verb, value: &Value) -> String {
    match &value.kind {
        Kind::String(text) if !verb.sharp => text.clone(),
        Kind::Number(number) if !verb.sharp => format_number(*number),
        _ => encode_json(&value.to_json()),
    }
}

fn format_bool(verb: &Verb, index: usize, value: &Value) -> Result<String, Failure> {
    match (&value.kind, value.as_str()) {
        (Kind::Bool(truth), _) => Ok(truth.to_string()),
        (_, Some(text @ ("true" | "false"))) => Ok(text.to_string()),
        _ => Err(verb.unsupported(index, &format!("bool required, got {}", value.type_name()))),
    }
}

fn format_string(verb: &Verb, index: usize, value: &Value) -> Result<String, Failure> {
    let text = value
        .to_plain_string()
        .ok_or_else(|| verb.unsupported(index, &format!("string required, got {}", value.type_name())))?;
    let text: String = match verb.precision {
        Some(precision) if precision > 0 => text.chars().take(precision).collect(),
        _ => text,
    };
    let shown = if verb.mode == 'q' {
        encode_json(&serde_json::Value::String(text))
    } else {
        text
    };
    Ok(pad(verb, shown))
}

fn number_of(verb: &Verb, index: usize, value: &Value) -> Result<f64, Failure> {
    let number = match &value.kind {
        Kind::Number(number) => Some(*number),
        Kind::String(text) => parse_number(text),
        _ => None,
    };
    number
        .filter(|number| number.is_finite())
        .ok_or_else(|| verb.unsupported(index, &format!("number required, got {}", value.type_name())))
}

/// `%d`, `%b`, `%o`, `%x`, `%X`: a whole number, with Go's sign, `#` prefix,
/// precision (minimum digits) and zero padding.
fn format_integer(verb: &Verb, index: usize, value: &Value) -> Result<String, Failure> {
    let number = number_of(verb, index, value)?;
    if number.fract() != 0.0 {
        return Err(verb.unsupported(index, "an integer is required"));
    }
    let mut digits = integer_digits(verb, number.abs()).ok_or_else(|| verb.unsupported(index, "integer too large"))?;
    match verb.precision {
        Some(0) if number == 0.0 => digits.clear(),
        Some(precision) if digits.len() < precision => digits.insert_str(0, &"0".repeat(precision - digits.len())),
        _ => {}
    }
    let prefix = match (verb.sharp, verb.mode) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let zero_pad = verb.zero && verb.precision.is_none();
    Ok(pad_number(verb, sign(verb, number < 0.0), prefix, &digits, zero_pad))
}

fn integer_digits(verb: &Verb, magnitude: f64) -> Option<String> {
    if verb.mode == 'd' {
        return Some(format!("{magnitude:.0}"));
    }
    if magnitude >= 2f64.powi(128) {
        return None;
    }
    let whole = magnitude as u128;
    Some(match verb.mode {
        'b' => format!("{whole:b}"),
        'o' => format!("{whole:o}"),
        'x' => format!("{whole:x}"),
        _ => format!("{whole:X}"),
    })
}

/// `%f`, `%e`, `%E`: precision 6 unless given; exponents as Go writes them (`e+02`).
fn format_float(verb: &Verb, index: usize, value: &Value) -> Result<String, Failure> {
    let number = number_of(verb, index, value)?;
    let precision = verb.precision.unwrap_or(6);
    let magnitude = number.abs();
    let digits = match verb.mode {
        'f' => format!("{magnitude:.precision$}"),
        mode => go_exponent(&format!("{magnitude:.precision$e}"), mode == 'E'),
    };
    let negative = number < 0.0 || (number == 0.0 && number.is_sign_negative());
    Ok(pad_number(verb, sign(verb, negative), "", &digits, verb.zero))
}

/// Rewrites Rust's `1.5e2` as Go's `1.5e+02`.
fn go_exponent(rust_form: &str, upper: bool) -> String {
    let (mantissa, exponent) = rust_form.split_once('e').unwrap_or((rust_form, "0"));
    let (exponent_sign, exponent_digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent),
    };
    let letter = if upper { 'E' } else { 'e' };
    format!("{mantissa}{letter}{exponent_sign}{exponent_digits:0>2}")
}

fn sign(verb: &Verb, negative: bool) -> &'static str {
    match (negative, verb.plus, verb.space) {
        (true, _, _) => "-",
        (false, true, _) => "+",
        (false, false, true) => " ",
        _ => "",
    }
}

/// Pads a number to the verb's width: spaces on the right with `-`, zeros after
/// the sign and prefix with `0`, spaces on the left otherwise.
fn pad_number(verb: &Verb, sign: &str, prefix: &str, digits: &str, zero_pad: bool) -> String {
    let length = sign.len() + prefix.len() + digits.len();
    let missing = verb.width.unwrap_or(0).saturating_sub(length);
    if verb.minus {
        format!("{sign}{prefix}{digits}{}", " ".repeat(missing))
    } else if zero_pad {
        format!("{sign}{prefix}{}{digits}", "0".repeat(missing))
    } else {
        format!("{}{sign}{prefix}{digits}", " ".repeat(missing))
    }
}

/// Pads a string or `%v` result to the verb's width, counting characters.
fn pad(verb: &Verb, text: String) -> String {
    let missing = verb.width.unwrap_or(0).saturating_sub(text.chars().count());
    if missing == 0 {
        return text;
    }
    let padding = if verb.zero { "0" } else { " " }.repeat(missing);
    if verb.minus { text + &padding } else { padding + &text }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::config::value::Value;

    fn formatted(spec: &str, values: Vec<Value>) -> String {
        let mut arguments = vec![text(spec)];
        arguments.extend(values);
        call("format", arguments)
            .as_str()
            .unwrap_or("<not a string>")
            .to_string()
    }

    fn format_error(spec: &str, values: Vec<Value>) -> String {
        let mut arguments = vec![text(spec)];
        arguments.extend(values);
        fail("format", arguments).message
    }

    #[test]
    fn strings_and_quotes() {
        assert_eq!(formatted("Hello, %s!", vec![text("Ander")]), "Hello, Ander!");
        assert_eq!(formatted("%q", vec![text("a\"b<")]), "\"a\\\"b\\u003c\"");
        assert_eq!(formatted("[%5s][%-5s]", vec![text("ab"), text("cd")]), "[   ab][cd   ]");
        assert_eq!(formatted("%.3s", vec![text("abcdef")]), "abc");
        assert_eq!(formatted("%s %s", vec![number(1.5), boolean(true)]), "1.5 true");
        assert_eq!(formatted("100%%", vec![]), "100%");
    }

    #[test]
    fn integers() {
        assert_eq!(formatted("%d", vec![number(42.0)]), "42");
        assert_eq!(formatted("%d", vec![text("42")]), "42");
        assert_eq!(
            formatted("%5d|%-5d|%05d", vec![number(42.0), number(42.0), number(-42.0)]),
            "   42|42   |-0042"
        );
        assert_eq!(formatted("%+d % d", vec![number(7.0), number(7.0)]), "+7  7");
        assert_eq!(formatted("%.3d", vec![number(7.0)]), "007");
        assert_eq!(
            formatted("%x %X %#x %o %b", vec![number(255.0); 5]),
            "ff FF 0xff 377 11111111"
        );
        assert_eq!(formatted("%x", vec![number(-255.0)]), "-ff");
        assert!(format_error("%d", vec![number(1.5)]).contains("an integer is required"));
    }

    #[test]
    fn floats() {
        assert_eq!(formatted("%f", vec![number(1.234567)]), "1.234567");
        assert_eq!(formatted("%.2f", vec![number(1.235)]), "1.24");
        assert_eq!(
            formatted("%8.2f|%-8.2f|%08.2f", vec![number(-1.23456); 3]),
            "   -1.23|-1.23   |-0001.23"
        );
        assert_eq!(formatted("%e", vec![number(123.456)]), "1.234560e+02");
        assert_eq!(formatted("%.1E", vec![number(0.000123)]), "1.2E-04");
    }

    #[test]
    fn default_and_json_forms() {
        assert_eq!(
            formatted("%v %v %v", vec![text("a"), number(1234567.0), boolean(false)]),
            "a 1234567 false"
        );
        assert_eq!(formatted("%v", vec![Value::null()]), "null");
        assert_eq!(formatted("%v", vec![texts(&["a", "b"])]), "[\"a\",\"b\"]");
        assert_eq!(formatted("%#v", vec![text("a")]), "\"a\"");
        assert_eq!(
            formatted("%v", vec![map(&[("b", number(1.0)), ("a", number(2.0))])]),
            "{\"b\":1,\"a\":2}"
        );
        assert_eq!(formatted("%t", vec![boolean(true)]), "true");
    }

    #[test]
    fn explicit_indexes() {
        assert_eq!(formatted("%[2]s %[1]s %s", vec![text("a"), text("b")]), "b a b");
    }

    #[test]
    fn format_errors() {
        assert!(format_error("%s %s", vec![text("a")]).contains("not enough arguments"));
        assert!(format_error("%s", vec![text("a"), text("b")]).contains("too many arguments; only 1 used"));
        assert!(format_error("%s", vec![Value::null()]).contains("null value cannot be formatted"));
        assert!(format_error("%y", vec![text("a")]).contains("unsupported format verb 'y'"));
        assert!(format_error("%g", vec![number(1.0)]).contains("unsupported format verb"));
        assert!(format_error("abc %", vec![]).contains("invalid format string starting at offset 4"));
        assert!(format_error("%!", vec![]).contains("unrecognized format character"));
        assert!(format_error("%999999999999s", vec![text("a")]).contains("larger than"));
        assert!(format_error("%[0]s", vec![text("a")]).contains("invalid format string"));
        let error = fail("format", vec![text("%s %s"), text("a"), list(vec![])]);
        assert_eq!(
            error.message,
            "format: unsupported value for \"%s\" at offset 3: string required, got list"
        );
        assert_eq!(error.argument, Some(2));
    }

    #[test]
    fn formatlist_iterates_lists_and_repeats_scalars() {
        let lines = call("formatlist", vec![text("%s=%s"), texts(&["a", "b"]), text("x")]);
        assert_same(&lines, &texts(&["a=x", "b=x"]));
        let zipped = call(
            "formatlist",
            vec![text("%s-%s"), texts(&["a", "b"]), texts(&["1", "2"])],
        );
        assert_same(&zipped, &texts(&["a-1", "b-2"]));
        assert_same(&call("formatlist", vec![text("%s"), text("x")]), &texts(&["x"]));
        assert_same(&call("formatlist", vec![text("%s"), texts(&[])]), &texts(&[]));
        let error = fail("formatlist", vec![text("%s%s"), texts(&["a"]), texts(&["a", "b"])]);
        assert_eq!(
            error.message,
            "formatlist: argument 3 has length 2, which is inconsistent with argument 2 of length 1"
        );
        let error = fail("formatlist", vec![text("%d"), texts(&["1", "x"])]);
        assert!(
            error.message.starts_with("formatlist: error on format iteration 1: "),
            "{}",
            error.message
        );
    }

    #[test]
    fn sensitive_spec_stays_out_of_messages() {
        let error = fail("format", vec![secret("%d hunter2"), text("x")]);
        assert!(error.message.contains("(sensitive)"), "{}", error.message);
    }
}

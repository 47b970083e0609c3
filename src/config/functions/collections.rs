//! The collection functions: `length`, `concat`, `merge`, `lookup`, `keys`,
//! `values`, `element`, `index`, `contains`, `slice`, `reverse`, `sort`,
//! `flatten`, `distinct`, `compact`, `coalesce`, `coalescelist`, `range` and `zipmap`.
//!
//! keyform's maps keep the order their keys were written in, so `keys` and
//! `values` follow that order (Terraform sorts keys); `merge` keeps a key where
//! it first appeared and takes the last value given for it. Values are equal
//! (for `contains`, `index`, `distinct` and `toset`) when their contents are,
//! whatever their marks.

use super::{Arity, Call, Function, FunctionError};
use crate::config::value::{Kind, Value};
use indexmap::IndexMap;
use std::collections::HashSet;

pub(super) static FUNCTIONS: &[Function] = &[
    Function::new("coalesce", Arity::at_least(1), coalesce).shallow(),
    Function::new("coalescelist", Arity::at_least(1), coalescelist).shallow(),
    Function::new("compact", Arity::exactly(1), compact),
    Function::new("concat", Arity::at_least(0), concat).shallow(),
    Function::new("contains", Arity::exactly(2), contains),
    Function::new("distinct", Arity::exactly(1), distinct),
    Function::new("element", Arity::exactly(2), element).shallow(),
    Function::new("flatten", Arity::exactly(1), flatten),
    Function::new("index", Arity::exactly(2), index),
    Function::new("keys", Arity::exactly(1), keys).shallow(),
    Function::new("length", Arity::exactly(1), length)
        .shallow()
        .accepting_generated(),
    Function::new("lookup", Arity::between(2, 3), lookup).shallow(),
    Function::new("merge", Arity::at_least(0), merge).shallow(),
    Function::new("range", Arity::between(1, 3), range),
    Function::new("reverse", Arity::exactly(1), reverse).shallow(),
    Function::new("slice", Arity::exactly(3), slice).shallow(),
    Function::new("sort", Arity::exactly(1), sort),
    Function::new("values", Arity::exactly(1), values).shallow(),
    Function::new("zipmap", Arity::exactly(2), zipmap).shallow(),
];

/// The most items `range` produces.
const MAXIMUM_RANGE: f64 = 1_000_000.0;

/// A text that two values share exactly when their contents are equal
/// (marks aside; maps compare without regard to key order).
fn identity(value: &Value) -> String {
    let mut key = String::new();
    write_identity(value, &mut key);
    key
}

fn write_identity(value: &Value, key: &mut String) {
    match &value.kind {
        Kind::Null => key.push('~'),
        Kind::Bool(truth) => key.push(if *truth { 'T' } else { 'F' }),
        Kind::Number(number) => {
            let normalized = if *number == 0.0 { 0.0 } else { *number };
            key.push_str(&format!("n{};", normalized.to_bits()));
        }
        Kind::String(text) => key.push_str(&format!("s{}:{text}", text.len())),
        Kind::List(items) => {
            key.push('[');
            items.iter().for_each(|item| write_identity(item, key));
            key.push(']');
        }
        Kind::Map(entries) => {
            let mut sorted: Vec<(&String, &Value)> = entries.iter().collect();
            sorted.sort_by(|left, right| left.0.cmp(right.0));
            key.push('{');
            for (name, item) in sorted {
                key.push_str(&format!("k{}:{name}", name.len()));
                write_identity(item, key);
            }
            key.push('}');
        }
        Kind::Unknown => key.push('?'),
        Kind::Generated(_) => key.push('g'),
    }
}

/// The items without duplicates, keeping the first of each.
pub(super) fn without_duplicates(items: &[Value]) -> Vec<Value> {
    let mut seen = HashSet::new();
    items
        .iter()
        .filter(|item| seen.insert(identity(item)))
        .cloned()
        .collect()
}

/// `length(value)`: the characters of a string, the items of a list, the entries of a map.
fn length(call: &Call<'_>) -> Result<Value, FunctionError> {
    let count = match &call.not_null(0)?.kind {
        Kind::String(text) => text.chars().count(),
        Kind::List(items) => items.len(),
        Kind::Map(entries) => entries.len(),
        Kind::Generated(spec) => spec.length as usize,
        _ => return Err(call.wrong_type(0, "a string, list or map")),
    };
    Ok(call.derive(Kind::Number(count as f64)))
}

/// `concat(list, ...)`: the lists joined into one.
fn concat(call: &Call<'_>) -> Result<Value, FunctionError> {
    let mut items = Vec::new();
    for index in 0..call.arguments.len() {
        items.extend_from_slice(call.list(index)?);
    }
    Ok(call.derive(Kind::List(items)))
}

/// `merge(map, ...)`: the maps combined; a later map's value wins. Null arguments are skipped.
fn merge(call: &Call<'_>) -> Result<Value, FunctionError> {
    let mut merged = IndexMap::new();
    for (index, argument) in call.arguments.iter().enumerate() {
        if argument.is_null() {
            continue;
        }
        merged.extend(call.map(index)?.iter().map(|(key, value)| (key.clone(), value.clone())));
    }
    Ok(call.derive(Kind::Map(merged)))
}

/// `lookup(map, key, default)`: the value at the key, else the default (an error without one).
fn lookup(call: &Call<'_>) -> Result<Value, FunctionError> {
    let entries = call.map(0)?;
    let key = call.string(1)?;
    if let Some(found) = entries.get(key.as_ref()) {
        return Ok(found.clone());
    }
    match call.arguments.get(2) {
        Some(default) => Ok(default.clone()),
        None => Err(call.error(1, format!("the key {} does not exist in the map", call.shown(1)))),
    }
}

/// `keys(map)`: the map's keys, in the map's order.
fn keys(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive_strings(call.map(0)?.keys().cloned()))
}

/// `values(map)`: the map's values, in the map's order.
fn values(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive(Kind::List(call.map(0)?.values().cloned().collect())))
}

/// `element(list, index)`: the item at the index, wrapping around past the end.
fn element(call: &Call<'_>) -> Result<Value, FunctionError> {
    let items = call.list(0)?;
    let position = call.integer(1)?;
    if items.is_empty() {
        return Err(call.error(0, "cannot use element function with an empty list"));
    }
    let position =
        usize::try_from(position).map_err(|_| call.error(1, "cannot use element function with a negative index"))?;
    items
        .get(position % items.len())
        .cloned()
        .ok_or_else(|| call.failure("index out of range"))
}

/// `index(list, value)`: the position of the first item equal to the value.
fn index(call: &Call<'_>) -> Result<Value, FunctionError> {
    let items = call.list(0)?;
    let wanted = identity(call.argument(1)?);
    let position = items
        .iter()
        .position(|item| identity(item) == wanted)
        .ok_or_else(|| call.error(1, "item not found"))?;
    Ok(call.derive(Kind::Number(position as f64)))
}

/// `contains(list, value)`: whether an item equals the value.
fn contains(call: &Call<'_>) -> Result<Value, FunctionError> {
    let items = call.list(0)?;
    let wanted = identity(call.argument(1)?);
    Ok(call.derive(Kind::Bool(items.iter().any(|item| identity(item) == wanted))))
}

/// `slice(list, start, end)`: the items from `start` up to, not including, `end`.
fn slice(call: &Call<'_>) -> Result<Value, FunctionError> {
    let items = call.list(0)?;
    let start = call.integer(1)?;
    let end = call.integer(2)?;
    let start = usize::try_from(start).map_err(|_| call.error(1, "start index must not be negative"))?;
    let end = usize::try_from(end).map_err(|_| call.error(2, "end index must not be negative"))?;
    if end > items.len() {
        return Err(call.error(2, "end index must not be greater than the length of the list"));
    }
    let chosen = items
        .get(start..end)
        .ok_or_else(|| call.error(1, "start index must not be greater than end index"))?;
    Ok(call.derive(Kind::List(chosen.to_vec())))
}

/// `reverse(list)`: the items in reverse order.
fn reverse(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive(Kind::List(call.list(0)?.iter().rev().cloned().collect())))
}

/// `sort(list)`: the items as strings, in lexical (byte) order; each keeps its own marks.
fn sort(call: &Call<'_>) -> Result<Value, FunctionError> {
    let mut sorted = Vec::new();
    for (position, item) in call.list(0)?.iter().enumerate() {
        sorted.push(sortable(call, position, item)?);
    }
    sorted.sort_by(|left, right| left.0.cmp(&right.0));
    let items = sorted
        .into_iter()
        .map(|(text, item)| Value {
            kind: Kind::String(text),
            ..item.clone()
        })
        .collect();
    Ok(call.derive(Kind::List(items)))
}

fn sortable<'a>(call: &Call<'_>, position: usize, item: &'a Value) -> Result<(String, &'a Value), FunctionError> {
    if item.is_null() {
        return Err(call.error(0, format!("element {position} is null; a null string cannot be sorted")));
    }
    let text = item.to_plain_string().ok_or_else(|| {
        call.error(
            0,
            format!("element {position} must be a string, got {}", item.type_name()),
        )
    })?;
    Ok((text, item))
}

/// `flatten(list)`: nested lists replaced by their items, at every depth.
fn flatten(call: &Call<'_>) -> Result<Value, FunctionError> {
    let mut flat = Vec::new();
    flatten_into(call.list(0)?, &mut flat);
    Ok(call.derive(Kind::List(flat)))
}

fn flatten_into(items: &[Value], flat: &mut Vec<Value>) {
    for item in items {
        match &item.kind {
            Kind::List(inner) => flatten_into(inner, flat),
            _ => flat.push(item.clone()),
        }
    }
}

/// `distinct(list)`: the list without duplicates, keeping the first of each.
fn distinct(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive(Kind::List(without_duplicates(call.list(0)?))))
}

/// `compact(list)`: the list without null and empty-string items.
fn compact(call: &Call<'_>) -> Result<Value, FunctionError> {
    let mut kept = Vec::new();
    for (position, item) in call.list(0)?.iter().enumerate() {
        match &item.kind {
            Kind::Null => {}
            Kind::String(text) if text.is_empty() => {}
            Kind::String(_) | Kind::Number(_) | Kind::Bool(_) => kept.push(item.clone()),
            _ => {
                return Err(call.error(
                    0,
                    format!("element {position} must be a string, got {}", item.type_name()),
                ));
            }
        }
    }
    Ok(call.derive(Kind::List(kept)))
}

/// `coalesce(value, ...)`: the first argument that is neither null nor an empty string.
fn coalesce(call: &Call<'_>) -> Result<Value, FunctionError> {
    call.arguments
        .iter()
        .find(|argument| !argument.is_null() && argument.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| call.failure("no non-null, non-empty-string arguments"))
}

/// `coalescelist(list, ...)`: the first list argument that is not empty.
fn coalescelist(call: &Call<'_>) -> Result<Value, FunctionError> {
    for (index, argument) in call.arguments.iter().enumerate() {
        if !argument.is_null() && !call.list(index)?.is_empty() {
            return Ok(argument.clone());
        }
    }
    Err(call.failure("no non-null, non-empty list arguments"))
}

/// `range(limit)`, `range(start, limit)`, `range(start, limit, step)`: numbers
/// from `start` (0) towards `limit` (excluded) by `step` (1, or -1 when counting down).
fn range(call: &Call<'_>) -> Result<Value, FunctionError> {
    let numbers = (0..call.arguments.len())
        .map(|index| call.number(index))
        .collect::<Result<Vec<f64>, FunctionError>>()?;
    let (start, limit, step) = match numbers[..] {
        [limit] => (0.0, limit, if limit < 0.0 { -1.0 } else { 1.0 }),
        [start, limit] => (start, limit, if limit < start { -1.0 } else { 1.0 }),
        [start, limit, step] => (start, limit, step),
        _ => return Err(call.failure("expects 1 to 3 arguments")),
    };
    check_range_direction(call, start, limit, step)?;
    let count = ((limit - start) / step).ceil();
    if !count.is_finite() || count > MAXIMUM_RANGE {
        return Err(call.failure(format!("the range would have more than {MAXIMUM_RANGE} items")));
    }
    let items = (0..count.max(0.0) as usize)
        .map(|position| call.derive(Kind::Number(start + step * position as f64)))
        .collect();
    Ok(call.derive(Kind::List(items)))
}

fn check_range_direction(call: &Call<'_>, start: f64, limit: f64, step: f64) -> Result<(), FunctionError> {
    if step == 0.0 {
        return Err(call.error(2, "step must not be zero"));
    }
    if step < 0.0 && limit > start {
        return Err(call.error(1, "limit must be less than start when step is negative"));
    }
    if step > 0.0 && limit < start {
        return Err(call.error(1, "limit must be greater than start when step is positive"));
    }
    Ok(())
}

/// `zipmap(keys, values)`: a map from each key to the value at the same position.
fn zipmap(call: &Call<'_>) -> Result<Value, FunctionError> {
    let key_items = call.list(0)?;
    let value_items = call.list(1)?;
    if key_items.iter().any(Value::has_unknown) {
        return Ok(call.marked(Value::unknown()));
    }
    if key_items.len() != value_items.len() {
        return Err(call.error(
            1,
            format!(
                "number of keys ({}) does not match number of values ({})",
                key_items.len(),
                value_items.len()
            ),
        ));
    }
    let mut entries = IndexMap::new();
    for (position, (key, value)) in key_items.iter().zip(value_items).enumerate() {
        let key = key.to_plain_string().ok_or_else(|| {
            call.error(
                0,
                format!("element {position} must be a string, got {}", key.type_name()),
            )
        })?;
        entries.insert(key, value.clone());
    }
    Ok(call.derive(Kind::Map(entries)))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::config::value::Value;

    fn numbers(items: &[f64]) -> Value {
        list(items.iter().map(|item| number(*item)).collect())
    }

    #[test]
    fn length_counts() {
        assert_eq!(call("length", vec![text("héllo")]).as_number(), Some(5.0));
        assert_eq!(call("length", vec![texts(&["a", "b"])]).as_number(), Some(2.0));
        assert_eq!(call("length", vec![map(&[("a", number(1.0))])]).as_number(), Some(1.0));
        assert_eq!(
            fail("length", vec![number(1.0)]).message,
            "length: argument 1 must be a string, list or map, got number"
        );
        assert_eq!(
            fail("length", vec![Value::null()]).message,
            "length: argument 1 must not be null"
        );
    }

    #[test]
    fn concat_joins_lists() {
        assert_same(
            &call("concat", vec![texts(&["a"]), texts(&["b", "c"])]),
            &texts(&["a", "b", "c"]),
        );
        assert_eq!(fail("concat", vec![texts(&["a"]), text("b")]).argument, Some(1));
    }

    #[test]
    fn merge_later_values_win() {
        let merged = call(
            "merge",
            vec![
                map(&[("a", number(1.0)), ("b", number(2.0))]),
                Value::null(),
                map(&[("a", number(3.0))]),
            ],
        );
        assert_same(&merged, &map(&[("a", number(3.0)), ("b", number(2.0))]));
        assert_same(&call("merge", vec![]), &map(&[]));
        assert_eq!(
            fail("merge", vec![texts(&[])]).message,
            "merge: argument 1 must be a map, got list"
        );
    }

    #[test]
    fn lookup_with_and_without_default() {
        let entries = map(&[("a", text("x"))]);
        assert_eq!(call("lookup", vec![entries.clone(), text("a")]).as_str(), Some("x"));
        assert_eq!(
            call("lookup", vec![entries.clone(), text("b"), text("d")]).as_str(),
            Some("d")
        );
        let error = fail("lookup", vec![entries, text("b")]);
        assert_eq!(error.message, "lookup: the key \"b\" does not exist in the map");
        assert_eq!(error.argument, Some(1));
    }

    #[test]
    fn keys_and_values_follow_map_order() {
        let entries = map(&[("b", number(1.0)), ("a", number(2.0))]);
        assert_same(&call("keys", vec![entries.clone()]), &texts(&["b", "a"]));
        assert_same(&call("values", vec![entries]), &numbers(&[1.0, 2.0]));
        let secret_keys = call("keys", vec![map(&[("k", secret("v"))])]);
        assert!(
            secret_keys
                .as_list()
                .is_some_and(|items| items.iter().all(|item| item.sensitive))
        );
    }

    #[test]
    fn element_wraps() {
        let items = texts(&["a", "b", "c"]);
        assert_eq!(call("element", vec![items.clone(), number(1.0)]).as_str(), Some("b"));
        assert_eq!(call("element", vec![items.clone(), number(5.0)]).as_str(), Some("c"));
        assert!(
            fail("element", vec![items, number(-1.0)])
                .message
                .contains("negative index")
        );
        assert!(
            fail("element", vec![texts(&[]), number(0.0)])
                .message
                .contains("empty list")
        );
    }

    #[test]
    fn index_and_contains() {
        let items = list(vec![text("a"), number(1.0), texts(&["x"])]);
        assert_eq!(call("index", vec![items.clone(), number(1.0)]).as_number(), Some(1.0));
        assert_eq!(call("index", vec![items.clone(), texts(&["x"])]).as_number(), Some(2.0));
        assert_eq!(
            fail("index", vec![items.clone(), text("z")]).message,
            "index: item not found"
        );
        assert_eq!(call("contains", vec![items.clone(), text("a")]).as_bool(), Some(true));
        assert_eq!(call("contains", vec![items.clone(), secret("a")]).as_bool(), Some(true));
        assert_eq!(call("contains", vec![items, text("1")]).as_bool(), Some(false));
    }

    #[test]
    fn slice_and_reverse() {
        let items = texts(&["a", "b", "c", "d"]);
        assert_same(
            &call("slice", vec![items.clone(), number(1.0), number(3.0)]),
            &texts(&["b", "c"]),
        );
        assert_same(
            &call("slice", vec![items.clone(), number(2.0), number(2.0)]),
            &texts(&[]),
        );
        assert!(
            fail("slice", vec![items.clone(), number(3.0), number(1.0)])
                .message
                .contains("greater than end")
        );
        assert!(
            fail("slice", vec![items.clone(), number(0.0), number(9.0)])
                .message
                .contains("length of the list")
        );
        assert!(
            fail("slice", vec![items.clone(), number(-1.0), number(1.0)])
                .message
                .contains("negative")
        );
        assert_same(&call("reverse", vec![items]), &texts(&["d", "c", "b", "a"]));
    }

    #[test]
    fn sort_is_lexical() {
        assert_same(&call("sort", vec![texts(&["b", "a", "C"])]), &texts(&["C", "a", "b"]));
        assert_same(
            &call("sort", vec![numbers(&[10.0, 9.0, 1.0])]),
            &texts(&["1", "10", "9"]),
        );
        assert!(
            fail("sort", vec![list(vec![text("a"), Value::null()])])
                .message
                .contains("element 1 is null")
        );
    }

    #[test]
    fn flatten_distinct_compact() {
        let nested = list(vec![texts(&["a"]), list(vec![texts(&["b"]), text("c")]), texts(&[])]);
        assert_same(&call("flatten", vec![nested]), &texts(&["a", "b", "c"]));
        assert_same(&call("distinct", vec![texts(&["a", "b", "a"])]), &texts(&["a", "b"]));
        let sparse = list(vec![text("a"), text(""), Value::null(), text("b")]);
        assert_same(&call("compact", vec![sparse]), &texts(&["a", "b"]));
        assert!(
            fail("compact", vec![list(vec![texts(&[])])])
                .message
                .contains("element 0 must be a string")
        );
    }

    #[test]
    fn coalesce_and_coalescelist() {
        assert_eq!(
            call("coalesce", vec![Value::null(), text(""), text("b")]).as_str(),
            Some("b")
        );
        assert_eq!(call("coalesce", vec![number(1.0), text("b")]).as_number(), Some(1.0));
        assert!(
            fail("coalesce", vec![Value::null(), text("")])
                .message
                .contains("no non-null")
        );
        let first = call("coalescelist", vec![texts(&[]), texts(&["x"]), texts(&["y"])]);
        assert_same(&first, &texts(&["x"]));
        assert!(
            fail("coalescelist", vec![texts(&[])])
                .message
                .contains("non-empty list")
        );
        assert_eq!(fail("coalescelist", vec![text("a")]).argument, Some(0));
    }

    #[test]
    fn range_counts_both_ways() {
        assert_same(&call("range", vec![number(3.0)]), &numbers(&[0.0, 1.0, 2.0]));
        assert_same(
            &call("range", vec![number(1.0), number(4.0)]),
            &numbers(&[1.0, 2.0, 3.0]),
        );
        assert_same(
            &call("range", vec![number(4.0), number(1.0)]),
            &numbers(&[4.0, 3.0, 2.0]),
        );
        assert_same(
            &call("range", vec![number(0.0), number(1.0), number(0.25)]),
            &numbers(&[0.0, 0.25, 0.5, 0.75]),
        );
        assert_same(&call("range", vec![number(-2.0)]), &numbers(&[0.0, -1.0]));
        assert_same(&call("range", vec![number(0.0)]), &numbers(&[]));
        assert!(
            fail("range", vec![number(0.0), number(1.0), number(0.0)])
                .message
                .contains("zero")
        );
        assert!(
            fail("range", vec![number(0.0), number(5.0), number(-1.0)])
                .message
                .contains("negative")
        );
        assert!(
            fail("range", vec![number(1e12)])
                .message
                .contains("more than 1000000 items")
        );
        assert!(fail("range", vec![number(f64::INFINITY)]).message.contains("more than"));
        assert!(fail("range", vec![number(f64::NAN)]).message.contains("more than"));
    }

    #[test]
    fn zipmap_pairs_keys_and_values() {
        let zipped = call("zipmap", vec![texts(&["a", "b"]), numbers(&[1.0, 2.0])]);
        assert_same(&zipped, &map(&[("a", number(1.0)), ("b", number(2.0))]));
        let error = fail("zipmap", vec![texts(&["a"]), numbers(&[1.0, 2.0])]);
        assert_eq!(
            error.message,
            "zipmap: number of keys (1) does not match number of values (2)"
        );
        assert!(call("zipmap", vec![list(vec![Value::unknown()]), numbers(&[1.0])]).is_unknown());
        let known = call("zipmap", vec![texts(&["a"]), list(vec![Value::unknown()])]);
        assert!(known.as_map().is_some());
    }
}

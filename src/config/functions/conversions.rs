//! The type conversion functions: `tostring`, `tonumber`, `tobool`, `tolist`,
//! `tomap` and `toset`, with HCL's conversion rules. Null converts to null.
//! keyform has no set type: `toset` gives a list without duplicates, in the
//! order the elements first appear.

use super::collections::without_duplicates;
use super::{Arity, Call, Function, FunctionError, parse_number};
use crate::config::value::{Kind, Value};

pub(super) static FUNCTIONS: &[Function] = &[
    Function::new("tobool", Arity::exactly(1), tobool),
    Function::new("tolist", Arity::exactly(1), tolist).shallow(),
    Function::new("tomap", Arity::exactly(1), tomap).shallow(),
    Function::new("tonumber", Arity::exactly(1), tonumber),
    Function::new("toset", Arity::exactly(1), toset),
    Function::new("tostring", Arity::exactly(1), tostring),
];

fn cannot_convert(call: &Call<'_>, target: &str) -> FunctionError {
    let value = call.arguments.first();
    let shown = match value.map(|value| &value.kind) {
        Some(Kind::String(_)) => call.shown(0),
        _ => value.map_or("nothing", Value::type_name).to_string(),
    };
    call.error(0, format!("cannot convert {shown} to {target}"))
}

/// `tostring(value)`: a string, number or bool as a string.
fn tostring(call: &Call<'_>) -> Result<Value, FunctionError> {
    let value = call.argument(0)?;
    if value.is_null() {
        return Ok(value.clone());
    }
    let text = value.to_plain_string().ok_or_else(|| cannot_convert(call, "string"))?;
    Ok(call.derive_string(text))
}

/// `tonumber(value)`: a number, or a string that spells one in decimal.
fn tonumber(call: &Call<'_>) -> Result<Value, FunctionError> {
    let value = call.argument(0)?;
    let number = match &value.kind {
        Kind::Null => return Ok(value.clone()),
        Kind::Number(number) => Some(*number),
        Kind::String(text) => parse_number(text),
        _ => None,
    };
    let number = number.ok_or_else(|| cannot_convert(call, "number"))?;
    Ok(call.derive(Kind::Number(number)))
}

/// `tobool(value)`: a bool, or the string `"true"` or `"false"`.
fn tobool(call: &Call<'_>) -> Result<Value, FunctionError> {
    let value = call.argument(0)?;
    let truth = match (&value.kind, value.as_str()) {
        (Kind::Null, _) => return Ok(value.clone()),
        (Kind::Bool(truth), _) => *truth,
        (_, Some("true")) => true,
        (_, Some("false")) => false,
        _ => return Err(cannot_convert(call, "bool")),
    };
    Ok(call.derive(Kind::Bool(truth)))
}

/// `tolist(list)`: the list itself (keyform's lists, tuples and sets are all lists).
fn tolist(call: &Call<'_>) -> Result<Value, FunctionError> {
    let value = call.argument(0)?;
    match value.kind {
        Kind::Null | Kind::List(_) => Ok(value.clone()),
        _ => Err(cannot_convert(call, "list")),
    }
}

/// `tomap(map)`: the map itself (keyform's maps and objects are both maps).
fn tomap(call: &Call<'_>) -> Result<Value, FunctionError> {
    let value = call.argument(0)?;
    match value.kind {
        Kind::Null | Kind::Map(_) => Ok(value.clone()),
        _ => Err(cannot_convert(call, "map")),
    }
}

/// `toset(list)`: the list without duplicates, keeping the first of each.
fn toset(call: &Call<'_>) -> Result<Value, FunctionError> {
    let value = call.argument(0)?;
    match &value.kind {
        Kind::Null => Ok(value.clone()),
        Kind::List(items) => Ok(call.derive(Kind::List(without_duplicates(items)))),
        _ => Err(cannot_convert(call, "set")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::config::value::Value;

    #[test]
    fn tostring_converts_scalars() {
        assert_eq!(call("tostring", vec![number(5.0)]).as_str(), Some("5"));
        assert_eq!(call("tostring", vec![number(0.5)]).as_str(), Some("0.5"));
        assert_eq!(call("tostring", vec![boolean(true)]).as_str(), Some("true"));
        assert_eq!(call("tostring", vec![text("x")]).as_str(), Some("x"));
        assert!(call("tostring", vec![Value::null()]).is_null());
        assert_eq!(
            fail("tostring", vec![texts(&[])]).message,
            "tostring: cannot convert list to string"
        );
    }

    #[test]
    fn tonumber_parses_decimal_strings() {
        assert_eq!(call("tonumber", vec![text("1.5")]).as_number(), Some(1.5));
        assert_eq!(call("tonumber", vec![number(3.0)]).as_number(), Some(3.0));
        assert!(call("tonumber", vec![Value::null()]).is_null());
        assert_eq!(
            fail("tonumber", vec![text("no")]).message,
            "tonumber: cannot convert \"no\" to number"
        );
        assert_eq!(
            fail("tonumber", vec![boolean(true)]).message,
            "tonumber: cannot convert bool to number"
        );
        assert_eq!(
            fail("tonumber", vec![secret("hunter2")]).message,
            "tonumber: cannot convert (sensitive) to number"
        );
    }

    #[test]
    fn tobool_accepts_true_and_false() {
        assert_eq!(call("tobool", vec![text("true")]).as_bool(), Some(true));
        assert_eq!(call("tobool", vec![boolean(false)]).as_bool(), Some(false));
        assert!(call("tobool", vec![Value::null()]).is_null());
        assert_eq!(
            fail("tobool", vec![text("yes")]).message,
            "tobool: cannot convert \"yes\" to bool"
        );
        assert_eq!(
            fail("tobool", vec![number(1.0)]).message,
            "tobool: cannot convert number to bool"
        );
    }

    #[test]
    fn tolist_and_tomap_check_the_shape() {
        assert_same(&call("tolist", vec![texts(&["a"])]), &texts(&["a"]));
        assert!(
            fail("tolist", vec![map(&[])])
                .message
                .contains("cannot convert object to list")
        );
        let entries = map(&[("a", number(1.0))]);
        assert_same(&call("tomap", vec![entries.clone()]), &entries);
        assert!(
            fail("tomap", vec![texts(&[])])
                .message
                .contains("cannot convert list to map")
        );
    }

    #[test]
    fn toset_removes_duplicates_in_first_order() {
        let set = call("toset", vec![texts(&["b", "a", "b", "c", "a"])]);
        assert_same(&set, &texts(&["b", "a", "c"]));
        let mixed = call("toset", vec![list(vec![number(1.0), text("1"), number(1.0)])]);
        assert_same(&mixed, &list(vec![number(1.0), text("1")]));
    }
}

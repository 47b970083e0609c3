//! The numeric functions: `min`, `max`, `abs`, `ceil` and `floor`. Strings
//! that spell a number are accepted, as HCL converts them.

use super::{Arity, Call, Function, FunctionError};
use crate::config::value::{Kind, Value};

pub(super) static FUNCTIONS: &[Function] = &[
    Function::new("abs", Arity::exactly(1), abs),
    Function::new("ceil", Arity::exactly(1), ceil),
    Function::new("floor", Arity::exactly(1), floor),
    Function::new("max", Arity::at_least(1), max),
    Function::new("min", Arity::at_least(1), min),
];

fn numbers(call: &Call<'_>) -> Result<Vec<f64>, FunctionError> {
    (0..call.arguments.len()).map(|index| call.number(index)).collect()
}

/// `min(number, ...)`: the smallest of the numbers.
fn min(call: &Call<'_>) -> Result<Value, FunctionError> {
    let smallest = numbers(call)?.into_iter().fold(f64::INFINITY, f64::min);
    Ok(call.derive(Kind::Number(smallest)))
}

/// `max(number, ...)`: the largest of the numbers.
fn max(call: &Call<'_>) -> Result<Value, FunctionError> {
    let largest = numbers(call)?.into_iter().fold(f64::NEG_INFINITY, f64::max);
    Ok(call.derive(Kind::Number(largest)))
}

fn abs(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive(Kind::Number(call.number(0)?.abs())))
}

fn ceil(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive(Kind::Number(call.number(0)?.ceil())))
}

fn floor(call: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(call.derive(Kind::Number(call.number(0)?.floor())))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::config::value::Value;

    fn number_of(name: &str, arguments: Vec<Value>) -> Option<f64> {
        call(name, arguments).as_number()
    }

    #[test]
    fn min_and_max() {
        assert_eq!(
            number_of("min", vec![number(12.0), number(54.0), number(3.0)]),
            Some(3.0)
        );
        assert_eq!(
            number_of("max", vec![number(12.0), number(54.0), number(3.0)]),
            Some(54.0)
        );
        assert_eq!(number_of("max", vec![text("7"), number(-1.0)]), Some(7.0));
        let error = fail("max", vec![number(1.0), texts(&["2"])]);
        assert_eq!(error.message, "max: argument 2 must be a number, got list");
        assert_eq!(error.argument, Some(1));
        let error = fail("min", vec![text("seven")]);
        assert_eq!(error.message, "min: argument 1 must be a number, got \"seven\"");
    }

    #[test]
    fn abs_ceil_floor() {
        assert_eq!(number_of("abs", vec![number(-12.4)]), Some(12.4));
        assert_eq!(number_of("abs", vec![number(0.0)]), Some(0.0));
        assert_eq!(number_of("ceil", vec![number(5.1)]), Some(6.0));
        assert_eq!(number_of("ceil", vec![number(-5.1)]), Some(-5.0));
        assert_eq!(number_of("floor", vec![number(4.9)]), Some(4.0));
        assert_eq!(number_of("floor", vec![number(-4.1)]), Some(-5.0));
        assert!(
            fail("floor", vec![boolean(true)])
                .message
                .contains("must be a number, got bool")
        );
    }

    #[test]
    fn numbers_keep_marks() {
        let secret_number = number(3.0).into_sensitive();
        let result = call("max", vec![number(1.0), secret_number]);
        assert!(result.sensitive && result.literal);
    }
}

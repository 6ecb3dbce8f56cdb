//! Argument checking, with the same rules and messages as daemon/queries/args.ts: a missing or
//! null argument takes its default, anything else of the wrong shape is a `bad-args` error
//! naming the argument and quoting what was given.

use crate::{OpError, Value};

pub struct Args {
    fields: Vec<(String, Value)>,
}

impl Args {
    /// The arguments of a call: an object, or nothing (`undefined`/`null`).
    pub fn from_value(v: Value) -> Result<Args, OpError> {
        match v {
            Value::Null => Ok(Args { fields: Vec::new() }),
            Value::Object(fields) => Ok(Args { fields }),
            other => Err(OpError::bad_args(format!("arguments must be an object, got {}", other.type_name()))),
        }
    }

    /// A present, non-null argument.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self.fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v) {
            None | Some(Value::Null) => None,
            some => some,
        }
    }

    pub fn bool(&self, key: &str, default: bool) -> Result<bool, OpError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(OpError::bad_args(format!("argument \"{key}\" must be true or false, got {}", v.to_json()))),
        }
    }

    pub fn int(&self, key: &str, default: i64, min: i64, max: i64) -> Result<i64, OpError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Number(n)) if n.fract() == 0.0 && *n >= min as f64 && *n <= max as f64 => Ok(*n as i64),
            Some(v) => Err(OpError::bad_args(format!("argument \"{key}\" must be an integer from {min} to {max}, got {}", v.to_json()))),
        }
    }

    /// A number in `[min, max]` (`exclusive` leaves both ends out).
    pub fn number(&self, key: &str, default: f64, min: f64, max: f64, exclusive: bool) -> Result<f64, OpError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Number(n)) if (!exclusive && *n >= min && *n <= max) || (exclusive && *n > min && *n < max) => Ok(*n),
            Some(v) => {
                let (open, close) = if exclusive { ("(", ")") } else { ("[", "]") };
                Err(OpError::bad_args(format!("argument \"{key}\" must be a number in {open}{min}, {max}{close}, got {}", v.to_json())))
            }
        }
    }

    pub fn string(&self, key: &str) -> Result<Option<&str>, OpError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(OpError::bad_args(format!("argument \"{key}\" must be a string, got {}", v.type_name()))),
        }
    }

    /// A list of entity ids (an update's `added`, `changed`); empty when absent.
    pub fn ids(&self, key: &str) -> Result<Vec<u32>, OpError> {
        let Some(v) = self.get(key) else { return Ok(Vec::new()) };
        let bad = || OpError::bad_args(format!("argument \"{key}\" must be a list of entity ids, got {}", v.to_json()));
        let Value::List(items) = v else { return Err(bad()) };
        items
            .iter()
            .map(|i| match i {
                Value::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= u32::MAX as f64 => Ok(*n as u32),
                _ => Err(bad()),
            })
            .collect()
    }

    /// A list of strings (an update's `files`, `removed`); empty when absent.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, OpError> {
        let Some(v) = self.get(key) else { return Ok(Vec::new()) };
        let bad = || OpError::bad_args(format!("argument \"{key}\" must be a list of strings, got {}", v.type_name()));
        let Value::List(items) = v else { return Err(bad()) };
        items.iter().map(|i| if let Value::String(s) = i { Ok(s.clone()) } else { Err(bad()) }).collect()
    }

    /// A list of names from `allowed`, given as an array or a comma-separated string.
    pub fn names(&self, key: &str, allowed: &[String]) -> Result<Option<Vec<String>>, OpError> {
        let given: Vec<Value> = match self.get(key) {
            None => return Ok(None),
            Some(Value::String(s)) => s.split(',').map(|p| Value::from(p.trim())).collect(),
            Some(Value::List(items)) => items.clone(),
            Some(_) => return Err(OpError::bad_args(format!("argument \"{key}\" must be a list of {}", allowed.join("|")))),
        };
        given
            .into_iter()
            .map(|v| match v {
                Value::String(s) if allowed.contains(&s) => Ok(s),
                other => Err(OpError::bad_args(format!("argument \"{key}\": unknown value {}; expected {}", other.to_json(), allowed.join(", ")))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

impl Args {
    /// [`Args::names`], or `default` when the argument is absent.
    pub fn names_or(&self, key: &str, allowed: &[String], default: &[&str]) -> Result<Vec<String>, OpError> {
        Ok(self.names(key, allowed)?.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(fields: Vec<(&str, Value)>) -> Args {
        Args::from_value(Value::object(fields)).unwrap()
    }

    #[test]
    fn defaults_for_missing_and_null() {
        let a = args(vec![("n", Value::Null)]);
        assert_eq!(a.int("n", 5, 1, 10).unwrap(), 5);
        assert!(a.bool("b", true).unwrap());
    }

    #[test]
    fn errors_name_the_argument_and_quote_the_value() {
        let a = args(vec![("n", Value::Number(2.5)), ("d", Value::Number(1.0)), ("k", Value::from("calls,nope"))]);
        assert_eq!(a.int("n", 5, 1, 10).unwrap_err().message, "argument \"n\" must be an integer from 1 to 10, got 2.5");
        assert_eq!(a.number("d", 0.85, 0.0, 1.0, true).unwrap_err().message, "argument \"d\" must be a number in (0, 1), got 1");
        let allowed = vec!["calls".to_string(), "uses-type".to_string()];
        assert_eq!(a.names("k", &allowed).unwrap_err().message, "argument \"k\": unknown value \"nope\"; expected calls, uses-type");
    }

    #[test]
    fn names_from_a_comma_separated_string() {
        let allowed = vec!["calls".to_string(), "uses-type".to_string()];
        assert_eq!(args(vec![("k", Value::from("calls, uses-type"))]).names("k", &allowed).unwrap(), Some(allowed.clone()));
    }

    #[test]
    fn arguments_must_be_an_object() {
        assert_eq!(Args::from_value(Value::List(vec![])).err().unwrap().message, "arguments must be an object, got an array");
    }
}

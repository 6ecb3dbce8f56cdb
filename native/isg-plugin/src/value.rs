//! Values crossing the boundary: arguments coming in, results going out.

/// A JS value an op receives or returns.
///
/// Two conventions name entities in results (daemon/plugins/native-results.ts applies them):
/// [`Value::Ids`] becomes a `Uint32Array`, which the host turns into a list of entity refs
/// (`{ id, name, kind, file, line, location }`), and an object made by [`Value::entity`] has
/// the entity's ref fields merged into it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
    /// Entity ids of the attached snapshot.
    Ids(Vec<u32>),
    /// Numbers sent as a `Float64Array` (one copy, no per-element JS values).
    Floats(Vec<f64>),
}

/// The key of [`Value::entity`] objects, replaced by the entity's ref on the host side.
pub const ENTITY_KEY: &str = "$entity";

impl Value {
    pub fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An object standing for entity `id`, with `fields` beside its ref fields.
    pub fn entity<K: Into<String>>(id: u32, fields: impl IntoIterator<Item = (K, Value)>) -> Value {
        let mut all = vec![(ENTITY_KEY.to_string(), Value::from(id))];
        all.extend(fields.into_iter().map(|(k, v)| (k.into(), v)));
        Value::Object(all)
    }

    /// A field of an object (the last one if a key repeats, as in JS).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What kind of value this is, as `typeof` would say it to a user.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) | Value::Ids(_) | Value::Floats(_) => "an array",
            Value::Object(_) => "object",
        }
    }

    /// JSON text, for error messages that quote what was given.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => write_number(*n, out),
            Value::String(s) => write_string(s, out),
            Value::List(items) => write_list(items.iter(), out, |v, out| v.write_json(out)),
            Value::Ids(ids) => write_list(ids.iter(), out, |v, out| out.push_str(&v.to_string())),
            Value::Floats(xs) => write_list(xs.iter(), out, |v, out| write_number(*v, out)),
            Value::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_list<T>(items: impl Iterator<Item = T>, out: &mut String, mut each: impl FnMut(T, &mut String)) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(item, out);
    }
    out.push(']');
}

fn write_number(n: f64, out: &mut String) {
    if n.is_finite() {
        out.push_str(&n.to_string());
    } else {
        out.push_str("null");
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Number(n as f64)
    }
}
impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::Number(n as f64)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::List(items)
    }
}
impl From<Vec<String>> for Value {
    fn from(items: Vec<String>) -> Self {
        Value::List(items.into_iter().map(Value::String).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_quotes_what_a_user_gave() {
        let v = Value::object([("a", Value::from("x\"y")), ("b", Value::List(vec![Value::Number(1.5), Value::Null])), ("c", Value::Ids(vec![3, 4]))]);
        assert_eq!(v.to_json(), r#"{"a":"x\"y","b":[1.5,null],"c":[3,4]}"#);
    }

    #[test]
    fn entity_objects_lead_with_the_entity_key() {
        let v = Value::entity(7, [("score", Value::from(0.5))]);
        assert_eq!(v.get(ENTITY_KEY), Some(&Value::Number(7.0)));
        assert_eq!(v.get("score"), Some(&Value::Number(0.5)));
    }
}

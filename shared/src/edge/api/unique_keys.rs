//! JSON text to a [`Value`], refusing an object that names a member twice.
//!
//! `serde_json::Value` keeps the last of two equal names silently, while other parsers keep
//! the first or refuse: a body that two systems read differently (a proxy or an app's own
//! checks, then this API) is a known way to smuggle a value past a check. Names are compared
//! after unescaping, so `"em\u0061il"` repeats `"email"`. serde_json's nesting limit (128)
//! and UTF-8 checks apply as usual.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why JSON text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not JSON: serde_json's message (syntax, invalid UTF-8, nesting deeper than 128).
    Malformed(String),
    /// An object names a member twice: the member's path (`email`, `custom_metadata.plan`,
    /// `users[2].email`).
    DuplicateKey(String),
}

/// Parses `bytes` as one JSON value with unique member names in every object.
pub fn parse(bytes: &[u8]) -> Result<Value, Refused> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let seed = Seed {
        path: Path::Root,
        duplicate: &duplicate,
    };
    let parsed = seed
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|error| match duplicate.into_inner() {
        Some(path) => Refused::DuplicateKey(path),
        None => Refused::Malformed(error.to_string()),
    })
}

/// Where a value sits in the document, built on the stack as the parser descends.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

struct Seed<'a> {
    path: Path<'a>,
    /// Set to the repeated member's path before the parse is abandoned.
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let seed = Seed {
                path: Path::Index(&self.path, items.len()),
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = Path::Key(&self.path, &key);
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(path.to_string());
                return Err(de::Error::custom(format_args!(
                    "the member {key:?} is given more than once"
                )));
            }
            let value = map.next_value_seed(Seed {
                path,
                duplicate: self.duplicate,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse_str(text: &str) -> Result<Value, Refused> {
        parse(text.as_bytes())
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            "null",
            "true",
            "-1",
            "18446744073709551615",
            "1.5e300",
            r#""a\u0000b\ud83d\ude00""#,
            r#"{"b":1,"a":[{},[],{"c":null}]}"#,
            " [1, 2.0, \"x\"] ",
        ] {
            let expected: Value = serde_json::from_str(text).unwrap();
            assert_eq!(parse_str(text).unwrap(), expected, "{text}");
        }
        assert_eq!(
            parse_str(r#"{"b":1,"a":2}"#)
                .unwrap()
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["b", "a"],
            "member order is kept"
        );
    }

    #[test]
    fn a_repeated_member_is_refused_with_its_path() {
        let cases = [
            (r#"{"email":"a@x.com","email":"b@x.com"}"#, "email"),
            (r#"{"email":1,"em\u0061il":2}"#, "email"),
            (
                r#"{"custom_metadata":{"plan":1,"plan":2}}"#,
                "custom_metadata.plan",
            ),
            (
                r#"{"users":[{},{"email":1,"x":2,"email":3}]}"#,
                "users[1].email",
            ),
            (r#"[[{"":1,"":2}]]"#, "[0][0]."),
        ];
        for (text, path) in cases {
            assert_eq!(
                parse_str(text),
                Err(Refused::DuplicateKey(path.to_owned())),
                "{text}"
            );
        }
        assert_eq!(
            parse_str(r#"{"a":{"x":1},"b":{"x":1}}"#).unwrap(),
            json!({"a": {"x": 1}, "b": {"x": 1}}),
            "the same name in two objects is no repeat"
        );
    }

    #[test]
    fn malformed_text_is_refused_as_serde_json_refuses_it() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        for bytes in [
            b"{".as_slice(),
            b"{} {}",
            b"\"\xff\"",
            b"\"a\0b\"",
            b"{\"a\":1}\0",
            deep.as_bytes(),
        ] {
            let expected = serde_json::from_slice::<Value>(bytes).unwrap_err();
            assert_eq!(
                parse(bytes),
                Err(Refused::Malformed(expected.to_string())),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

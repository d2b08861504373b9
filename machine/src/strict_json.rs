//! JSON read as strictly as containers/image reads security-relevant documents (policy.json,
//! signature payloads): one value, no trailing data, and no key twice in an object anywhere
//! (serde_json's `Value` would silently keep the last one). Objects are then checked field by
//! field with [`object`].

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Strict(Value::Array(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Strict(Value::Object(out)))
    }
}

/// `bytes` as one JSON value, refusing duplicate keys at any depth.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice::<Strict>(bytes)
        .map(|s| s.0)
        .map_err(|e| e.to_string())
}

/// `v` as an object (`what` in errors) whose keys are all in `allowed` and include all of
/// `required`.
pub(crate) fn object<'a>(
    v: &'a Value,
    what: &str,
    allowed: &[&str],
    required: &[&str],
) -> Result<&'a Map<String, Value>, String> {
    let map = v
        .as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))?;
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("{what} has an unknown field {k:?}"));
    }
    if let Some(k) = required.iter().find(|k| !map.contains_key(**k)) {
        return Err(format!("{what} has no field {k:?}"));
    }
    Ok(map)
}

/// The string field `key` of `map` (`what` in errors).
pub(crate) fn string<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a str, String> {
    map.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}'s {key:?} is not a string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse(br#"{"a": 1, "b": [{"c": 2}]}"#).is_ok());
        let e = parse(br#"{"a": 1, "a": 2}"#).expect_err("duplicate");
        assert!(e.contains("duplicate key \"a\""), "{e}");
        assert!(parse(br#"{"a": [{"c": 1, "c": 1}]}"#).is_err());
        assert!(parse(br#"{"a": 1} {}"#).is_err(), "trailing data");
        let v = parse(br#"{"type": "x", "extra": 1}"#).expect("json");
        assert!(object(&v, "it", &["type"], &["type"]).is_err());
        assert!(object(&v, "it", &["type", "extra"], &["missing"]).is_err());
        assert!(object(&v, "it", &["type", "extra"], &["type"]).is_ok());
    }
}

//! The stable byte encoding of an audit event that its hash covers.
//!
//! Version 1, every field except `hash`, in this fixed order:
//!
//! | field | encoding |
//! |---|---|
//! | version tag | `bytes("clouddocs-audit/v1")` |
//! | `seq`, `at` | 8 bytes each, big-endian two's complement |
//! | `actor` | `opt(actor)` |
//! | `action` | `bytes(action)` |
//! | `target` | `opt(target)` |
//! | `outcome` | `bytes("success" / "failure" / "denied")` |
//! | `ip`, `request_id` | `opt(…)` each |
//! | `detail` | `bytes(canonical JSON)` |
//! | `prev_hash` | `bytes(prev_hash)` |
//!
//! where `bytes(x)` is the length of `x` as 8 bytes big-endian followed by its UTF-8,
//! and `opt(x)` is one byte `0` for `None` or one byte `1` followed by `bytes(x)`.
//! Every field is self-delimiting, so no two different events share an encoding.
//!
//! Canonical JSON is compact (no whitespace), object keys sorted by their UTF-8 bytes,
//! numbers as `serde_json` prints them, and strings escaping only `"`, `\` and control
//! characters (`\b \f \n \r \t`, others as lowercase `\u00xx`). So reordering the keys of
//! `detail`, or storing it in a JSON column that reorders them, leaves the hash unchanged.
//!
//! Changing anything here breaks every existing chain: add a new version tag instead.

use serde_json::Value;

use crate::event::AuditEvent;

/// The version tag that starts every encoding
pub const VERSION_TAG: &str = "clouddocs-audit/v1";

/// Encodes every field of `event` except `hash`
pub fn encode(event: &AuditEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    put_bytes(&mut out, VERSION_TAG.as_bytes());
    out.extend_from_slice(&event.seq.to_be_bytes());
    out.extend_from_slice(&event.at.to_be_bytes());
    put_opt(&mut out, event.actor.as_deref());
    put_bytes(&mut out, event.action.as_bytes());
    put_opt(&mut out, event.target.as_deref());
    put_bytes(&mut out, event.outcome.as_str().as_bytes());
    put_opt(&mut out, event.ip.as_deref());
    put_opt(&mut out, event.request_id.as_deref());
    put_bytes(&mut out, &canonical_json(&event.detail));
    put_bytes(&mut out, event.prev_hash.as_bytes());
    out
}

/// Serializes `value` compactly with object keys sorted, so equal values give equal bytes
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_json(&mut out, value);
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // usize is at most 64 bits on every supported target, so this never saturates.
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_opt(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
    }
}

fn write_json(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's map is ordered by key unless its `preserve_order` feature is
            // on somewhere in the build: sort explicitly so that never matters.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(out, key);
                out.push(b':');
                write_json(out, item);
            }
            out.push(b'}');
        }
    }
}

fn write_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &byte in s.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0'));
                out.push(HEX.get(usize::from(byte & 0x0f)).copied().unwrap_or(b'0'));
            }
            // Multi-byte UTF-8 sequences never contain bytes below 0x80, so copying
            // byte by byte keeps them intact.
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(value: &Value) -> String {
        String::from_utf8(canonical_json(value)).unwrap()
    }

    #[test]
    fn object_keys_come_out_sorted_at_every_depth() {
        let value = json!({"b": 1, "a": {"z": true, "m": null}, "c": [ {"y": 1, "x": 2} ]});

        assert_eq!(
            text(&value),
            r#"{"a":{"m":null,"z":true},"b":1,"c":[{"x":2,"y":1}]}"#
        );
    }

    #[test]
    fn canonical_json_parses_back_to_the_same_value() {
        let value =
            json!({"s": "quote \" slash \\ nl \n bell \u{7} é 🦀", "n": -1.5, "big": u64::MAX});

        let parsed: Value = serde_json::from_slice(&canonical_json(&value)).unwrap();

        assert_eq!(parsed, value);
    }

    #[test]
    fn control_characters_are_escaped_as_lowercase_unicode_escapes() {
        assert_eq!(text(&json!("\u{1}\u{1f}\t")), r#""\u0001\u001f\t""#);
    }

    #[test]
    fn the_same_text_in_two_fields_encodes_differently() {
        let base = crate::seal(
            crate::NewEvent {
                at: 0,
                actor: Some("ab".to_owned()),
                action: String::new(),
                target: None,
                outcome: crate::Outcome::Success,
                ip: None,
                request_id: None,
                detail: Value::Null,
            },
            1,
            crate::GENESIS_HASH,
        );
        let mut moved = base.clone();
        moved.actor = None;
        moved.target = Some("ab".to_owned());

        assert_ne!(encode(&base), encode(&moved));
    }
}

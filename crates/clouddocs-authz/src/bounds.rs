//! Bounds on what callers hand to Cedar, checked before Cedar sees it.
//!
//! Cedar walks entity hierarchies and values recursively: a few thousand entities, each the
//! parent of the next, overflow the stack and kill the process, and a few thousand take
//! seconds to evaluate. A custom check is therefore bounded in entity count, ancestor depth,
//! attribute size and value nesting, and a policy upload in text size and nesting. Every
//! check here is iterative, so the checks themselves cannot overflow.

use std::collections::HashMap;

use serde_json::Value;

use crate::engine::AuthzError;

/// Most entities one custom check may supply
pub const MAX_ENTITIES: usize = 1_000;
/// Longest chain of ancestors (an entity, its parent, its parent's parent, …)
pub const MAX_ANCESTOR_DEPTH: usize = 32;
/// Most bytes of attributes (all entities) and context together, as JSON
pub const MAX_ATTRIBUTE_BYTES: usize = 64 * 1024;
/// Deepest nesting of records and sets in an attribute or the context
pub const MAX_VALUE_DEPTH: usize = 32;
/// Largest policy set or schema extension text, in bytes
pub const MAX_POLICY_BYTES: usize = 256 * 1024;
/// Deepest nesting of `(`, `[` and `{` in a policy set or schema text
pub const MAX_POLICY_NESTING: usize = 64;

fn exceeded(bound: &'static str, limit: usize) -> AuthzError {
    AuthzError::Bound { bound, limit }
}

/// The nesting depth of a JSON value (a scalar is 0), computed without recursion
pub fn json_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        match value {
            Value::Array(items) => {
                deepest = deepest.max(depth + 1);
                stack.extend(items.iter().map(|v| (v, depth + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(depth + 1);
                stack.extend(map.values().map(|v| (v, depth + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// `type::"id"` of an entity uid in Cedar's JSON form, either `{"type", "id"}` or
/// `{"__entity": {"type", "id"}}`
fn uid_key(value: &Value) -> Option<(String, String)> {
    let value = value.get("__entity").unwrap_or(value);
    Some((
        value.get("type")?.as_str()?.to_owned(),
        value.get("id")?.as_str()?.to_owned(),
    ))
}

/// Checks a custom check's entities and context against the bounds above
///
/// # Errors
/// [`AuthzError::Bound`] naming the first bound exceeded.
pub fn check_request(entities: &Value, context: &Value) -> Result<(), AuthzError> {
    let list: &[Value] = match entities {
        Value::Array(list) => list,
        // Not an array: Cedar refuses it with its own message.
        _ => &[],
    };
    if list.len() > MAX_ENTITIES {
        return Err(exceeded("entity count", MAX_ENTITIES));
    }
    let mut attribute_bytes = context.to_string().len();
    if json_depth(context) > MAX_VALUE_DEPTH + 1 {
        return Err(exceeded("attribute nesting depth", MAX_VALUE_DEPTH));
    }
    let mut parents: HashMap<(String, String), Vec<(String, String)>> = HashMap::new();
    for entity in list {
        for field in ["attrs", "tags"] {
            if let Some(attrs) = entity.get(field) {
                attribute_bytes += attrs.to_string().len();
                if attribute_bytes > MAX_ATTRIBUTE_BYTES {
                    return Err(exceeded("attribute bytes", MAX_ATTRIBUTE_BYTES));
                }
                if json_depth(attrs) > MAX_VALUE_DEPTH + 1 {
                    return Err(exceeded("attribute nesting depth", MAX_VALUE_DEPTH));
                }
            }
        }
        let Some(uid) = entity.get("uid").and_then(uid_key) else {
            continue;
        };
        let ups: Vec<_> = entity
            .get("parents")
            .and_then(Value::as_array)
            .map(|ps| ps.iter().filter_map(uid_key).collect())
            .unwrap_or_default();
        parents.entry(uid).or_default().extend(ups);
    }
    if attribute_bytes > MAX_ATTRIBUTE_BYTES {
        return Err(exceeded("attribute bytes", MAX_ATTRIBUTE_BYTES));
    }
    if ancestor_depth(&parents) > MAX_ANCESTOR_DEPTH {
        return Err(exceeded("ancestor depth", MAX_ANCESTOR_DEPTH));
    }
    Ok(())
}

/// The longest ancestor chain of the hierarchy, iteratively with memoization; a cycle
/// counts as unbounded
fn ancestor_depth<K: Eq + std::hash::Hash + Clone>(parents: &HashMap<K, Vec<K>>) -> usize {
    // depth of an entity: 0 without parents, else 1 + the deepest parent
    let mut depth: HashMap<&K, usize> = HashMap::new();
    let mut deepest = 0;
    for start in parents.keys() {
        if depth.contains_key(start) {
            continue;
        }
        // (node, whether its parents have been pushed)
        let mut stack: Vec<(&K, bool)> = vec![(start, false)];
        let mut on_path: std::collections::HashSet<&K> = std::collections::HashSet::new();
        while let Some((node, expanded)) = stack.pop() {
            if expanded {
                on_path.remove(node);
                let d = parents
                    .get(node)
                    .into_iter()
                    .flatten()
                    .map(|p| depth.get(p).map_or(1, |d| d + 1))
                    .max()
                    .unwrap_or(0);
                depth.insert(node, d);
                deepest = deepest.max(d);
                if deepest > MAX_ANCESTOR_DEPTH {
                    return deepest;
                }
                continue;
            }
            if depth.contains_key(node) {
                continue;
            }
            if !on_path.insert(node) {
                return usize::MAX;
            }
            stack.push((node, true));
            for parent in parents.get(node).into_iter().flatten() {
                if on_path.contains(parent) {
                    return usize::MAX;
                }
                if !depth.contains_key(parent) && parents.contains_key(parent) {
                    stack.push((parent, false));
                }
            }
        }
    }
    deepest
}

/// Checks a policy set or schema text against the size and nesting bounds; string
/// literals and comments are skipped
///
/// # Errors
/// [`AuthzError::Bound`] naming the bound exceeded.
pub fn check_policy_text(src: &str) -> Result<(), AuthzError> {
    if src.len() > MAX_POLICY_BYTES {
        return Err(exceeded("policy text bytes", MAX_POLICY_BYTES));
    }
    let mut depth = 0usize;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_POLICY_NESTING {
                    return Err(exceeded("policy nesting depth", MAX_POLICY_NESTING));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: usize) -> Value {
        Value::Array(
            (0..n)
                .map(|i| {
                    let parents = if i == 0 {
                        json!([])
                    } else {
                        json!([{"type": "App::Node", "id": format!("n{}", i - 1)}])
                    };
                    json!({"uid": {"type": "App::Node", "id": format!("n{i}")}, "attrs": {}, "parents": parents})
                })
                .collect(),
        )
    }

    fn bound_of(result: Result<(), AuthzError>) -> Option<&'static str> {
        match result.err()? {
            AuthzError::Bound { bound, .. } => Some(bound),
            _ => None,
        }
    }

    #[test]
    fn a_chain_longer_than_the_depth_bound_is_refused() {
        assert_eq!(
            check_request(&chain(MAX_ANCESTOR_DEPTH + 1), &Value::Null),
            Ok(())
        );
        assert_eq!(
            bound_of(check_request(&chain(MAX_ANCESTOR_DEPTH + 2), &Value::Null)),
            Some("ancestor depth")
        );
    }

    #[test]
    fn too_many_entities_are_refused_before_anything_else() {
        assert_eq!(
            bound_of(check_request(&chain(MAX_ENTITIES + 1), &Value::Null)),
            Some("entity count")
        );
    }

    #[test]
    fn a_cycle_is_refused_as_too_deep() {
        let cycle = json!([
            {"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [{"type": "A", "id": "b"}]},
            {"uid": {"type": "A", "id": "b"}, "attrs": {}, "parents": [{"type": "A", "id": "a"}]},
        ]);
        assert_eq!(
            bound_of(check_request(&cycle, &Value::Null)),
            Some("ancestor depth")
        );
    }

    #[test]
    fn large_or_deep_attributes_are_refused() {
        let big = json!([{"uid": {"type": "A", "id": "a"}, "attrs": {"s": "x".repeat(MAX_ATTRIBUTE_BYTES)}, "parents": []}]);
        assert_eq!(
            bound_of(check_request(&big, &Value::Null)),
            Some("attribute bytes")
        );
        let mut deep = json!(1);
        for _ in 0..40 {
            deep = json!({ "a": deep });
        }
        assert_eq!(
            bound_of(check_request(&Value::Null, &deep)),
            Some("attribute nesting depth")
        );
    }

    #[test]
    fn policy_text_is_bounded_in_size_and_nesting_outside_strings() {
        assert_eq!(check_policy_text(crate::DEFAULT_POLICIES), Ok(()));
        let deep = format!(
            "permit(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(100),
            ")".repeat(100)
        );
        assert_eq!(
            bound_of(check_policy_text(&deep)),
            Some("policy nesting depth")
        );
        let in_string = format!(
            "// {}\npermit(principal, action, resource) when {{ context.s == \"{}\" }};",
            "(".repeat(100),
            "(".repeat(100)
        );
        assert_eq!(check_policy_text(&in_string), Ok(()));
        assert_eq!(
            bound_of(check_policy_text(&" ".repeat(MAX_POLICY_BYTES + 1))),
            Some("policy text bytes")
        );
    }
}

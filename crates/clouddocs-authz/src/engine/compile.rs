//! Parsing, validating and compiling policy sets and schema extensions into the active set.

use std::str::FromStr;

use cedar_policy::ffi::DetailedError;
use cedar_policy::{ActionConstraint, PolicySet, Schema, ValidationMode, Validator};

use super::AuthzError;
use crate::decision::{Labels, policy_label};
use crate::entities::{DocAction, Vocabulary, one_line};

/// The active policy set (validated against the schema when loaded) and its texts
#[derive(Debug)]
pub(super) struct ActiveSet {
    pub(super) text: String,
    pub(super) schema_extension: String,
    pub(super) policies: PolicySet,
    pub(super) labels: Labels,
    by_action: ByAction,
}

impl ActiveSet {
    pub(super) fn new(
        text: &str,
        schema_extension: &str,
        policies: PolicySet,
        vocabulary: &Vocabulary,
    ) -> Self {
        let by_action = ByAction::new(&policies, vocabulary);
        Self {
            text: text.to_owned(),
            schema_extension: schema_extension.to_owned(),
            labels: Labels::new(&policies),
            policies,
            by_action,
        }
    }

    /// The policies a decision on `action` can be determined by
    pub(super) fn for_action(&self, action: DocAction) -> &PolicySet {
        let sliced = match action {
            DocAction::Read => &self.by_action.read,
            DocAction::Update => &self.by_action.update,
            DocAction::Delete => &self.by_action.delete,
            DocAction::Share => &self.by_action.share,
        };
        sliced.as_ref().unwrap_or(&self.policies)
    }
}

/// The active set cut by action, for our own decisions.
///
/// Cedar evaluates every policy of a set on every request, building each policy's
/// condition anew, so a decision costs in proportion to the size of the set. A policy
/// whose action scope excludes the request's action is false before its body is looked
/// at (the scope is the first conjunct, and scope tests cannot fail), so it can never
/// determine a decision nor be skipped with an error: leaving it out of the set changes
/// neither the decision nor its reasons, only the work. Our entities never include action
/// entities, so `action in [A, B]` holds exactly for `A` and `B`; an `in` naming an
/// action that is not ours (a group, another namespace's) keeps its policy in every
/// slice, to stay on the safe side. `None` when the set holds templates: then every
/// decision uses the whole set.
#[derive(Debug, Default)]
struct ByAction {
    read: Option<PolicySet>,
    update: Option<PolicySet>,
    delete: Option<PolicySet>,
    share: Option<PolicySet>,
}

impl ByAction {
    fn new(policies: &PolicySet, vocabulary: &Vocabulary) -> Self {
        let slice = |action: DocAction| {
            if policies.templates().next().is_some() {
                return None;
            }
            let uid = vocabulary.action(action);
            let mut sliced = PolicySet::new();
            for policy in policies.policies() {
                let applies = match policy.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(only) => only == *uid,
                    ActionConstraint::In(listed) => listed
                        .iter()
                        .any(|listed| listed == uid || !vocabulary.is_known_action(listed)),
                };
                if applies {
                    // Only a template-linked policy can be refused, and there are none
                    sliced.add(policy.clone()).ok()?;
                }
            }
            Some(sliced)
        };
        Self {
            read: slice(DocAction::Read),
            update: slice(DocAction::Update),
            delete: slice(DocAction::Delete),
            share: slice(DocAction::Share),
        }
    }
}

pub(super) fn parse_schema(schema_src: &str) -> Result<Validator, AuthzError> {
    let (schema, _warnings) = Schema::from_cedarschema_str(schema_src).map_err(|err| {
        let (message, line, column) = locate(&DetailedError::from(&err), schema_src);
        AuthzError::Schema {
            message,
            line,
            column,
        }
    })?;
    Ok(Validator::new(schema))
}

/// The base schema with `extension` (other applications' namespaces) appended; line and
/// column of an error in the extension refer to the extension text
pub(super) fn parse_extended_schema(
    base_schema: &str,
    extension: &str,
) -> Result<Validator, AuthzError> {
    if extension.trim().is_empty() {
        return parse_schema(base_schema);
    }
    let base_lines = base_schema.lines().count();
    parse_schema(&format!("{base_schema}\n{extension}")).map_err(|err| match err {
        AuthzError::Schema {
            message,
            line: Some(line),
            column,
        } if line > base_lines => AuthzError::Schema {
            message,
            line: Some(line - base_lines),
            column,
        },
        other => other,
    })
}

/// Parses `src` and validates it against the validator's schema in strict mode
pub(super) fn compile(validator: &Validator, src: &str) -> Result<PolicySet, AuthzError> {
    let invalid = |detail: &DetailedError| {
        let (message, line, column) = locate(detail, src);
        AuthzError::Invalid {
            message,
            line,
            column,
        }
    };
    let policies = PolicySet::from_str(src).map_err(|err| invalid(&DetailedError::from(&err)))?;
    let result = validator.validate(&policies, ValidationMode::Strict);
    // Cedar reports validation errors per policy in no fixed order: report the earliest in the text.
    let first = result
        .validation_errors()
        .map(|err| {
            let mut detail = DetailedError::from(err);
            // Name the policy as people wrote it: its `@id`, not Cedar's `policy3`
            let id = err.policy_id();
            detail.message = detail.message.replace(
                &format!("`{id}`"),
                &format!("`{}`", policy_label(&policies, id)),
            );
            detail
        })
        .min_by_key(|detail| first_offset(detail).unwrap_or(usize::MAX));
    match first {
        Some(detail) => Err(invalid(&detail)),
        None => Ok(policies),
    }
}

/// The earliest labelled byte offset of an error or, failing that, of its related errors
fn first_offset(detail: &DetailedError) -> Option<usize> {
    detail
        .source_locations
        .iter()
        .map(|label| label.loc.start)
        .min()
        .or_else(|| detail.related.iter().filter_map(first_offset).min())
}

/// One-line message plus the 1-based line and column of the error's first label in `src`
fn locate(detail: &DetailedError, src: &str) -> (String, Option<usize>, Option<usize>) {
    let mut message = one_line(&detail.message);
    if let Some(help) = &detail.help {
        message.push_str("; help: ");
        message.push_str(&one_line(help));
    }
    match first_offset(detail) {
        Some(offset) => {
            let (line, column) = line_column(src, offset);
            (message, Some(line), Some(column))
        }
        None => (message, None, None),
    }
}

/// 1-based line and column (counted in characters) of byte `offset` in `src`
fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (index, ch) in src.char_indices() {
        if index >= offset {
            break;
        }
        if ch == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one_and_in_characters() {
        let src = "ab\ncé\nxyz";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 3), (2, 1));
        // `é` is two bytes: the `\n` after it is at byte 6, `x` at byte 7
        assert_eq!(line_column(src, 7), (3, 1));
        assert_eq!(line_column(src, 6), (2, 3));
    }
}

//! The audit event: one security-relevant fact (who did what to which target, with
//! what outcome), sealed into the hash chain.

use serde::{Deserialize, Serialize};

/// How an audited action ended
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The action was carried out
    Success,
    /// The action was attempted and failed (wrong password, invalid token…)
    Failure,
    /// Access control refused the action
    Denied,
}

impl Outcome {
    /// The lowercase name, as serialized and as hashed
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

/// An event not yet placed in the chain: everything but `seq`, `prev_hash` and `hash`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// When it happened, unix milliseconds
    pub at: i64,
    /// Who did it (user id, client id); `None` for anonymous callers
    pub actor: Option<String>,
    /// What was done, e.g. `login`, `document.share`
    pub action: String,
    /// What it was done to, e.g. a document id
    pub target: Option<String>,
    /// How it ended
    pub outcome: Outcome,
    /// The caller's IP address
    pub ip: Option<String>,
    /// The request id, to join the event with logs
    pub request_id: Option<String>,
    /// Small structured extras, e.g. `{"policies": [...]}`.
    ///
    /// INVARIANT: never holds a secret (password, token, key, TOTP secret): the audit
    /// log is readable by org admins and kept forever.
    pub detail: serde_json::Value,
}

/// An event sealed into the chain at position `seq`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the chain, increasing by one from event to event
    pub seq: i64,
    /// When it happened, unix milliseconds
    pub at: i64,
    /// Who did it (user id, client id); `None` for anonymous callers
    pub actor: Option<String>,
    /// What was done, e.g. `login`, `document.share`
    pub action: String,
    /// What it was done to, e.g. a document id
    pub target: Option<String>,
    /// How it ended
    pub outcome: Outcome,
    /// The caller's IP address
    pub ip: Option<String>,
    /// The request id, to join the event with logs
    pub request_id: Option<String>,
    /// Small structured extras; never a secret (see [`NewEvent::detail`])
    pub detail: serde_json::Value,
    /// Hex hash of the previous event, or [`crate::GENESIS_HASH`] for the first one
    pub prev_hash: String,
    /// Hex SHA-256 over `prev_hash` and the canonical encoding of this event
    pub hash: String,
}

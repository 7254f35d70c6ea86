//! Errors of the use cases, in the terms a client can act on.

use clouddocs_domain::{DisplayNameError, EmailError, PasswordError, ScopeError};
use clouddocs_store::StoreError;

/// Input that is well-formed but not acceptable (422)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// Bad email
    #[error("{0}")]
    Email(#[from] EmailError),
    /// Bad or weak password
    #[error("{0}")]
    Password(#[from] PasswordError),
    /// Bad display name
    #[error("{0}")]
    DisplayName(#[from] DisplayNameError),
    /// Unknown scope
    #[error("{0}")]
    Scope(#[from] ScopeError),
    /// Anything else, with the field it concerns
    #[error("`{field}`: {reason}")]
    Field {
        /// The offending field
        field: &'static str,
        /// Why it was refused
        reason: String,
    },
}

impl ValidationError {
    /// The request field the refusal concerns
    pub fn field(&self) -> &'static str {
        match self {
            ValidationError::Email(_) => "email",
            ValidationError::Password(_) => "password",
            ValidationError::DisplayName(_) => "display_name",
            ValidationError::Scope(_) => "scope",
            ValidationError::Field { field, .. } => field,
        }
    }
}

/// Why a use case did not complete
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input was refused
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The email is taken
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Unknown email or wrong password; deliberately indistinguishable
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many attempts, or the account is locked: retry after this many seconds (429)
    #[error("too many attempts, retry later")]
    TooManyAttempts {
        /// Seconds until an attempt may be accepted, at least 1
        retry_after_secs: u64,
    },
    /// The current password given for a sensitive change is wrong
    #[error("current password is incorrect")]
    WrongCurrentPassword,
    /// The caller is not allowed to do this
    #[error("{0}")]
    Forbidden(&'static str),
    /// A wrong, replayed or expired second factor, or an `mfa_token` that is unknown,
    /// expired, spent or another user's: deliberately indistinguishable (401)
    #[error("invalid or expired second factor")]
    InvalidSecondFactor,
    /// The session proved no second factor while the user has one enrolled: signing in
    /// again, second factor included, fixes it (401, as DESIGN.md's rule and RFC 9470's
    /// step-up answer)
    #[error("sign in again with your second factor")]
    StepUpRequired,
    /// The code given for a change to the caller's own factors is wrong (403)
    #[error("the authentication code is not valid")]
    WrongCode,
    /// The credential lacks the scope this needs (403 `insufficient_scope`)
    #[error("the token lacks the `{0}` scope")]
    InsufficientScope(clouddocs_domain::Scope),
    /// The policy engine denied the action on an object the caller may see
    #[error("the policy does not allow this")]
    Denied(clouddocs_authz::Decision),
    /// The change conflicts with the current state
    #[error("{0}")]
    Conflict(&'static str),
    /// The credential is valid but its account no longer exists: signing in again is the
    /// only fix, so it answers like a bad credential (401), never like a missing object
    #[error("the account of this credential no longer exists")]
    AccountGone,
    /// The object does not exist, or the caller may not know it exists
    #[error("not found")]
    NotFound,
    /// A dependency (the database or Redis) cannot be reached: worth retrying (503)
    #[error("a dependency is unavailable")]
    Unavailable(#[source] StoreError),
    /// Storage failed otherwise (a bug or corrupt data: 500)
    #[error("storage failure")]
    Store(#[source] StoreError),
    /// The audit writer could not record an event, so the request is not acknowledged
    #[error("the audit log could not be written: {message}")]
    AuditWriter {
        /// What the writer reported
        message: String,
        /// Whether the database was unreachable (503) rather than failing (500)
        outage: bool,
    },
    /// Anything else that is not the caller's fault
    #[error("internal failure")]
    Unexpected(#[from] anyhow::Error),
}

impl ServiceError {
    /// Whether this is an outage of a dependency rather than a bug: answered 503 with
    /// `Retry-After` on every surface
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            ServiceError::Unavailable(_) | ServiceError::AuditWriter { outage: true, .. }
        )
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ServiceError::NotFound,
            other if other.is_outage() => ServiceError::Unavailable(other),
            other => ServiceError::Store(other),
        }
    }
}

impl From<clouddocs_auth::password::HashError> for ServiceError {
    fn from(err: clouddocs_auth::password::HashError) -> Self {
        ServiceError::Unexpected(anyhow::Error::new(err))
    }
}

impl From<clouddocs_auth::token::RandomError> for ServiceError {
    fn from(err: clouddocs_auth::token::RandomError) -> Self {
        ServiceError::Unexpected(anyhow::Error::new(err))
    }
}

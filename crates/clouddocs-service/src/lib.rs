//! CloudDocs use cases. Each public method takes the caller's identity, authorizes first,
//! then changes state inside one transaction (with its audit event, once the audit layer
//! records it), so a change and its record land together or not at all.

mod accounts;
mod admin;
pub mod audit;
mod audit_batch;
pub mod authz;
pub mod bootstrap;
mod cache;
mod documents;
mod error;
pub mod import;
mod listing;
pub mod mfa;
pub mod oauth;
mod orgs;
mod refusals;
mod registration;
mod sessions;
mod sharing;
pub mod throttle;
pub mod tokens;

pub use accounts::{LoginOutcome, NewAccount, User};
pub use documents::{Document, DocumentActions, DocumentPatch, DocumentQuery, Sharee};
pub use error::{ServiceError, ValidationError};
pub use orgs::{Member, Org};
pub use refusals::PlatformAdmin;
pub use sessions::{SessionInfo, SessionKind, SessionView};

use std::time::Duration;

use std::sync::Arc;

use clouddocs_auth::password::PasswordHasher;
use clouddocs_authz::PolicyEngine;
use clouddocs_store::Db;
use clouddocs_store::ephemeral::Denylist;

use crate::tokens::{KeyManager, TokenConfig};

/// Tunables of the use cases
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// A session ends after this long without a request
    pub session_idle: Duration,
    /// A session ends this long after sign-in, whatever its activity
    pub session_absolute: Duration,
    /// An `mfa_token` (a first factor waiting for the second) lives this long
    pub mfa_challenge_ttl: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 60 * 60),
            mfa_challenge_ttl: Duration::from_secs(5 * 60),
        }
    }
}

/// Everything the use cases need: storage, hashing, keys and configuration
#[derive(Debug, Clone)]
pub struct Services {
    db: Db,
    hasher: PasswordHasher,
    config: ServiceConfig,
    keys: Arc<KeyManager>,
    denylist: Arc<dyn Denylist>,
    tokens: TokenConfig,
    policy: Arc<PolicyEngine>,
    verified: Arc<tokens::VerifiedTokens>,
    audit_batch: audit_batch::AuditBatcher,
    users: Arc<cache::LocalCache<User>>,
    clients: Arc<cache::LocalCache<clouddocs_store::sql::clients::ClientRow>>,
    throttle: throttle::Throttle,
    passkeys: mfa::Passkeys,
}

/// What [`Services::new`] wires together
#[derive(Debug)]
pub struct Dependencies {
    /// The open database (migrations run)
    pub db: Db,
    /// Password hashing, off the async executor
    pub hasher: PasswordHasher,
    /// Tunables of the use cases
    pub config: ServiceConfig,
    /// Signing keys
    pub keys: Arc<KeyManager>,
    /// Revoked tokens and families
    pub denylist: Arc<dyn Denylist>,
    /// Token lifetimes, issuer, audience
    pub tokens: TokenConfig,
    /// The loaded policy set
    pub policy: Arc<PolicyEngine>,
    /// Brute-force gates
    pub throttle: throttle::Throttle,
    /// Where WebAuthn ceremonies wait between start and finish
    pub ceremonies: Arc<dyn clouddocs_store::ephemeral::Ceremonies>,
}

impl Services {
    /// Wires the use cases over an open database; starts the audit writer, so it must be
    /// called inside a Tokio runtime
    pub fn new(deps: Dependencies) -> Self {
        let Dependencies {
            db,
            hasher,
            config,
            keys,
            denylist,
            tokens,
            policy,
            throttle,
            ceremonies,
        } = deps;
        // A SQLite database has exactly one server process: its caches see every write.
        let sole_writer = db.backend() == clouddocs_store::Backend::Sqlite;
        let passkeys = mfa::Passkeys::new(&tokens.issuer, ceremonies);
        Self {
            passkeys,
            audit_batch: audit_batch::AuditBatcher::spawn(db.clone()),
            users: Arc::new(cache::LocalCache::new(sole_writer)),
            clients: Arc::new(cache::LocalCache::new(sole_writer)),
            db,
            hasher,
            config,
            keys,
            denylist,
            tokens,
            policy,
            verified: Arc::default(),
            throttle,
        }
    }

    /// The policy engine
    pub fn policy(&self) -> &PolicyEngine {
        &self.policy
    }

    /// The database (readiness checks)
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Checks the shared ephemeral store (Redis when configured) for readiness
    pub async fn ping_ephemeral(&self) -> Result<(), ServiceError> {
        Ok(self.denylist.ping().await?)
    }

    /// Whether Redis holds the shared short-lived state (`--redis-url`)
    pub fn redis_configured(&self) -> bool {
        self.denylist.is_redis()
    }

    /// Passkeys (WebAuthn): whether they are on, for the pages
    pub fn passkeys(&self) -> &mfa::Passkeys {
        &self.passkeys
    }

    /// The brute-force gates
    pub fn throttle(&self) -> &throttle::Throttle {
        &self.throttle
    }

    /// The configuration in effect
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }
}

/// Milliseconds since the Unix epoch
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

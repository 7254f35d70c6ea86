//! Short-lived shared state: the token denylist and WebAuthn ceremony state. In the SQL database by default, in Redis
//! when configured, so that every node behind a load balancer sees the same revocations.
//! Rate-limit counters ([`RateLimiter`]) live in process memory or in Redis.

mod rate_limit;
mod redis;
mod sql;

pub use self::rate_limit::{LockState, RateLimitConfig, RateLimiter, RedisRateLimiter, Verdict};
pub use self::redis::{RedisCeremonies, RedisDenylist};
pub use self::sql::SqlDenylist;

use crate::StoreError;

/// Revoked token identifiers, each kept until the tokens it blocks have expired
#[async_trait::async_trait]
pub trait Denylist: Send + Sync + std::fmt::Debug {
    /// Denylists `key` until `expires_at` (unix milliseconds)
    async fn revoke(&self, key: &str, expires_at: i64) -> Result<(), StoreError>;
    /// Whether any of `keys` is denylisted at `now`
    async fn any_revoked(&self, keys: [&str; 3], now: i64) -> Result<bool, StoreError>;
    /// Drops entries whose tokens have all expired (housekeeping); Redis expires its own
    async fn purge_expired(&self, _now: i64) -> Result<(), StoreError> {
        Ok(())
    }
    /// Whether this denylist lives in Redis (readiness names it)
    fn is_redis(&self) -> bool {
        false
    }
    /// Whether the backing service answers (readiness)
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Single-use state between the two halves of a ceremony (WebAuthn start and finish): kept
/// a few minutes, taken at most once
#[async_trait::async_trait]
pub trait Ceremonies: Send + Sync + std::fmt::Debug {
    /// Stores `state` under `id` until `expires_at` (unix milliseconds)
    async fn put(&self, id: &str, state: &str, expires_at: i64) -> Result<(), StoreError>;
    /// Takes the state under `id` if it is live; a second take gets `None`
    async fn take(&self, id: &str, now: i64) -> Result<Option<String>, StoreError>;
}

/// Ceremony state in the SQL database
#[derive(Debug, Clone)]
pub struct SqlCeremonies {
    db: crate::Db,
}

impl SqlCeremonies {
    /// Over an open database
    pub fn new(db: crate::Db) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl Ceremonies for SqlCeremonies {
    async fn put(&self, id: &str, state: &str, expires_at: i64) -> Result<(), StoreError> {
        let mut conn = self.db.acquire().await?;
        crate::sql::mfa::put_ceremony(&mut conn, id, state, expires_at).await
    }

    async fn take(&self, id: &str, now: i64) -> Result<Option<String>, StoreError> {
        let mut conn = self.db.acquire().await?;
        crate::sql::mfa::take_ceremony(&mut conn, id, now).await
    }
}

//! Short-lived shared state: the token denylist. In the SQL database by default, in Redis
//! when configured, so that every node behind a load balancer sees the same revocations.
//! Rate-limit counters ([`RateLimiter`]) live in process memory or in Redis.

mod rate_limit;
mod redis;
mod sql;

pub use self::rate_limit::{LockState, RateLimitConfig, RateLimiter, RedisRateLimiter, Verdict};
pub use self::redis::RedisDenylist;
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

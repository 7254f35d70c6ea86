//! The rate-limit port: token buckets (GCRA) and per-account lockout streaks, and their
//! Redis adapter, so that limits hold across every node sharing one Redis.
//!
//! Where things live, and why: the dependency rule is `domain ← store ← auth`, and only
//! this crate may name `redis`. The pure math (`clouddocs_auth::rate_limit`) and the
//! single-node `MemoryLimiter` stay in `clouddocs-auth`; this crate cannot see them. So
//! the port ([`RateLimiter`]) and the plain values it speaks ([`RateLimitConfig`],
//! [`Verdict`], [`LockState`]) are declared here, the Redis adapter runs the same rules as
//! Lua (one `EVALSHA` per call, so every decision is atomic across nodes), and the memory
//! adapter wrapping `MemoryLimiter` lives in `clouddocs-http`, the layer that sees both
//! crates and converts between their value types. Moving the pure types down into
//! `clouddocs-domain` would remove that conversion; it was left for a change that owns
//! the auth crate.

use redis::aio::ConnectionManager;

use crate::StoreError;

/// Limits for one kind of attempt; the same fields as `clouddocs_auth::rate_limit::RateLimitConfig`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Attempts allowed at once per key; the bucket refills at `burst / per_seconds`.
    /// `0` denies every attempt
    pub burst: u32,
    /// Seconds for a full bucket to refill. `0` disables the rate limit
    pub per_seconds: u32,
    /// Consecutive failures that lock the account (`0` counts as `1`)
    pub lockout_threshold: u32,
    /// Lock length at the threshold; each further failure doubles it
    pub lockout_base_secs: u64,
    /// The longest lock
    pub lockout_max_secs: u64,
    /// A failure streak is forgotten after this many quiet seconds following its lock
    pub failure_window_secs: u64,
}

/// Whether an attempt may go ahead
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead
    Allow,
    /// Refuse with 429 and `Retry-After: retry_after_secs`
    Deny {
        /// Seconds until an attempt would be allowed, at least 1
        retry_after_secs: u64,
    },
}

/// Whether an account accepts login attempts
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Attempts are accepted
    Open,
    /// Attempts are refused (429 with `Retry-After: retry_after_secs`)
    Locked {
        /// Seconds until the lock ends, at least 1
        retry_after_secs: u64,
    },
}

/// Rate-limit buckets and lockout streaks, in process or shared
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Consumes one token from `key`'s bucket at `now_ms` (atomic: concurrent callers on one
    /// key never get more than `burst` tokens)
    async fn hit(
        &self,
        key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<Verdict, StoreError>;
    /// Gives back one token that [`Self::hit`] took from `key`, for an attempt that
    /// succeeded: the bucket then counts failures only, yet never admits more than `burst`
    /// attempts in flight at once
    async fn refund(&self, key: &str, cfg: &RateLimitConfig, now_ms: i64)
    -> Result<(), StoreError>;
    /// Records a failed attempt on `account_key` and tells whether the account is now locked
    async fn record_failure(
        &self,
        account_key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<LockState, StoreError>;
    /// Records a successful attempt: the failure streak ends
    async fn record_success(&self, account_key: &str) -> Result<(), StoreError>;
    /// Whether `account_key` is locked at `now_ms`
    async fn lock_state(
        &self,
        account_key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<LockState, StoreError>;
}

const PREFIX: &str = "clouddocs:rl:";

/// The lockout rules of `clouddocs_auth::rate_limit::Lockout`, shared by the scripts below.
/// ARGV: now_ms, threshold, base_secs, max_secs, window_secs. Timestamps in milliseconds
/// stay below 2^53, so Lua's doubles hold them exactly.
const LOCKOUT_LUA: &str = r"
local now = tonumber(ARGV[1])
local threshold = math.max(tonumber(ARGV[2]), 1)
local base = tonumber(ARGV[3])
local max_secs = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local function lock_secs(failures)
  if failures < threshold then return nil end
  local doublings = failures - threshold
  if doublings >= 63 then return max_secs end
  return math.min(base * 2 ^ doublings, max_secs)
end
local function expires_at(failures, last)
  return last + (lock_secs(failures) or 0) * 1000 + window * 1000
end
local function state(failures, last)
  local secs = lock_secs(failures)
  if not secs then return 0 end
  local until_ms = last + secs * 1000
  if now < until_ms then return math.max(math.ceil((until_ms - now) / 1000), 1) end
  return 0
end
local stored = redis.call('HMGET', KEYS[1], 'f', 't')
local failures, last = 0, 0
if stored[1] and stored[2] then
  failures, last = tonumber(stored[1]), tonumber(stored[2])
  if now >= expires_at(failures, last) then failures, last = 0, 0 end
end
";

/// Returns the lock's remaining seconds, 0 when open
const LOCK_STATE_LUA: &str = r"
if failures == 0 then return 0 end
return state(failures, last)
";

/// Adds a failure, stores the streak until it stops mattering, returns the lock state
const RECORD_FAILURE_LUA: &str = r"
failures = failures + 1
redis.call('HSET', KEYS[1], 'f', failures, 't', now)
redis.call('PEXPIRE', KEYS[1], math.max(expires_at(failures, now) - now, 1))
return state(failures, now)
";

/// GCRA, as `clouddocs_auth::rate_limit::GcraLimiter::check`; ARGV: now_ms, burst,
/// per_seconds. Returns `{1, 0}` to allow, `{0, retry_after_secs}` to deny
const HIT_LUA: &str = r"
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local per = tonumber(ARGV[3])
if burst == 0 then return {0, math.max(per, 1)} end
local stored = tonumber(redis.call('GET', KEYS[1]) or now)
local interval = math.floor((per * 1000 + burst - 1) / burst)
local tat = math.max(stored, now)
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at <= now then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.max(new_tat - now, 1))
  return {1, 0}
end
return {0, math.max(math.ceil((allow_at - now) / 1000), 1)}
";

/// `clouddocs_auth::rate_limit::GcraLimiter::refund`; ARGV: now_ms, burst, per_seconds
const REFUND_LUA: &str = r"
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local per = tonumber(ARGV[3])
if burst == 0 then return 0 end
local stored = tonumber(redis.call('GET', KEYS[1]))
if not stored then return 0 end
local interval = math.floor((per * 1000 + burst - 1) / burst)
local tat = stored - interval
if tat > now then
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.max(tat - now, 1))
else
  redis.call('DEL', KEYS[1])
end
return 1
";

/// Buckets and streaks in Redis under `clouddocs:rl:`, each key expiring (`PX`/`PEXPIRE`)
/// as soon as it stops mattering
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    hit: redis::Script,
    refund: redis::Script,
    record_failure: redis::Script,
    lock_state: redis::Script,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisRateLimiter")
    }
}

fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Redis(err)
}

fn lock_from_secs(secs: u64) -> LockState {
    if secs == 0 {
        LockState::Open
    } else {
        LockState::Locked {
            retry_after_secs: secs,
        }
    }
}

impl RedisRateLimiter {
    /// Connects (the manager reconnects on its own afterwards)
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = ConnectionManager::new(client).await.map_err(unavailable)?;
        Ok(Self {
            conn,
            hit: redis::Script::new(HIT_LUA),
            refund: redis::Script::new(REFUND_LUA),
            record_failure: redis::Script::new(&format!("{LOCKOUT_LUA}{RECORD_FAILURE_LUA}")),
            lock_state: redis::Script::new(&format!("{LOCKOUT_LUA}{LOCK_STATE_LUA}")),
        })
    }

    async fn lockout(
        &self,
        script: &redis::Script,
        account_key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<LockState, StoreError> {
        let mut conn = self.conn.clone();
        let secs: u64 = script
            .key(format!("{PREFIX}acct:{account_key}"))
            .arg(now_ms)
            .arg(cfg.lockout_threshold)
            .arg(cfg.lockout_base_secs)
            .arg(cfg.lockout_max_secs)
            .arg(cfg.failure_window_secs)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(lock_from_secs(secs))
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(
        &self,
        key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<Verdict, StoreError> {
        let mut conn = self.conn.clone();
        let (allowed, retry_after_secs): (u8, u64) = self
            .hit
            .key(format!("{PREFIX}bucket:{key}"))
            .arg(now_ms)
            .arg(cfg.burst)
            .arg(cfg.per_seconds)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(if allowed == 1 {
            Verdict::Allow
        } else {
            Verdict::Deny {
                retry_after_secs: retry_after_secs.max(1),
            }
        })
    }

    async fn refund(
        &self,
        key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: u8 = self
            .refund
            .key(format!("{PREFIX}bucket:{key}"))
            .arg(now_ms)
            .arg(cfg.burst)
            .arg(cfg.per_seconds)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn record_failure(
        &self,
        account_key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<LockState, StoreError> {
        self.lockout(&self.record_failure, account_key, cfg, now_ms)
            .await
    }

    async fn record_success(&self, account_key: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(format!("{PREFIX}acct:{account_key}"))
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn lock_state(
        &self,
        account_key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<LockState, StoreError> {
        self.lockout(&self.lock_state, account_key, cfg, now_ms)
            .await
    }
}

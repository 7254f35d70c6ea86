//! Brute-force defences: per-key rate limits (GCRA, a token bucket) and per-account
//! exponential lockout.
//!
//! The math is pure functions over tiny stored states, so the same rules can run inside
//! a Redis Lua script when counters move to Redis:
//!
//! - a rate-limit key stores one integer, its theoretical arrival time `tat_millis`
//!   ([`GcraLimiter::check`]); it can be dropped once [`GcraLimiter::expires_at_ms`] has passed;
//! - an account stores a [`FailureStreak`] (consecutive failures, time of the last one)
//!   ([`Lockout`]); it can be dropped once [`Lockout::expires_at_ms`] has passed.
//!
//! [`MemoryLimiter`] keeps those states in process memory for a single node.

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Limits for one kind of attempt (login, token, MFA, registration)
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
    /// A failure streak is forgotten after this many quiet seconds following the end of
    /// its lock, so the table of accounts stays bounded and an old streak does not
    /// punish the owner weeks later
    pub failure_window_secs: u64,
}

impl RateLimitConfig {
    /// Login: 10 attempts per 60 s per key; 5 consecutive failures lock the account for
    /// 30 s, doubling with each further failure up to 15 minutes; a streak is forgotten
    /// after a quiet day
    pub const LOGIN: Self = Self {
        burst: 10,
        per_seconds: 60,
        lockout_threshold: 5,
        lockout_base_secs: 30,
        lockout_max_secs: 15 * 60,
        failure_window_secs: 24 * 60 * 60,
    };
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self::LOGIN
    }
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

impl Verdict {
    /// Whether the attempt may go ahead
    pub fn is_allowed(self) -> bool {
        matches!(self, Self::Allow)
    }
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

impl LockState {
    /// Whether the account is locked
    pub fn is_locked(self) -> bool {
        matches!(self, Self::Locked { .. })
    }
}

/// The Generic Cell Rate Algorithm: a token bucket stored as one timestamp.
///
/// With `T = ceil(per_seconds * 1000 / burst)` ms per token, the state `tat` is when the
/// bucket would be full again. An attempt at `now` is allowed when
/// `max(tat, now) + T - burst * T <= now`, and then `tat` becomes `max(tat, now) + T`;
/// a denied attempt leaves `tat` unchanged. Rounding `T` up makes the limit at most 1 ms
/// per token stricter than asked, never looser.
#[derive(Debug, Clone, Copy, Default)]
pub struct GcraLimiter;

impl GcraLimiter {
    /// Decides one attempt at `now_ms` for a key whose stored state is `state` (`None` when
    /// nothing is stored), returning the verdict and the state to store
    pub fn check(now_ms: i64, state: Option<i64>, cfg: &RateLimitConfig) -> (Verdict, i64) {
        let stored = state.unwrap_or(now_ms);
        if cfg.burst == 0 {
            let retry_after_secs = u64::from(cfg.per_seconds).max(1);
            return (Verdict::Deny { retry_after_secs }, stored);
        }
        let interval = emission_interval_ms(cfg);
        let tat = stored.max(now_ms);
        let new_tat = tat.saturating_add(interval);
        let allow_at = new_tat.saturating_sub(interval.saturating_mul(i64::from(cfg.burst)));
        if allow_at <= now_ms {
            (Verdict::Allow, new_tat)
        } else {
            let retry_after_secs = ceil_secs(allow_at.saturating_sub(now_ms));
            (Verdict::Deny { retry_after_secs }, stored)
        }
    }

    /// Gives back one token taken by [`Self::check`] for an attempt that turned out to
    /// succeed, so that a bucket counts failures only while still bounding how many
    /// attempts are in flight at once. Returns the state to store, `None` when the bucket
    /// is full again (drop the key)
    pub fn refund(now_ms: i64, state: Option<i64>, cfg: &RateLimitConfig) -> Option<i64> {
        let tat = state?.saturating_sub(emission_interval_ms(cfg));
        (tat > now_ms).then_some(tat)
    }

    /// When a stored state stops mattering (the bucket is full again): a store may drop
    /// it from then on, e.g. Redis `PEXPIREAT`
    pub fn expires_at_ms(state: i64) -> i64 {
        state
    }
}

/// Milliseconds per token, rounded up; 0 when `per_seconds` is 0 (no limit)
fn emission_interval_ms(cfg: &RateLimitConfig) -> i64 {
    let period_ms = i64::from(cfg.per_seconds).saturating_mul(1000);
    let burst = i64::from(cfg.burst.max(1));
    // Both are non-negative and burst is at least 1.
    period_ms.saturating_add(burst - 1) / burst
}

/// Whole seconds covering `ms`, at least 1
fn ceil_secs(ms: i64) -> u64 {
    let ms = u64::try_from(ms).unwrap_or(0);
    ms.div_ceil(1000).max(1)
}

/// Consecutive failed attempts on an account, as stored
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureStreak {
    /// Failures since the last success
    pub failures: u32,
    /// When the last failure happened, unix milliseconds
    pub last_failure_ms: i64,
}

/// Exponential lockout: from `lockout_threshold` consecutive failures on, the account is
/// locked for `lockout_base_secs * 2^(failures - threshold)`, capped at
/// `lockout_max_secs`, counted from the last failure
#[derive(Debug, Clone, Copy, Default)]
pub struct Lockout;

impl Lockout {
    /// How long `failures` consecutive failures lock the account; `None` below the threshold
    pub fn lock_secs(failures: u32, cfg: &RateLimitConfig) -> Option<u64> {
        let threshold = cfg.lockout_threshold.max(1);
        let doublings = failures.checked_sub(threshold)?;
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        let secs = cfg.lockout_base_secs.saturating_mul(factor);
        Some(secs.min(cfg.lockout_max_secs))
    }

    /// Whether `streak` locks the account at `now_ms`
    pub fn state(streak: Option<FailureStreak>, cfg: &RateLimitConfig, now_ms: i64) -> LockState {
        let Some(streak) = streak.filter(|s| !Self::is_forgotten(s, cfg, now_ms)) else {
            return LockState::Open;
        };
        let Some(lock_secs) = Self::lock_secs(streak.failures, cfg) else {
            return LockState::Open;
        };
        let until = streak.last_failure_ms.saturating_add(secs_to_ms(lock_secs));
        if now_ms < until {
            LockState::Locked {
                retry_after_secs: ceil_secs(until.saturating_sub(now_ms)),
            }
        } else {
            LockState::Open
        }
    }

    /// The streak after one more failure at `now_ms` (a forgotten streak starts over)
    pub fn record_failure(
        streak: Option<FailureStreak>,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> FailureStreak {
        let failures = streak
            .filter(|s| !Self::is_forgotten(s, cfg, now_ms))
            .map_or(0, |s| s.failures);
        FailureStreak {
            failures: failures.saturating_add(1),
            last_failure_ms: now_ms,
        }
    }

    /// When a stored streak stops mattering: its lock, if any, has ended and then
    /// `failure_window_secs` have passed; a store may drop it from then on
    pub fn expires_at_ms(streak: &FailureStreak, cfg: &RateLimitConfig) -> i64 {
        let lock_secs = Self::lock_secs(streak.failures, cfg).unwrap_or(0);
        streak
            .last_failure_ms
            .saturating_add(secs_to_ms(lock_secs))
            .saturating_add(secs_to_ms(cfg.failure_window_secs))
    }

    fn is_forgotten(streak: &FailureStreak, cfg: &RateLimitConfig, now_ms: i64) -> bool {
        now_ms >= Self::expires_at_ms(streak, cfg)
    }
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000)
}

const SHARDS: usize = 16;
/// A shard sweeps out expired entries once it has seen this many operations, or as many
/// operations as it holds entries if that is more, so the sweep costs O(1) amortized
const MIN_OPS_BETWEEN_SWEEPS: usize = 1024;

#[derive(Debug, Default)]
struct Shard {
    /// Rate-limit key → `tat_millis`
    buckets: HashMap<String, i64>,
    /// Account key → failure streak
    streaks: HashMap<String, FailureStreak>,
    ops_since_sweep: usize,
}

impl Shard {
    /// Drops expired entries when enough operations have passed since the last sweep.
    ///
    /// Entries are swept with the configuration of the operation that triggers the sweep;
    /// callers using several configurations should key them apart (e.g. `login:ip:…`,
    /// `mfa:ip:…`) and accept that a streak may be forgotten by the shortest window.
    fn maybe_sweep(&mut self, cfg: &RateLimitConfig, now_ms: i64) {
        self.ops_since_sweep = self.ops_since_sweep.saturating_add(1);
        let size = self.buckets.len().saturating_add(self.streaks.len());
        if self.ops_since_sweep < size.max(MIN_OPS_BETWEEN_SWEEPS) {
            return;
        }
        self.ops_since_sweep = 0;
        self.buckets
            .retain(|_, tat| GcraLimiter::expires_at_ms(*tat) > now_ms);
        self.streaks
            .retain(|_, streak| Lockout::expires_at_ms(streak, cfg) > now_ms);
    }
}

/// Rate-limit counters and lockout streaks in process memory, for a single node.
///
/// Every operation on a key runs under that key's shard lock, so concurrent attempts on
/// one key never let more than `burst` through. Expired entries are swept out
/// opportunistically as operations arrive.
#[derive(Debug)]
pub struct MemoryLimiter {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryLimiter {
    /// An empty limiter
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
        }
    }

    /// Consumes one token from `key`'s bucket at `now_ms`
    pub fn hit(&self, key: &str, cfg: &RateLimitConfig, now_ms: i64) -> Verdict {
        self.with_shard(key, |shard| {
            shard.maybe_sweep(cfg, now_ms);
            match shard.buckets.entry(key.to_owned()) {
                Entry::Occupied(mut entry) => {
                    let (verdict, tat) = GcraLimiter::check(now_ms, Some(*entry.get()), cfg);
                    entry.insert(tat);
                    verdict
                }
                Entry::Vacant(entry) => {
                    let (verdict, tat) = GcraLimiter::check(now_ms, None, cfg);
                    if verdict.is_allowed() {
                        entry.insert(tat);
                    }
                    verdict
                }
            }
        })
    }

    /// Gives back the token an attempt on `key` took, once it has succeeded
    /// ([`GcraLimiter::refund`])
    pub fn refund(&self, key: &str, cfg: &RateLimitConfig, now_ms: i64) {
        self.with_shard(key, |shard| {
            if let Entry::Occupied(mut entry) = shard.buckets.entry(key.to_owned()) {
                match GcraLimiter::refund(now_ms, Some(*entry.get()), cfg) {
                    Some(tat) => {
                        entry.insert(tat);
                    }
                    None => {
                        entry.remove();
                    }
                }
            }
        });
    }

    /// Records a failed attempt on `account_key` at `now_ms` and tells whether that locks it
    ///
    /// Check [`Self::lock_state`] first and refuse a locked account without verifying the
    /// password: a failure recorded during a lock restarts it, twice as long
    pub fn record_failure(
        &self,
        account_key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> LockState {
        self.with_shard(account_key, |shard| {
            shard.maybe_sweep(cfg, now_ms);
            let previous = shard.streaks.get(account_key).copied();
            let streak = Lockout::record_failure(previous, cfg, now_ms);
            shard.streaks.insert(account_key.to_owned(), streak);
            Lockout::state(Some(streak), cfg, now_ms)
        })
    }

    /// Records a successful attempt on `account_key`: its failure streak ends
    pub fn record_success(&self, account_key: &str) {
        self.with_shard(account_key, |shard| {
            shard.streaks.remove(account_key);
        });
    }

    /// Whether `account_key` is locked at `now_ms`
    pub fn lock_state(&self, account_key: &str, cfg: &RateLimitConfig, now_ms: i64) -> LockState {
        self.with_shard(account_key, |shard| {
            Lockout::state(shard.streaks.get(account_key).copied(), cfg, now_ms)
        })
    }

    fn with_shard<R>(&self, key: &str, f: impl FnOnce(&mut Shard) -> R) -> R {
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        match self.shards.get(index).or_else(|| self.shards.first()) {
            Some(shard) => f(&mut lock(shard)),
            // INVARIANT: `new` creates SHARDS (> 0) shards, so this arm never runs; a
            // throwaway shard keeps the function total without a panic.
            None => f(&mut Shard::default()),
        }
    }
}

/// A panic while holding the lock cannot leave a shard half-updated (each operation is a
/// single map write), so a poisoned lock is still safe to use
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
#[path = "rate_limit_tests.rs"]
mod tests;

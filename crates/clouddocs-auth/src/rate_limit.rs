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
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    const NOW: i64 = 1_700_000_000_000;
    const CFG: RateLimitConfig = RateLimitConfig::LOGIN;

    #[test]
    fn the_login_defaults_are_ten_per_minute_and_a_lock_after_five_failures() {
        let cfg = RateLimitConfig::default();

        assert_eq!((cfg.burst, cfg.per_seconds), (10, 60));
        assert_eq!(cfg.lockout_threshold, 5);
        assert_eq!((cfg.lockout_base_secs, cfg.lockout_max_secs), (30, 900));
    }

    #[test]
    fn exactly_the_burst_is_allowed_then_attempts_are_denied_with_a_positive_retry_after() {
        let limiter = MemoryLimiter::new();

        let verdicts: Vec<Verdict> = (0..11).map(|_| limiter.hit("ip:1", &CFG, NOW)).collect();

        assert!(verdicts[..10].iter().all(|v| v.is_allowed()));
        assert_eq!(
            verdicts[10],
            Verdict::Deny {
                retry_after_secs: 6
            }
        );
    }

    #[test]
    fn tokens_refill_as_time_passes() {
        let limiter = MemoryLimiter::new();
        for _ in 0..10 {
            limiter.hit("ip:1", &CFG, NOW);
        }

        let too_early = limiter.hit("ip:1", &CFG, NOW + 5_999);
        let one_refilled = limiter.hit("ip:1", &CFG, NOW + 6_000);
        let then_empty = limiter.hit("ip:1", &CFG, NOW + 6_000);
        let full_again: Vec<Verdict> = (0..10)
            .map(|_| limiter.hit("ip:1", &CFG, NOW + 6_000 + 60_000))
            .collect();

        assert_eq!(
            too_early,
            Verdict::Deny {
                retry_after_secs: 1
            }
        );
        assert_eq!(one_refilled, Verdict::Allow);
        assert!(!then_empty.is_allowed());
        assert!(full_again.iter().all(|v| v.is_allowed()));
    }

    #[test]
    fn a_refunded_token_is_available_again_and_a_full_bucket_stays_full() {
        let limiter = MemoryLimiter::new();
        for _ in 0..10 {
            assert!(limiter.hit("acct:a", &CFG, NOW).is_allowed());
        }
        assert!(!limiter.hit("acct:a", &CFG, NOW).is_allowed());

        limiter.refund("acct:a", &CFG, NOW);
        let after_refund = limiter.hit("acct:a", &CFG, NOW);
        let then_empty = limiter.hit("acct:a", &CFG, NOW);
        for _ in 0..20 {
            limiter.refund("acct:b", &CFG, NOW);
        }
        let unused: Vec<Verdict> = (0..11).map(|_| limiter.hit("acct:b", &CFG, NOW)).collect();

        assert_eq!(after_refund, Verdict::Allow);
        assert!(!then_empty.is_allowed());
        assert!(unused[..10].iter().all(|v| v.is_allowed()));
        assert!(
            !unused[10].is_allowed(),
            "refunds never raise a bucket above its burst"
        );
    }

    #[test]
    fn keys_are_limited_independently() {
        let limiter = MemoryLimiter::new();
        for _ in 0..10 {
            limiter.hit("ip:1", &CFG, NOW);
        }

        assert_eq!(limiter.hit("ip:2", &CFG, NOW), Verdict::Allow);
    }

    #[test]
    fn a_hundred_threads_hammering_one_key_get_exactly_the_burst() {
        let limiter = Arc::new(MemoryLimiter::new());
        let barrier = Arc::new(Barrier::new(100));

        let handles: Vec<_> = (0..100)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    limiter.hit("account:alice", &CFG, NOW)
                })
            })
            .collect();
        let allowed = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|v| v.is_allowed())
            .count();

        assert_eq!(allowed, 10);
    }

    #[test]
    fn a_denied_attempt_does_not_push_the_refill_further_away() {
        let (_, mut tat) = GcraLimiter::check(NOW, None, &CFG);
        for _ in 0..9 {
            tat = GcraLimiter::check(NOW, Some(tat), &CFG).1;
        }

        let (verdict, after_deny) = GcraLimiter::check(NOW, Some(tat), &CFG);

        assert!(!verdict.is_allowed());
        assert_eq!(after_deny, tat);
    }

    #[test]
    fn a_zero_burst_denies_everything_and_a_zero_period_allows_everything() {
        let closed = RateLimitConfig { burst: 0, ..CFG };
        let open = RateLimitConfig {
            per_seconds: 0,
            ..CFG
        };

        assert_eq!(
            GcraLimiter::check(NOW, None, &closed).0,
            Verdict::Deny {
                retry_after_secs: 60
            }
        );
        let mut state = None;
        for _ in 0..1000 {
            let (verdict, tat) = GcraLimiter::check(NOW, state, &open);
            assert!(verdict.is_allowed());
            state = Some(tat);
        }
    }

    #[test]
    fn the_account_stays_open_below_the_threshold() {
        let limiter = MemoryLimiter::new();

        let states: Vec<LockState> = (0..4)
            .map(|_| limiter.record_failure("alice", &CFG, NOW))
            .collect();

        assert!(states.iter().all(|s| *s == LockState::Open));
        assert_eq!(limiter.lock_state("alice", &CFG, NOW), LockState::Open);
    }

    #[test]
    fn the_lockout_starts_at_the_base_then_doubles_with_each_failure_and_caps() {
        let lengths: Vec<Option<u64>> = (4..=12).map(|n| Lockout::lock_secs(n, &CFG)).collect();

        assert_eq!(
            lengths,
            [
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(900),
                Some(900),
                Some(900)
            ]
        );
        assert_eq!(Lockout::lock_secs(u32::MAX, &CFG), Some(900));
    }

    #[test]
    fn each_failure_after_a_lock_ends_locks_the_account_twice_as_long() {
        let limiter = MemoryLimiter::new();
        for _ in 0..4 {
            limiter.record_failure("alice", &CFG, NOW);
        }

        let fifth = limiter.record_failure("alice", &CFG, NOW);
        let during = limiter.lock_state("alice", &CFG, NOW + 29_001);
        let after = limiter.lock_state("alice", &CFG, NOW + 30_000);
        let sixth = limiter.record_failure("alice", &CFG, NOW + 30_000);

        assert_eq!(
            fifth,
            LockState::Locked {
                retry_after_secs: 30
            }
        );
        assert_eq!(
            during,
            LockState::Locked {
                retry_after_secs: 1
            }
        );
        assert_eq!(after, LockState::Open);
        assert_eq!(
            sixth,
            LockState::Locked {
                retry_after_secs: 60
            }
        );
    }

    #[test]
    fn a_success_resets_the_failures() {
        let limiter = MemoryLimiter::new();
        for _ in 0..5 {
            limiter.record_failure("alice", &CFG, NOW);
        }

        limiter.record_success("alice");

        assert_eq!(limiter.lock_state("alice", &CFG, NOW), LockState::Open);
        assert_eq!(limiter.record_failure("alice", &CFG, NOW), LockState::Open);
    }

    #[test]
    fn a_streak_is_forgotten_after_a_quiet_window() {
        let limiter = MemoryLimiter::new();
        for _ in 0..5 {
            limiter.record_failure("alice", &CFG, NOW);
        }
        let quiet = NOW + 30_000 + 24 * 3600 * 1000;

        assert_eq!(
            limiter.record_failure("alice", &CFG, quiet),
            LockState::Open
        );
    }

    #[test]
    fn expired_entries_are_swept_out() {
        let limiter = MemoryLimiter::new();
        for i in 0..5000 {
            limiter.hit(&format!("ip:{i}"), &CFG, NOW);
            limiter.record_failure(&format!("user:{i}"), &CFG, NOW);
        }
        let later = NOW + 2 * 24 * 3600 * 1000;

        for i in 0..50_000 {
            limiter.hit(&format!("other:{}", i % 1000), &CFG, later);
        }

        let remaining: usize = limiter
            .shards
            .iter()
            .map(|s| {
                let shard = lock(s);
                shard.buckets.len() + shard.streaks.len()
            })
            .sum();
        assert!(remaining <= 1000, "{remaining} entries left");
    }
}

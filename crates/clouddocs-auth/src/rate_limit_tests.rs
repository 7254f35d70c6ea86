//! Tests of `rate_limit`.

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

//! Brute-force defences of the credential paths: a token bucket per client address on
//! sign-in, the token endpoint and registration; per account (every password sign-in path
//! shares it) a token bucket plus an exponential lockout after repeated failures; and a
//! bucket per client for successful `client_credentials` grants.
//!
//! What counts: the account bucket, the lockout and the per-address buckets of sign-in and
//! `/oauth/token` count **failures**. Each attempt takes its token atomically *before* the
//! password or grant is checked, so a hundred parallel guesses still get no more than
//! `burst` checks; an attempt that succeeds gives its token back. A backend fetching
//! `client_credentials` tokens, or many users behind one NAT refreshing theirs, therefore
//! never runs out, while guessing does. Successful `client_credentials` grants have their
//! own bucket per client, sized for machines. Registration counts every attempt.
//!
//! A refused attempt is [`ServiceError::TooManyAttempts`] (429 with `Retry-After`) before
//! any password is verified, so during a lockout the right password is refused too and
//! nothing leaks. Unreachable counters are a storage outage (503): attempts are refused,
//! never let through unchecked.
//!
//! Counters live in process memory ([`MemoryRateLimiter`], one node) or in Redis
//! (`--redis-url`, [`clouddocs_store::ephemeral::RedisRateLimiter`]) so one limit holds
//! across every node.

use std::net::IpAddr;
use std::sync::Arc;

use clouddocs_auth::rate_limit as auth;
use clouddocs_domain::Email;
use clouddocs_store::StoreError;
use clouddocs_store::ephemeral::{
    LockState, RateLimitConfig, RateLimiter, RedisRateLimiter, Verdict,
};

use crate::{ServiceError, now_ms};

/// A token bucket: `burst` attempts at once, refilled over `per_seconds`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Attempts allowed at once (`0` refuses every attempt)
    pub burst: u32,
    /// Seconds for a full refill (`0` disables the limit)
    pub per_seconds: u32,
}

/// Limits of the credential paths
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Failed sign-ins (`/auth/login`, the `/login` page) per client address
    pub login_per_ip: Limit,
    /// Failed `/oauth/token` requests (client authentication or grant) per client address
    pub token_per_ip: Limit,
    /// `/auth/register` per client address (every attempt)
    pub register_per_ip: Limit,
    /// Failed password sign-ins per account (normalized email), on every path
    pub per_account: Limit,
    /// Successful `client_credentials` grants per client
    pub client_credentials_per_client: Limit,
    /// Consecutive failures that lock an account
    pub lockout_threshold: u32,
    /// Lock length at the threshold, doubling with each further failure
    pub lockout_base_secs: u64,
    /// The longest lock
    pub lockout_max_secs: u64,
    /// A failure streak is forgotten after this many quiet seconds following its lock
    pub failure_window_secs: u64,
    /// Prepended to every counter key: nodes sharing one Redis must use the same prefix,
    /// unrelated deployments (or parallel tests) different ones
    pub key_prefix: String,
}

impl Default for RateLimitSettings {
    /// Sign-in and token failures: 20 per minute per address, 10 per minute per account; 5
    /// consecutive failures lock an account for 30 s, doubling up to 15 minutes.
    /// Registration: 10 per hour per address. `client_credentials`: 50 per second per
    /// client, bursts of 100
    fn default() -> Self {
        Self {
            login_per_ip: Limit {
                burst: 20,
                per_seconds: 60,
            },
            token_per_ip: Limit {
                burst: 20,
                per_seconds: 60,
            },
            register_per_ip: Limit {
                burst: 10,
                per_seconds: 3600,
            },
            // No more parallel attempts at one account than the lockout allows failures:
            // guesses in flight at once cannot outrun the lock.
            per_account: Limit {
                burst: 5,
                per_seconds: 60,
            },
            client_credentials_per_client: Limit {
                burst: 100,
                per_seconds: 2,
            },
            lockout_threshold: 5,
            lockout_base_secs: 30,
            lockout_max_secs: 15 * 60,
            failure_window_secs: 24 * 60 * 60,
            key_prefix: String::new(),
        }
    }
}

/// The guarded paths, each with its own per-address bucket
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Password sign-in: `POST /auth/login` and the `/login` page
    Login,
    /// `POST /oauth/token`
    Token,
    /// `POST /auth/register`
    Register,
}

impl Gate {
    fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Token => "token",
            Self::Register => "register",
        }
    }
}

/// A token taken for an attempt whose outcome is not known yet: hand it to
/// [`Throttle::succeeded`] if the attempt succeeds; dropping it keeps the attempt counted
#[must_use = "a successful attempt gives its token back with `Throttle::succeeded`"]
#[derive(Debug)]
pub struct Attempt {
    /// The bucket key and its limits; `None` when no bucket applied (no client address)
    bucket: Option<(String, RateLimitConfig)>,
}

/// The per-address, per-account and per-client gates
#[derive(Debug, Clone)]
pub struct Throttle {
    limiter: Arc<dyn RateLimiter>,
    settings: Arc<RateLimitSettings>,
}

impl Throttle {
    /// Gates over `limiter` with `settings`
    pub(crate) fn new(limiter: Arc<dyn RateLimiter>, settings: RateLimitSettings) -> Self {
        Self {
            limiter,
            settings: Arc::new(settings),
        }
    }

    /// Gates with in-process counters (a single node)
    pub(crate) fn in_memory(settings: RateLimitSettings) -> Self {
        Self::new(Arc::new(MemoryRateLimiter::default()), settings)
    }

    /// Gates with counters in Redis, shared by every node using it
    pub(crate) async fn redis(url: &str, settings: RateLimitSettings) -> Result<Self, StoreError> {
        Ok(Self::new(
            Arc::new(RedisRateLimiter::connect(url).await?),
            settings,
        ))
    }

    fn config(&self, limit: Limit) -> RateLimitConfig {
        let s = &self.settings;
        RateLimitConfig {
            burst: limit.burst,
            per_seconds: limit.per_seconds,
            lockout_threshold: s.lockout_threshold,
            lockout_base_secs: s.lockout_base_secs,
            lockout_max_secs: s.lockout_max_secs,
            failure_window_secs: s.failure_window_secs,
        }
    }

    /// The account key: the normalized email, or the trimmed lowercase input when it is
    /// not a valid email (such attempts still count, against that text)
    fn account_key(&self, email: &str) -> String {
        let normalized = Email::parse(email).map_or_else(
            |_| email.trim().to_lowercase(),
            |e| e.as_str().to_lowercase(),
        );
        let normalized: String = normalized.chars().take(320).collect();
        format!("{}{normalized}", self.settings.key_prefix)
    }

    async fn take(&self, key: String, cfg: RateLimitConfig) -> Result<Attempt, ServiceError> {
        let verdict = self
            .limiter
            .hit(&key, &cfg, now_ms())
            .await
            .map_err(ServiceError::from)?;
        match verdict {
            Verdict::Allow => Ok(Attempt {
                bucket: Some((key, cfg)),
            }),
            Verdict::Deny { retry_after_secs } => {
                Err(ServiceError::TooManyAttempts { retry_after_secs })
            }
        }
    }

    /// Takes a token from the gate's bucket for `ip` (no address, no per-address limit)
    pub async fn take_ip(&self, gate: Gate, ip: Option<IpAddr>) -> Result<Attempt, ServiceError> {
        let Some(ip) = ip else {
            return Ok(Attempt { bucket: None });
        };
        let limit = match gate {
            Gate::Login => self.settings.login_per_ip,
            Gate::Token => self.settings.token_per_ip,
            Gate::Register => self.settings.register_per_ip,
        };
        let key = format!("{}{}:ip:{ip}", self.settings.key_prefix, gate.name());
        self.take(key, self.config(limit)).await
    }

    /// Refuses a locked account, then takes a token from the account's bucket. Call before
    /// verifying the password
    pub(crate) async fn take_account(&self, email: &str) -> Result<Attempt, ServiceError> {
        let key = self.account_key(email);
        let cfg = self.config(self.settings.per_account);
        let lock = self
            .limiter
            .lock_state(&key, &cfg, now_ms())
            .await
            .map_err(ServiceError::from)?;
        if let LockState::Locked { retry_after_secs } = lock {
            return Err(ServiceError::TooManyAttempts { retry_after_secs });
        }
        self.take(format!("acct:{key}"), cfg).await
    }

    /// Takes a token from a client's `client_credentials` bucket; successes count here
    pub(crate) async fn take_client(&self, client_id: &str) -> Result<(), ServiceError> {
        let key = format!("{}client:{client_id}", self.settings.key_prefix);
        let cfg = self.config(self.settings.client_credentials_per_client);
        // Successes are what this bucket bounds, so the token is never given back.
        let _counted = self.take(key, cfg).await?;
        Ok(())
    }

    /// The attempt succeeded: its token goes back to its bucket
    pub async fn succeeded(&self, attempt: Attempt) {
        let Some((key, cfg)) = attempt.bucket else {
            return;
        };
        if let Err(err) = self.limiter.refund(&key, &cfg, now_ms()).await {
            tracing::error!(error = %err, "cannot give back a rate-limit token");
        }
    }

    /// Records a wrong password (or unknown account); returns the lock's length when this
    /// failure locks the account
    pub(crate) async fn account_failed(&self, email: &str) -> Option<u64> {
        let key = self.account_key(email);
        let cfg = self.config(self.settings.per_account);
        match self.limiter.record_failure(&key, &cfg, now_ms()).await {
            Ok(LockState::Locked { retry_after_secs }) => Some(retry_after_secs),
            Ok(LockState::Open) => None,
            Err(err) => {
                tracing::error!(error = %err, "cannot record a failed attempt");
                None
            }
        }
    }

    /// Records a successful sign-in: the account's failure streak ends
    pub(crate) async fn account_succeeded(&self, email: &str) {
        let key = self.account_key(email);
        if let Err(err) = self.limiter.record_success(&key).await {
            tracing::error!(error = %err, "cannot record a successful attempt");
        }
    }
}

/// The rate-limit port over `clouddocs_auth::rate_limit::MemoryLimiter`: one node only
#[derive(Debug, Default)]
pub(crate) struct MemoryRateLimiter(auth::MemoryLimiter);

fn to_auth(cfg: &RateLimitConfig) -> auth::RateLimitConfig {
    auth::RateLimitConfig {
        burst: cfg.burst,
        per_seconds: cfg.per_seconds,
        lockout_threshold: cfg.lockout_threshold,
        lockout_base_secs: cfg.lockout_base_secs,
        lockout_max_secs: cfg.lockout_max_secs,
        failure_window_secs: cfg.failure_window_secs,
    }
}

fn from_auth_lock(state: auth::LockState) -> LockState {
    match state {
        auth::LockState::Open => LockState::Open,
        auth::LockState::Locked { retry_after_secs } => LockState::Locked { retry_after_secs },
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn hit(
        &self,
        key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<Verdict, StoreError> {
        Ok(match self.0.hit(key, &to_auth(cfg), now_ms) {
            auth::Verdict::Allow => Verdict::Allow,
            auth::Verdict::Deny { retry_after_secs } => Verdict::Deny { retry_after_secs },
        })
    }

    async fn refund(
        &self,
        key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.0.refund(key, &to_auth(cfg), now_ms);
        Ok(())
    }

    async fn record_failure(
        &self,
        account_key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<LockState, StoreError> {
        Ok(from_auth_lock(self.0.record_failure(
            account_key,
            &to_auth(cfg),
            now_ms,
        )))
    }

    async fn record_success(&self, account_key: &str) -> Result<(), StoreError> {
        self.0.record_success(account_key);
        Ok(())
    }

    async fn lock_state(
        &self,
        account_key: &str,
        cfg: &RateLimitConfig,
        now_ms: i64,
    ) -> Result<LockState, StoreError> {
        Ok(from_auth_lock(self.0.lock_state(
            account_key,
            &to_auth(cfg),
            now_ms,
        )))
    }
}

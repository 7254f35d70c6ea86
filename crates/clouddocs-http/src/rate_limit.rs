//! Brute-force defences for the credential endpoints: a token bucket per client address
//! on `/auth/login`, `/oauth/token` and `/auth/register`, and per account (login and the
//! `password` grant share it) a token bucket plus an exponential lockout after repeated
//! failures. A refused attempt is answered 429 with `Retry-After` before any password is
//! verified, so during a lockout the right password is refused too and nothing leaks.
//!
//! Counters live in process memory ([`MemoryRateLimiter`]) or, when `--redis-url` is set,
//! in Redis ([`clouddocs_store::ephemeral::RedisRateLimiter`]) so one limit holds across
//! every node. The memory adapter lives here rather than in the store crate because it
//! wraps `clouddocs_auth::rate_limit::MemoryLimiter` and the store crate may not depend on
//! the auth crate (see `clouddocs_store::ephemeral` for the rest of that reasoning).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clouddocs_auth::rate_limit as auth;
use clouddocs_domain::Email;
use clouddocs_store::StoreError;
use clouddocs_store::ephemeral::{LockState, RateLimitConfig, RateLimiter, Verdict};
use serde_json::json;

use crate::problem::ApiError;
pub use crate::trusted_proxies::{IpNet, IpNetError, TrustedProxies};

/// A token bucket: `burst` attempts at once, refilled over `per_seconds`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Attempts allowed at once (`0` refuses every attempt)
    pub burst: u32,
    /// Seconds for a full refill (`0` disables the limit)
    pub per_seconds: u32,
}

/// Limits of the credential endpoints
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `/auth/login` per client address
    pub login_per_ip: Limit,
    /// `/oauth/token` (every grant) per client address
    pub token_per_ip: Limit,
    /// `/auth/register` per client address
    pub register_per_ip: Limit,
    /// Login and `password` grant attempts per account (normalized email)
    pub per_account: Limit,
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
    /// Login and token: 20 per minute per address, 10 per minute per account; 5
    /// consecutive failures lock an account for 30 s, doubling up to 15 minutes.
    /// Registration: 10 per hour per address
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
            per_account: Limit {
                burst: 10,
                per_seconds: 60,
            },
            lockout_threshold: 5,
            lockout_base_secs: 30,
            lockout_max_secs: 15 * 60,
            failure_window_secs: 24 * 60 * 60,
            key_prefix: String::new(),
        }
    }
}

/// The guarded endpoints, each with its own per-address bucket
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /auth/login`
    Login,
    /// `POST /oauth/token`
    Token,
    /// `POST /auth/register`
    Register,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Token => "token",
            Self::Register => "register",
        }
    }
}

/// Why an attempt is refused before it is looked at
#[derive(Debug, thiserror::Error)]
pub enum BruteForceError {
    /// Too many attempts, or the account is locked (429)
    #[error("too many attempts, retry later")]
    Limited {
        /// Seconds until an attempt may be accepted
        retry_after_secs: u64,
    },
    /// The counters cannot be reached; attempts are refused rather than let through (503)
    #[error("rate-limit counters unavailable")]
    Store(#[source] StoreError),
}

impl From<BruteForceError> for ApiError {
    fn from(err: BruteForceError) -> Self {
        match err {
            BruteForceError::Limited { retry_after_secs } => ApiError::TooManyRequests {
                retry_after: retry_after_secs,
            },
            BruteForceError::Store(cause) => {
                tracing::error!(error = %cause, "rate-limit counters unavailable");
                ApiError::Unavailable
            }
        }
    }
}

impl BruteForceError {
    /// The RFC 6749 form for `/oauth/token`. RFC 6749 has no error code for rate limiting,
    /// so a refusal is HTTP 429 with `Retry-After` and `invalid_request`; unavailable
    /// counters are 503 `temporarily_unavailable`
    pub fn into_oauth_response(self) -> Response {
        let (status, code, description, retry_after) = match self {
            Self::Limited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_request",
                "too many attempts, retry later",
                Some(retry_after_secs),
            ),
            Self::Store(cause) => {
                tracing::error!(error = %cause, "rate-limit counters unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the server could not complete the request",
                    Some(crate::problem::UNAVAILABLE_RETRY_AFTER_SECS),
                )
            }
        };
        let mut response = (
            status,
            Json(json!({"error": code, "error_description": description})),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The per-address and per-account gates, shared by every handler
#[derive(Debug, Clone)]
pub struct BruteForce {
    limiter: Arc<dyn RateLimiter>,
    settings: Arc<RateLimitSettings>,
}

impl BruteForce {
    /// Gates over `limiter` with `settings`
    pub fn new(limiter: Arc<dyn RateLimiter>, settings: RateLimitSettings) -> Self {
        Self {
            limiter,
            settings: Arc::new(settings),
        }
    }

    /// Gates with in-process counters (a single node)
    pub fn in_memory(settings: RateLimitSettings) -> Self {
        Self::new(Arc::new(MemoryRateLimiter::default()), settings)
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

    /// Takes a token from the endpoint's bucket for `ip` (no address, no per-address limit)
    pub async fn check_ip(
        &self,
        endpoint: Endpoint,
        ip: Option<IpAddr>,
    ) -> Result<(), BruteForceError> {
        let Some(ip) = ip else { return Ok(()) };
        let limit = match endpoint {
            Endpoint::Login => self.settings.login_per_ip,
            Endpoint::Token => self.settings.token_per_ip,
            Endpoint::Register => self.settings.register_per_ip,
        };
        let key = format!("{}{}:ip:{ip}", self.settings.key_prefix, endpoint.name());
        let verdict = self
            .limiter
            .hit(&key, &self.config(limit), clouddocs_service::now_ms())
            .await
            .map_err(BruteForceError::Store)?;
        match verdict {
            Verdict::Allow => Ok(()),
            Verdict::Deny { retry_after_secs } => {
                Err(BruteForceError::Limited { retry_after_secs })
            }
        }
    }

    /// Refuses a locked account, then takes a token from the account's bucket. Call before
    /// verifying the password
    pub async fn check_account(&self, email: &str) -> Result<(), BruteForceError> {
        let key = self.account_key(email);
        let cfg = self.config(self.settings.per_account);
        let now = clouddocs_service::now_ms();
        let lock = self
            .limiter
            .lock_state(&key, &cfg, now)
            .await
            .map_err(BruteForceError::Store)?;
        if let LockState::Locked { retry_after_secs } = lock {
            return Err(BruteForceError::Limited { retry_after_secs });
        }
        let verdict = self
            .limiter
            .hit(&format!("acct:{key}"), &cfg, now)
            .await
            .map_err(BruteForceError::Store)?;
        match verdict {
            Verdict::Allow => Ok(()),
            Verdict::Deny { retry_after_secs } => {
                Err(BruteForceError::Limited { retry_after_secs })
            }
        }
    }

    /// Records a wrong password (or unknown account); enough of them lock the account, which
    /// is returned (and audited as `auth.lockout`) so the lock is on record
    pub async fn failed(&self, email: &str, svc: &clouddocs_service::Services) -> Option<u64> {
        let key = self.account_key(email);
        let cfg = self.config(self.settings.per_account);
        match self
            .limiter
            .record_failure(&key, &cfg, clouddocs_service::now_ms())
            .await
        {
            Ok(LockState::Locked { retry_after_secs }) => {
                tracing::warn!(retry_after_secs, "account locked after repeated failures");
                let entry = clouddocs_service::audit::Entry::failure("auth.lockout")
                    .detail(serde_json::json!({"retry_after_secs": retry_after_secs}));
                let entry = match clouddocs_domain::Email::parse(email) {
                    Ok(e) => entry.target(format!("account:{e}")),
                    Err(_) => entry,
                };
                if let Err(err) = svc.audit(entry).await {
                    tracing::error!(error = %err, "cannot record a lockout");
                }
                Some(retry_after_secs)
            }
            Ok(LockState::Open) => None,
            Err(err) => {
                tracing::error!(error = %err, "cannot record a failed attempt");
                None
            }
        }
    }

    /// Records a successful sign-in: the account's failure streak ends
    pub async fn succeeded(&self, email: &str) {
        let key = self.account_key(email);
        if let Err(err) = self.limiter.record_success(&key).await {
            tracing::error!(error = %err, "cannot record a successful attempt");
        }
    }
}

/// The rate-limit port over `clouddocs_auth::rate_limit::MemoryLimiter`: one node only
#[derive(Debug, Default)]
pub struct MemoryRateLimiter(auth::MemoryLimiter);

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

/// The boxed future `#[async_trait]` expects; the memory operations are synchronous, so
/// each method computes its answer first and returns it ready (written by hand because
/// this crate does not depend on `async-trait`)
type Ready<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

fn ready<'a, T: Send + 'a>(value: T) -> Ready<'a, T> {
    Box::pin(std::future::ready(Ok(value)))
}

impl RateLimiter for MemoryRateLimiter {
    fn hit<'s, 'k, 'c, 'f>(
        &'s self,
        key: &'k str,
        cfg: &'c RateLimitConfig,
        now_ms: i64,
    ) -> Ready<'f, Verdict>
    where
        's: 'f,
        'k: 'f,
        'c: 'f,
        Self: 'f,
    {
        ready(match self.0.hit(key, &to_auth(cfg), now_ms) {
            auth::Verdict::Allow => Verdict::Allow,
            auth::Verdict::Deny { retry_after_secs } => Verdict::Deny { retry_after_secs },
        })
    }

    fn record_failure<'s, 'k, 'c, 'f>(
        &'s self,
        account_key: &'k str,
        cfg: &'c RateLimitConfig,
        now_ms: i64,
    ) -> Ready<'f, LockState>
    where
        's: 'f,
        'k: 'f,
        'c: 'f,
        Self: 'f,
    {
        ready(from_auth_lock(self.0.record_failure(
            account_key,
            &to_auth(cfg),
            now_ms,
        )))
    }

    fn record_success<'s, 'k, 'f>(&'s self, account_key: &'k str) -> Ready<'f, ()>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        self.0.record_success(account_key);
        ready(())
    }

    fn lock_state<'s, 'k, 'c, 'f>(
        &'s self,
        account_key: &'k str,
        cfg: &'c RateLimitConfig,
        now_ms: i64,
    ) -> Ready<'f, LockState>
    where
        's: 'f,
        'k: 'f,
        'c: 'f,
        Self: 'f,
    {
        ready(from_auth_lock(self.0.lock_state(
            account_key,
            &to_auth(cfg),
            now_ms,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn networks_match_their_addresses_only() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        let host: IpNet = "::1/128".parse().unwrap();
        let all: IpNet = "0.0.0.0/0".parse().unwrap();

        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        assert!(host.contains(ip("::1")));
        assert!(!host.contains(ip("::2")));
        assert!(!host.contains(ip("127.0.0.1")));
        assert!(all.contains(ip("203.0.113.9")));
        assert_eq!(
            "192.168.1.7".parse::<IpNet>().unwrap().to_string(),
            "192.168.1.7/32"
        );
    }

    #[test]
    fn malformed_networks_are_refused() {
        assert!(matches!(
            "10.0.0.0/33".parse::<IpNet>(),
            Err(IpNetError::PrefixTooLong(_))
        ));
        assert!(matches!(
            "nonsense".parse::<IpNet>(),
            Err(IpNetError::Malformed(_))
        ));
        assert!(matches!(
            "10.0.0.0/x".parse::<IpNet>(),
            Err(IpNetError::Malformed(_))
        ));
        assert_eq!(
            TrustedProxies::parse_list(" 10.0.0.0/8, ::1 ,")
                .unwrap()
                .networks()
                .len(),
            2
        );
    }

    #[test]
    fn an_untrusted_peers_forwarded_for_is_ignored() {
        let proxies = TrustedProxies::parse_list("10.0.0.0/8").unwrap();

        let client = proxies.client_ip(ip("203.0.113.5"), &xff(&["1.2.3.4"]));

        assert_eq!(client, ip("203.0.113.5"));
    }

    #[test]
    fn a_trusted_peer_yields_the_right_most_untrusted_hop() {
        let proxies = TrustedProxies::parse_list("10.0.0.0/8").unwrap();

        let client =
            proxies.client_ip(ip("10.0.0.1"), &xff(&["6.6.6.6, 198.51.100.7", "10.0.0.2"]));
        let garbage =
            proxies.client_ip(ip("10.0.0.1"), &xff(&["198.51.100.7, nonsense, 10.0.0.3"]));
        let none = proxies.client_ip(ip("10.0.0.1"), &HeaderMap::new());

        assert_eq!(client, ip("198.51.100.7"));
        assert_eq!(garbage, ip("10.0.0.3"));
        assert_eq!(none, ip("10.0.0.1"));
    }
}

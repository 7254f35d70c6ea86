//! Shared application state handed to every handler.

use std::sync::Arc;
use std::time::Duration;

use clouddocs_service::Services;
use metrics_exporter_prometheus::PrometheusHandle;

/// HTTP-level settings
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Development mode: plain-HTTP cookie named `clouddocs` instead of `__Host-clouddocs`
    pub dev: bool,
    /// Send `Strict-Transport-Security` (serving TLS, or behind a TLS proxy)
    pub hsts: bool,
    /// Largest accepted request body, in bytes
    pub body_limit: usize,
    /// Largest accepted total size of request headers, in bytes
    pub header_limit: usize,
    /// A handler taking longer is answered 503; a body taking longer to arrive, 408
    pub request_timeout: Duration,
    /// A request body with no data for this long is answered 408
    pub body_idle_timeout: Duration,
    /// A connection whose first request has not arrived this long after it opened (a
    /// silent client included), or whose request headers take longer than this, is closed
    /// (slow clients cannot hold connections open)
    pub header_read_timeout: Duration,
    /// Connections served at once; a connection over the cap is closed on accept
    pub max_connections: usize,
    /// Origins allowed by CORS (none by default)
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed (none by default)
    pub trusted_proxies: crate::rate_limit::TrustedProxies,
    /// Brute-force limits of the credential endpoints
    pub rate_limits: crate::rate_limit::RateLimitSettings,
    /// Serve `GET /__test/panic` (a handler that panics) and `GET /__test/slow` (one that
    /// takes 2 s); set only by the test harness
    pub panic_route: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            dev: false,
            hsts: false,
            body_limit: 1024 * 1024,
            header_limit: 16 * 1024,
            request_timeout: Duration::from_secs(30),
            body_idle_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            cors_origins: Vec::new(),
            trusted_proxies: crate::rate_limit::TrustedProxies::default(),
            rate_limits: crate::rate_limit::RateLimitSettings::default(),
            panic_route: false,
        }
    }
}

impl HttpSettings {
    /// The session cookie's name: the `__Host-` prefix pins it to this host, `Secure`, `Path=/`
    pub fn cookie_name(&self) -> &'static str {
        if self.dev {
            "clouddocs"
        } else {
            "__Host-clouddocs"
        }
    }
}

/// What every handler can reach
#[derive(Clone)]
pub struct AppState {
    /// The use cases
    pub svc: Arc<Services>,
    /// HTTP settings
    pub settings: Arc<HttpSettings>,
    /// Prometheus metrics
    pub metrics: PrometheusHandle,
}

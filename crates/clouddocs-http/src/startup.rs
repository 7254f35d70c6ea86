//! Builds the application state from settings: storage, hashing pool, metrics.

use std::sync::Arc;

use clouddocs_service::bootstrap::{OpenSettings, default_pool_size};
use clouddocs_service::tokens::TokenConfig;
use clouddocs_service::{ServiceConfig, Services};
use secrecy::SecretString;

use crate::{AppState, HttpSettings, middleware};

/// Everything needed to start a server
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `sqlite://…` or `postgres://…`
    pub database_url: String,
    /// Pool size
    pub max_connections: u32,
    /// Argon2 hashes running at once (defaults to the core count)
    pub hash_concurrency: usize,
    /// HTTP settings
    pub http: HttpSettings,
    /// Use-case settings
    pub service: ServiceConfig,
    /// Token settings (issuer, lifetimes, signing algorithm)
    pub tokens: TokenConfig,
    /// Secret the signing keys are sealed with
    pub secret: SecretString,
    /// Redis for the shared denylist and rate limits; the SQL database and process memory
    /// when absent
    pub redis_url: Option<String>,
}

impl ServerSettings {
    /// Defaults around a database URL
    pub fn new(database_url: impl Into<String>) -> Self {
        let database_url = database_url.into();
        let max_connections = default_pool_size(&database_url);
        Self {
            database_url,
            max_connections,
            hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            http: HttpSettings::default(),
            service: ServiceConfig::default(),
            tokens: TokenConfig::new("http://127.0.0.1:8080"),
            secret: SecretString::from(clouddocs_service::bootstrap::DEV_SECRET),
            redis_url: None,
        }
    }
}

/// Connects storage (running migrations) and wires the state
pub async fn build_state(settings: &ServerSettings) -> anyhow::Result<AppState> {
    let svc = Services::open(&OpenSettings {
        database_url: settings.database_url.clone(),
        max_connections: settings.max_connections,
        hash_concurrency: settings.hash_concurrency,
        config: settings.service.clone(),
        tokens: settings.tokens.clone(),
        secret: settings.secret.clone(),
        redis_url: settings.redis_url.clone(),
        rate_limits: settings.http.rate_limits.clone(),
    })
    .await?;
    let svc = Arc::new(svc);
    spawn_housekeeping(Arc::downgrade(&svc));
    let metrics = middleware::metrics::handle();
    spawn_metrics_upkeep(Arc::downgrade(&svc), metrics.clone());
    Ok(AppState {
        svc,
        settings: Arc::new(settings.http.clone()),
        metrics,
    })
}

/// Every minute: reload signing keys (rotations by other nodes or the CLI), purge expired
/// denylist entries and sessions. Stops when the state is dropped.
fn spawn_housekeeping(svc: std::sync::Weak<Services>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(svc) = svc.upgrade() else { break };
            if let Err(err) = svc.housekeeping().await {
                tracing::warn!(error = %err, "housekeeping failed");
            }
        }
    });
}

/// Every 5 s: folds the recorded latencies into the histogram buckets. The Prometheus
/// recorder keeps every sample until then, so without it memory grows with each request
/// while nobody scrapes `/metrics`. Stops when the state is dropped.
fn spawn_metrics_upkeep(
    svc: std::sync::Weak<Services>,
    handle: metrics_exporter_prometheus::PrometheusHandle,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            if svc.strong_count() == 0 {
                break;
            }
            handle.run_upkeep();
        }
    });
}

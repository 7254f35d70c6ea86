//! Builds the application state from settings: storage, hashing pool, metrics.

use std::sync::Arc;

use clouddocs_auth::password::PasswordHasher;
use clouddocs_service::throttle::Throttle;
use clouddocs_service::tokens::{KeyManager, TokenConfig};
use clouddocs_service::{Dependencies, ServiceConfig, Services};
use clouddocs_store::Db;
use clouddocs_store::ephemeral::{Denylist, RedisDenylist, SqlDenylist};
use secrecy::{ExposeSecret, SecretString};

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
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // SQLite has one writer and runs each connection on a thread of its own: more
        // connections than two per core only add threads, page caches and memory.
        let max_connections = if database_url.starts_with("sqlite:") {
            u32::try_from(cores.saturating_mul(2).max(4)).unwrap_or(4)
        } else {
            16
        };
        Self {
            database_url,
            max_connections,
            hash_concurrency: cores,
            http: HttpSettings::default(),
            service: ServiceConfig::default(),
            tokens: TokenConfig::new("http://127.0.0.1:8080"),
            secret: SecretString::from("clouddocs-development-secret-do-not-use-in-production"),
            redis_url: None,
        }
    }
}

/// Connects storage (running migrations) and wires the state
pub async fn build_state(settings: &ServerSettings) -> anyhow::Result<AppState> {
    let db = Db::connect(&settings.database_url, settings.max_connections).await?;
    let hasher = PasswordHasher::new(settings.hash_concurrency)?;
    // Retired keys stay in the JWKS until every token they signed has expired.
    let keep_retired = settings.tokens.access_ttl + std::time::Duration::from_secs(120);
    let keys = KeyManager::load(
        db.clone(),
        settings.secret.expose_secret(),
        settings.tokens.algorithm,
        keep_retired,
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot load signing keys: {e}; if they cannot be decrypted, the server secret is \
             not the one this database was created with (pass that secret, or --dev if it was \
             created with --dev)"
        )
    })?;
    let denylist: Arc<dyn Denylist> = match &settings.redis_url {
        Some(url) => Arc::new(RedisDenylist::connect(url).await?),
        None => Arc::new(SqlDenylist::open(db.clone(), clouddocs_service::now_ms()).await?),
    };
    let limits = settings.http.rate_limits.clone();
    let throttle = match &settings.redis_url {
        Some(url) => Throttle::redis(url, limits).await?,
        None => Throttle::in_memory(limits),
    };
    let policy = Arc::new(load_policy(&db).await?);
    let svc = Services::new(Dependencies {
        db,
        hasher,
        config: settings.service.clone(),
        keys: Arc::new(keys),
        denylist,
        tokens: settings.tokens.clone(),
        policy,
        throttle,
    });
    let filled = svc.backfill_email_skeletons().await?;
    if filled > 0 {
        tracing::info!(filled, "stored the confusable skeletons of existing emails");
    }
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

/// The default policy set, replaced by the newest stored one when an admin has changed it
async fn load_policy(db: &Db) -> anyhow::Result<clouddocs_authz::PolicyEngine> {
    let engine = clouddocs_authz::PolicyEngine::default_set()?;
    let mut conn = db.acquire().await?;
    if let Some(row) = clouddocs_store::sql::policies::latest(&mut conn).await?
        && let Err(err) = engine.replace_with_schema(&row.schema_extension, &row.policies)
    {
        tracing::error!(policy_set = %row.id, error = %err, "stored policy set is invalid; using the default set");
    }
    Ok(engine)
}

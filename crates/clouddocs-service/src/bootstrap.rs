//! Opening the use cases over real storage: the database (migrations run), the signing
//! keys, the denylist and rate-limit counters (SQL and process memory, or Redis), the
//! stored policy set. The HTTP layer calls [`Services::open`] and never names storage.

use std::sync::Arc;

use clouddocs_auth::password::PasswordHasher;
use clouddocs_store::ephemeral::{Ceremonies, Denylist, RedisDenylist, SqlCeremonies, SqlDenylist};
use clouddocs_store::{Backend, Db};
use secrecy::{ExposeSecret, SecretString};

use crate::throttle::{RateLimitSettings, Throttle};
use crate::tokens::{KeyManager, TokenConfig};
use crate::{Dependencies, ServiceConfig, Services, now_ms};

/// Where the use cases keep their state, and their tunables
#[derive(Debug, Clone)]
pub struct OpenSettings {
    /// `sqlite://…` or `postgres://…`
    pub database_url: String,
    /// Pool size
    pub max_connections: u32,
    /// Argon2 hashes running at once
    pub hash_concurrency: usize,
    /// Use-case tunables
    pub config: ServiceConfig,
    /// Token settings (issuer, lifetimes, signing algorithm)
    pub tokens: TokenConfig,
    /// Secret the signing keys are sealed with
    pub secret: SecretString,
    /// Redis for the shared denylist and rate limits; the SQL database and process memory
    /// when absent
    pub redis_url: Option<String>,
    /// Brute-force limits
    pub rate_limits: RateLimitSettings,
}

/// The secret of `--dev` and of test servers: publicly known, so a deployment that uses it
/// is refused outside `--dev`
pub const DEV_SECRET: &str = "clouddocs-development-secret-do-not-use-in-production";

/// A good pool size for `database_url`: SQLite has one writer and runs each connection on
/// a thread of its own, so more than two connections per core only add threads, page
/// caches and memory; PostgreSQL gets 16
pub fn default_pool_size(database_url: &str) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    match Backend::from_url(database_url) {
        Ok(Backend::Sqlite) => u32::try_from(cores.saturating_mul(2).max(4)).unwrap_or(4),
        _ => 16,
    }
}

impl Services {
    /// Connects storage (running migrations), loads keys and the policy set, and wires
    /// the use cases; starts the audit writer, so it must run inside a Tokio runtime
    pub async fn open(settings: &OpenSettings) -> anyhow::Result<Self> {
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
                "cannot load signing keys: {e}; if they cannot be decrypted, the server secret \
                 is not the one this database was created with (pass that secret, or --dev if \
                 it was created with --dev)"
            )
        })?;
        let (denylist, ceremonies): (Arc<dyn Denylist>, Arc<dyn Ceremonies>) =
            match &settings.redis_url {
                Some(url) => {
                    let redis = RedisDenylist::connect(url).await?;
                    let ceremonies = Arc::new(redis.ceremonies());
                    (Arc::new(redis), ceremonies)
                }
                None => (
                    Arc::new(SqlDenylist::open(db.clone(), now_ms()).await?),
                    Arc::new(SqlCeremonies::new(db.clone())),
                ),
            };
        let limits = settings.rate_limits.clone();
        let throttle = match &settings.redis_url {
            Some(url) => Throttle::redis(url, limits).await?,
            None => Throttle::in_memory(limits),
        };
        let policy = Arc::new(load_policy(&db).await?);
        let svc = Services::new(Dependencies {
            db,
            hasher,
            config: settings.config.clone(),
            keys: Arc::new(keys),
            denylist,
            tokens: settings.tokens.clone(),
            policy,
            throttle,
            ceremonies,
        });
        let filled = svc.backfill_email_skeletons().await?;
        if filled > 0 {
            tracing::info!(filled, "stored the confusable skeletons of existing emails");
        }
        Ok(svc)
    }

    /// Whether the database answers (readiness)
    pub async fn ping_database(&self) -> Result<(), crate::ServiceError> {
        self.db.ping().await?;
        Ok(())
    }
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

//! Builds the application state from settings: storage, hashing pool, metrics.

use std::sync::Arc;

use clouddocs_auth::password::PasswordHasher;
use clouddocs_service::{ServiceConfig, Services};
use clouddocs_store::Db;

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
}

impl ServerSettings {
    /// Defaults around a database URL
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            max_connections: 16,
            hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            http: HttpSettings::default(),
            service: ServiceConfig::default(),
        }
    }
}

/// Connects storage (running migrations) and wires the state
pub async fn build_state(settings: &ServerSettings) -> anyhow::Result<AppState> {
    let db = Db::connect(&settings.database_url, settings.max_connections).await?;
    let hasher = PasswordHasher::new(settings.hash_concurrency)?;
    let svc = Services::new(db, hasher, settings.service.clone());
    Ok(AppState {
        svc: Arc::new(svc),
        settings: Arc::new(settings.http.clone()),
        metrics: middleware::metrics::handle(),
    })
}

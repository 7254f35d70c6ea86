//! The connection pool, the backend chosen at startup, and migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::StoreError;

/// A write transaction (`BEGIN IMMEDIATE` on SQLite); query functions take `&mut tx`, and
/// `commit` answers a `StoreError` like every other storage call
pub struct Tx(sqlx::Transaction<'static, sqlx::Any>);

impl Tx {
    /// Commits the transaction
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
    }

    /// Rolls the transaction back (dropping it does too, without waiting)
    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.0.rollback().await?)
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.0
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.0
    }
}

/// Which SQL database backs the store
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default, single node)
    Sqlite,
    /// PostgreSQL (shared by any number of nodes)
    Postgres,
}

impl Backend {
    /// The backend a database URL names: `sqlite:…`, or `postgres:…` / `postgresql:…`
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Config(
                "database url must start with `sqlite:` or `postgres:`",
            ))
        }
    }
}

/// One schema for both backends: every migration is written in the SQL that SQLite and
/// PostgreSQL share (`TEXT`, `BIGINT`, no backend-specific types), so there is one
/// directory until a migration needs to differ
static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The SQL database: a pool and the backend it talks to
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL is left out: it may carry a password.
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`) and runs migrations
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let mut pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5));
        if backend == Backend::Sqlite {
            // INVARIANT: every SQLite connection enforces foreign keys, waits on the
            // writer lock instead of failing, and uses WAL so readers never block writers.
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(options).await?;
        let db = Self {
            pool,
            backend,
            url: url.to_owned(),
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATIONS.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => StoreError::from(inner),
            other => StoreError::Migrate(other),
        })
    }

    /// The URL the pool connects to (may hold credentials: never log it)
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The backend in use
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for one-off queries outside a transaction
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write transaction.
    ///
    /// On SQLite it is `BEGIN IMMEDIATE`: the writer lock is taken at the start, waiting for
    /// `busy_timeout` if another writer holds it. A deferred `BEGIN` would take it only at
    /// the first write, and a transaction that has read by then cannot wait (its snapshot
    /// may be stale), so SQLite answers `SQLITE_BUSY` at once: "database is locked" under
    /// ordinary concurrency. PostgreSQL keeps its plain `BEGIN`.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx(tx))
    }

    /// Acquires one connection
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// Checks that the database answers (readiness probe)
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (graceful shutdown)
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

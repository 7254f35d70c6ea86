//! Starting and stopping a real server for one test.

use std::net::SocketAddr;

use clouddocs_http::startup::{ServerSettings, build_state};
use clouddocs_http::{AppState, Application};
use sqlx::Connection as _;

use crate::{Backend, skip};

/// A running server and what is needed to talk to it and clean up after it
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The bound address
    pub addr: SocketAddr,
    /// The server's state (for direct database checks)
    pub state: AppState,
    /// Which backend this run uses
    pub backend: Backend,
    /// The database the server uses (for the CLI, run against the same data)
    pub database_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _tmp: tempfile::TempDir,
    pg: Option<(String, String)>,
}

/// Replaces the database name of a PostgreSQL URL
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

impl TestApp {
    /// Starts a server on `backend` with default settings, or prints why the backend is
    /// skipped and returns `None`
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], letting the test adjust the settings first
    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut ServerSettings),
    ) -> Option<Self> {
        Self::spawn_inner(backend, None, adjust).await
    }

    /// Like [`TestApp::spawn_with`], serving HTTPS with the built-in TLS: the PEM `cert` and
    /// `key` are written to the temporary directory and loaded as `serve --tls-cert --tls-key`
    /// does. `base` is `https://127.0.0.1:PORT`, so the certificate needs that IP address.
    pub async fn spawn_tls_with(
        backend: Backend,
        cert_pem: &str,
        key_pem: &str,
        adjust: impl FnOnce(&mut ServerSettings),
    ) -> Option<Self> {
        Self::spawn_inner(backend, Some((cert_pem, key_pem)), adjust).await
    }

    async fn spawn_inner(
        backend: Backend,
        tls_pem: Option<(&str, &str)>,
        adjust: impl FnOnce(&mut ServerSettings),
    ) -> Option<Self> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let tmp = tempfile::tempdir().expect("temporary directory");
        let (url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}?mode=rwc", tmp.path().join("test.db").display()),
                None,
            ),
            Backend::Postgres | Backend::PostgresRedis => {
                let Ok(admin_url) = std::env::var("CLOUDDOCS_TEST_DATABASE_URL") else {
                    skip("CLOUDDOCS_TEST_DATABASE_URL is not set, PostgreSQL tests did not run");
                    return None;
                };
                sqlx::any::install_default_drivers();
                let name = format!("cdtest_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::AnyConnection::connect(&admin_url)
                    .await
                    .expect("connect to CLOUDDOCS_TEST_DATABASE_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                (with_database(&admin_url, &name), Some((admin_url, name)))
            }
        };
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local address");
        let database_url = url.clone();
        let mut settings = ServerSettings::new(url);
        settings.max_connections = 8;
        settings.http.dev = true;
        settings.http.panic_route = true;
        let scheme = if tls_pem.is_some() { "https" } else { "http" };
        settings.tokens.issuer = format!("{scheme}://{addr}");
        settings.http.hsts = tls_pem.is_some();
        if backend == Backend::PostgresRedis {
            let Ok(redis) = std::env::var("CLOUDDOCS_TEST_REDIS_URL") else {
                skip("CLOUDDOCS_TEST_REDIS_URL is not set, Redis tests did not run");
                return None;
            };
            settings.redis_url = Some(redis);
        }
        // Brute-force limits far above what any test does from 127.0.0.1; the rate-limit
        // tests lower them. A fresh key prefix keeps parallel tests apart in a shared Redis.
        let generous = clouddocs_http::rate_limit::Limit {
            burst: 1_000_000,
            per_seconds: 1,
        };
        let limits = &mut settings.http.rate_limits;
        limits.login_per_ip = generous;
        limits.token_per_ip = generous;
        limits.register_per_ip = generous;
        limits.per_account = generous;
        limits.client_credentials_per_client = generous;
        limits.lockout_threshold = 1_000_000;
        limits.failure_window_secs = 300;
        limits.key_prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
        adjust(&mut settings);
        let state = build_state(&settings)
            .await
            .expect("build application state");
        let app = match tls_pem {
            Some((cert, key)) => {
                let files = clouddocs_http::tls::TlsFiles {
                    cert: tmp.path().join("cert.pem"),
                    key: tmp.path().join("key.pem"),
                };
                std::fs::write(&files.cert, cert).expect("write certificate");
                std::fs::write(&files.key, key).expect("write key");
                let tls = clouddocs_http::tls::load(&files)
                    .await
                    .expect("load TLS certificate and key");
                Application::from_listener_tls(listener, state.clone(), tls)
            }
            None => Application::from_listener(listener, state.clone()),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Some(Self {
            base: format!("{scheme}://{addr}"),
            addr,
            state,
            backend,
            database_url,
            shutdown: Some(tx),
            _tmp: tmp,
            pg,
        })
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((admin_url, name)) = self.pg.take() {
            // Dropping a database needs async I/O; Drop is sync, so use a short-lived runtime
            // on its own thread. FORCE ends the server's remaining pool connections.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

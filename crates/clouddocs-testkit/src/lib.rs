//! Test harness: starts the real CloudDocs server on `127.0.0.1:0` with a fresh database
//! (a temporary SQLite file, or a new PostgreSQL database created from
//! `CLOUDDOCS_TEST_DATABASE_URL`) and drives it over real HTTP.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test harness whose setup fails must abort the test loudly"
)]

use std::net::SocketAddr;

use clouddocs_http::startup::{ServerSettings, build_state};
use clouddocs_http::{AppState, Application};
use serde_json::{Value, json};
use sqlx::Connection as _;

/// The storage backend a test runs against
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file
    Sqlite,
    /// A fresh database on the PostgreSQL server of `CLOUDDOCS_TEST_DATABASE_URL`
    Postgres,
    /// PostgreSQL plus Redis (`CLOUDDOCS_TEST_REDIS_URL`) for the shared ephemeral state,
    /// as a multi-node deployment runs
    PostgresRedis,
}

/// The variable that turns every missing test prerequisite into a failure (`.ci/run` sets it)
pub const REQUIRE_ALL: &str = "CLOUDDOCS_TEST_REQUIRE_ALL";

/// Reports that a test cannot run here, and why. It prints `skipped: REASON` and lets the
/// caller return, unless `CLOUDDOCS_TEST_REQUIRE_ALL=1` is set: then a missing
/// prerequisite is a failure, so that CI cannot pass on tests that never ran.
///
/// # Panics
/// When `CLOUDDOCS_TEST_REQUIRE_ALL` is `1`.
pub fn skip(reason: &str) {
    if std::env::var(REQUIRE_ALL).is_ok_and(|v| v == "1") {
        panic!("{REQUIRE_ALL}=1 but this test cannot run: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// A strong password accepted by the strength check
pub const PASSWORD: &str = "correct-violet-staple-91";

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
            shutdown: Some(tx),
            _tmp: tmp,
            pg,
        })
    }

    /// A new "browser": an HTTP client with its own cookie jar
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client")
    }

    /// `base` + `path`
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `POST /auth/register`
    pub async fn register(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/auth/register"))
            .json(&json!({"email": email, "password": password, "display_name": "Test User"}))
            .send()
            .await
            .expect("register request")
    }

    /// `POST /auth/login` (JSON)
    pub async fn login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login request")
    }

    /// Registers `email` with [`PASSWORD`], signs in with a new browser, and returns the
    /// browser, the CSRF token and the user id
    pub async fn signed_in(&self, email: &str) -> Session {
        let client = self.browser();
        let registered = self.register(&client, email, PASSWORD).await;
        assert_eq!(registered.status(), 201, "registering {email}");
        let user: Value = registered.json().await.expect("user json");
        let login = self.login(&client, email, PASSWORD).await;
        assert_eq!(login.status(), 200, "signing in {email}");
        let body: Value = login.json().await.expect("login json");
        Session {
            client,
            csrf: body["csrf_token"].as_str().expect("csrf token").to_owned(),
            user_id: user["id"].as_str().expect("user id").to_owned(),
        }
    }

    /// `POST /oauth/token` with the `password` grant, as FastAPI's `OAuth2PasswordRequestForm` sends it
    pub async fn password_grant(
        &self,
        email: &str,
        password: &str,
        scope: &str,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", email),
                ("password", password),
                ("scope", scope),
            ])
            .send()
            .await
            .expect("token request")
    }

    /// Registers a user and returns `(user_id, access_token, refresh_token)` from the password grant
    pub async fn user_with_tokens(&self, email: &str, scope: &str) -> (String, String, String) {
        let registered = self
            .register(&reqwest::Client::new(), email, PASSWORD)
            .await;
        assert_eq!(registered.status(), 201, "registering {email}");
        let user: Value = registered.json().await.expect("user json");
        let response = self.password_grant(email, PASSWORD, scope).await;
        assert_eq!(response.status(), 200, "password grant for {email}");
        let body: Value = response.json().await.expect("token json");
        (
            user["id"].as_str().expect("id").to_owned(),
            body["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            body["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        )
    }

    /// `POST /oauth/token` with the `refresh_token` grant
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .expect("refresh request")
    }

    /// `GET path` with a bearer token; asserts a 200 and returns the JSON body
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET request");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// `POST /oauth/token` `grant_type=client_credentials` with `client_secret_basic`
    pub async fn client_credentials(&self, client_id: &str, secret: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token request")
    }

    /// `GET /me` with a bearer token
    pub async fn me_with_bearer(&self, token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(self.url("/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("me request")
    }

    /// A platform admin's access token (with the `admin` scope)
    pub async fn admin_token(&self, email: &str) -> String {
        let registered = self
            .register(&reqwest::Client::new(), email, PASSWORD)
            .await;
        let user: Value = registered.json().await.expect("user json");
        self.promote_to_platform_admin(user["id"].as_str().expect("id"))
            .await;
        let response = self.password_grant(email, PASSWORD, "").await;
        let body: Value = response.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Registers an OAuth client as a platform admin; returns `(client_id, client_secret)`
    pub async fn register_client(
        &self,
        admin_token: &str,
        body: Value,
    ) -> (String, Option<String>) {
        let response = reqwest::Client::new()
            .post(self.url("/admin/clients"))
            .bearer_auth(admin_token)
            .json(&body)
            .send()
            .await
            .expect("client registration");
        assert_eq!(response.status(), 201, "client registration");
        let v: Value = response.json().await.expect("client json");
        (
            v["client_id"].as_str().expect("client id").to_owned(),
            v["client_secret"].as_str().map(str::to_owned),
        )
    }

    /// Makes a user a platform admin directly in the database (what `users create --admin` does).
    /// This bypasses the server's profile cache (SQLite): promote before the user's first
    /// `GET /me`, as `users create --admin` creates the admin before it ever signs in.
    pub async fn promote_to_platform_admin(&self, user_id: &str) {
        sqlx::query("UPDATE users SET platform_admin = 1 WHERE id = $1")
            .bind(user_id)
            .execute(self.state.svc.db().pool())
            .await
            .expect("promote");
    }
}

/// A signed-in browser
pub struct Session {
    /// The browser (holds the session cookie)
    pub client: reqwest::Client,
    /// The CSRF token to send in `X-CSRF-Token`
    pub csrf: String,
    /// The user's id
    pub user_id: String,
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

/// Runs an async scenario once per backend: `both_backends!(name_of_async_fn);` defines a
/// module with a `sqlite` and a `postgres` test.
#[macro_export]
macro_rules! both_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(app) = $crate::TestApp::spawn($crate::Backend::Sqlite).await {
                        super::$scenario(app).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await {
                        super::$scenario(app).await;
                    }
                }
            }
        )+
    };
}

/// Like [`both_backends!`], plus a third run on PostgreSQL with Redis holding the denylist
/// and rate-limit state: `all_backends!(scenario);`
#[macro_export]
macro_rules! all_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(app) = $crate::TestApp::spawn($crate::Backend::Sqlite).await {
                        super::$scenario(app).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await {
                        super::$scenario(app).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_redis() {
                    if let Some(app) = $crate::TestApp::spawn($crate::Backend::PostgresRedis).await {
                        super::$scenario(app).await;
                    }
                }
            }
        )+
    };
}

/// The `items` of a `{items, next_cursor}` list answer, usable as the `Vec` it wraps
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct Items {
    items: Vec<Value>,
    /// The cursor of the next page, if any
    pub next_cursor: Option<String>,
}

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.items
    }
}

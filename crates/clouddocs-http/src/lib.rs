//! The HTTP layer of CloudDocs: the only crate that knows axum and tower-http.
//!
//! [`app`] builds the router from the state; [`Application`] binds it to a listener and
//! serves it until shutdown, so the binary and the tests start the server the same way.

mod connections;
pub mod dto;
pub mod extract;
pub mod middleware;
pub mod oauth_error;
pub mod openapi;
pub mod pages;
pub mod problem;
#[cfg(test)]
mod property_tests;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod state;
pub mod tls;
pub mod trusted_proxies;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_swagger_ui::SwaggerUi;

pub use state::{AppState, HttpSettings};

use crate::problem::ApiError;

const REQUEST_ID: &str = "x-request-id";

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// `GET /__test/panic` (test harness only)
#[expect(
    clippy::panic,
    reason = "the route exists to prove that a panic answers 500 and the server goes on"
)]
async fn deliberate_panic() -> ApiError {
    panic!("deliberate test panic")
}

/// A panicking handler's answer: the panic message goes to the log, never to the client
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked");
    axum::response::IntoResponse::into_response(ApiError::Internal(anyhow::anyhow!(
        "handler panicked"
    )))
}

/// A handler that takes two seconds (test harness only): proves the handler deadline
async fn deliberately_slow() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    "done"
}

/// The whole application router
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    let sensitive = [
        axum::http::header::AUTHORIZATION,
        axum::http::header::COOKIE,
        axum::http::header::SET_COOKIE,
        HeaderName::from_static("x-api-key"),
        HeaderName::from_static("x-csrf-token"),
    ];
    let body_limit = state.settings.body_limit;
    // Fails closed: a malformed origin (refused at config load anyway) means no CORS at all.
    let cors = middleware::cors::layer(&state.settings.cors_origins).unwrap_or_else(|err| {
        tracing::error!(error = %err, "CORS disabled");
        None
    });
    let api = Router::new()
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::me::router())
        .merge(routes::mfa::router())
        .merge(routes::admin::router())
        .merge(routes::api_keys::router())
        .merge(routes::clients::router())
        .merge(routes::oauth::router())
        .merge(pages::router())
        .merge(routes::orgs::router())
        .merge(routes::documents::router())
        .merge(routes::authz::router())
        .merge(routes::audit::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn(middleware::metrics::track));
    // Only the test harness turns these on, to prove a panic answers 500 and harms nothing
    // else, and that a slow handler meets its deadline.
    let api = if state.settings.panic_route {
        api.route("/__test/panic", axum::routing::get(deliberate_panic))
            .route("/__test/slow", axum::routing::get(deliberately_slow))
    } else {
        api
    };
    let docs: Router<AppState> = SwaggerUi::new("/docs")
        .url("/openapi.json", openapi::ApiDoc::openapi())
        .into();
    api.merge(docs)
        .layer(
            ServiceBuilder::new()
                // Outermost: a panic anywhere below answers 500 problem+json, and the
                // connection and the process go on.
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(SetSensitiveHeadersLayer::new(sensitive))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                }))
                .layer(axum::middleware::from_fn(middleware::failures::log_failures))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(axum::middleware::from_fn(middleware::request_meta::scope))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::security_headers::security_headers,
                ))
                .option_layer(cors)
                .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::limits::limit_headers))
                .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::limits::read_body))
                .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::limits::deadline))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(state)
}

/// A server bound to its listener, ready to run
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<tls::RustlsConfig>,
    transport: Transport,
}

/// Connection-level settings, taken from [`HttpSettings`]
#[derive(Debug, Clone, Copy)]
struct Transport {
    header_read_timeout: std::time::Duration,
    max_connections: usize,
}

impl Transport {
    fn of(state: &AppState) -> Self {
        Self {
            header_read_timeout: state.settings.header_read_timeout,
            max_connections: state.settings.max_connections,
        }
    }
}

/// The state with HSTS forced on: a server speaking TLS always sends it
fn with_hsts(mut state: AppState) -> AppState {
    if !state.settings.hsts {
        let mut settings = (*state.settings).clone();
        settings.hsts = true;
        state.settings = std::sync::Arc::new(settings);
    }
    state
}

impl Application {
    /// Binds `addr` (port 0 picks a free port)
    pub async fn bind(addr: SocketAddr, state: AppState) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Self::from_listener(listener, state))
    }

    /// Binds `addr` and serves HTTPS with `tls` (HSTS on)
    pub async fn bind_tls(
        addr: SocketAddr,
        state: AppState,
        tls: tls::RustlsConfig,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Self::from_listener_tls(listener, state, tls))
    }

    /// Serves HTTPS with `tls` on an already bound listener (HSTS on)
    pub fn from_listener_tls(
        listener: tokio::net::TcpListener,
        state: AppState,
        tls: tls::RustlsConfig,
    ) -> Self {
        let transport = Transport::of(&state);
        Self {
            listener,
            router: app(with_hsts(state)),
            tls: Some(tls),
            transport,
        }
    }

    /// Serves on an already bound listener (tests bind first to learn their URL)
    pub fn from_listener(listener: tokio::net::TcpListener, state: AppState) -> Self {
        let transport = Transport::of(&state);
        Self {
            listener,
            router: app(state),
            tls: None,
            transport,
        }
    }

    /// The bound address
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then drains in-flight requests (at most
    /// [`DRAIN`]). A connection whose first request has not arrived within
    /// `header_read_timeout` (a silent client included), or whose request headers take
    /// longer than that, is closed; at most `max_connections` are served at once
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let handle = axum_server::Handle::<SocketAddr>::new();
        let signal = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            signal.graceful_shutdown(Some(DRAIN));
        });
        let make_service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let cap = self.transport.max_connections;
        match self.tls {
            Some(tls) => {
                let acceptor = connections::Capped::new(
                    axum_server::tls_rustls::RustlsAcceptor::new(tls),
                    cap,
                );
                let mut server = axum_server::Server::<SocketAddr>::from_listener(self.listener)
                    .acceptor(acceptor)
                    .handle(handle)
                    .first_request_timeout(self.transport.header_read_timeout);
                let builder = server.http_builder();
                builder
                    .http1()
                    .header_read_timeout(Some(self.transport.header_read_timeout));
                // HTTP/2 (ALPN) has no header-read timeout: pings find peers that are gone.
                builder
                    .http2()
                    .keep_alive_interval(Some(H2_KEEP_ALIVE))
                    .keep_alive_timeout(self.transport.header_read_timeout);
                server.serve(make_service).await
            }
            None => {
                let acceptor =
                    connections::Capped::new(axum_server::accept::DefaultAcceptor::new(), cap);
                // Plain HTTP speaks HTTP/1.1 only: no cleartext HTTP/2 (h2c), whose idle
                // connections no header-read timeout would bound.
                let mut server = axum_server::Server::<SocketAddr>::from_listener(self.listener)
                    .acceptor(acceptor)
                    .handle(handle)
                    .first_request_timeout(self.transport.header_read_timeout)
                    .http1_only();
                server
                    .http_builder()
                    .http1()
                    .header_read_timeout(Some(self.transport.header_read_timeout));
                server.serve(make_service).await
            }
        }
    }
}

/// How often an idle HTTP/2 connection is pinged; one that does not answer within the
/// header-read timeout is closed
const H2_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(20);

/// How long in-flight requests may take to finish after the shutdown signal
const DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

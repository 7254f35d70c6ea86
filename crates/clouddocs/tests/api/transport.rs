//! Transport: HTTPS with the built-in TLS (rustls), HSTS, and CORS for configured origins only.

use clouddocs_testkit::{Backend, PASSWORD, TestApp};
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    STRICT_TRANSPORT_SECURITY, VARY,
};
use reqwest::{Method, Response};
use serde_json::Value;

const ALLOWED: &str = "https://a.example";
const ALSO_ALLOWED: &str = "https://b.example";
const EVIL: &str = "https://evil.example";

/// A self-signed certificate for `127.0.0.1` and `localhost`: `(cert_pem, key_pem)`
fn self_signed() -> (String, String) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (generated.cert.pem(), generated.signing_key.serialize_pem())
}

/// A browser that trusts only `cert_pem` and speaks only HTTPS
fn https_browser(cert_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .tls_built_in_root_certs(false)
        .https_only(true)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn header<'a>(response: &'a Response, name: &reqwest::header::HeaderName) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn assert_hsts(response: &Response) {
    let hsts = header(response, &STRICT_TRANSPORT_SECURITY)
        .unwrap_or_else(|| panic!("no HSTS on {}", response.url()));
    assert!(
        hsts.contains("max-age=") && !hsts.contains("max-age=0"),
        "{hsts}"
    );
}

async fn https_with_built_in_tls(backend: Backend) {
    let (cert, key) = self_signed();
    // Production cookie settings (`__Host-` prefix, `Secure`), as a deployment without a proxy runs
    let Some(app) = TestApp::spawn_tls_with(backend, &cert, &key, |s| s.http.dev = false).await
    else {
        return;
    };
    assert!(app.base.starts_with("https://127.0.0.1:"), "{}", app.base);
    let browser = https_browser(&cert);

    let registered = app
        .register(&browser, "tls-user@example.com", PASSWORD)
        .await;
    assert_eq!(registered.status(), 201);
    assert_hsts(&registered);

    let login = app.login(&browser, "tls-user@example.com", PASSWORD).await;
    assert_eq!(login.status(), 200);
    assert_hsts(&login);
    let cookie = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-clouddocs="))
        .expect("the production session cookie")
        .to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // The Secure cookie goes back over HTTPS and authenticates
    let me = browser.get(app.url("/me")).send().await.unwrap();
    assert_eq!(me.status(), 200);
    assert_hsts(&me);
    let body: Value = me.json().await.unwrap();
    assert_eq!(body["email"], "tls-user@example.com");

    // ConnectInfo still reaches the handlers behind the TLS acceptor: the session has the peer IP
    let sessions: clouddocs_testkit::Items = browser
        .get(app.url("/me/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["ip"], "127.0.0.1", "{sessions:?}");

    // Plain HTTP to the TLS port gets no answer
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", app.addr))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP answered: {plain:?}");

    // A client that does not trust the certificate refuses the connection
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let refused = untrusting.get(app.url("/healthz")).send().await;
    assert!(refused.is_err(), "untrusted certificate accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_built_in_tls_sqlite() {
    https_with_built_in_tls(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_built_in_tls_postgres() {
    https_with_built_in_tls(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_sends_no_hsts() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        header(&response, &STRICT_TRANSPORT_SECURITY).is_none(),
        "HSTS over plain HTTP"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_tls_sends_hsts_over_plain_http() {
    // `--behind-tls`: a TLS-terminating proxy in front, plain HTTP behind it
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.http.hsts = true)
        .await
        .unwrap();
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_hsts(&response);
}

async fn cors_app(origins: &[&str]) -> TestApp {
    let origins: Vec<String> = origins.iter().map(|o| (*o).to_owned()).collect();
    TestApp::spawn_with(Backend::Sqlite, move |s| s.http.cors_origins = origins)
        .await
        .unwrap()
}

async fn preflight(app: &TestApp, origin: &str) -> Response {
    reqwest::Client::new()
        .request(Method::OPTIONS, app.url("/me"))
        .header("origin", origin)
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "content-type, x-csrf-token",
        )
        .send()
        .await
        .unwrap()
}

/// A simple (not preflighted) `GET /healthz` from `origin`
async fn simple_request(app: &TestApp, origin: &str) -> Response {
    reqwest::Client::new()
        .get(app.url("/healthz"))
        .header("origin", origin)
        .send()
        .await
        .unwrap()
}

/// The answer lets `origin` read it, with credentials
fn assert_allows_credentials_from(response: &Response, origin: &str) {
    assert_eq!(header(response, &ACCESS_CONTROL_ALLOW_ORIGIN), Some(origin));
    assert_eq!(
        header(response, &ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("true")
    );
}

fn assert_varies_on_origin(response: &Response) {
    let vary: Vec<String> = response
        .headers()
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    assert!(vary.iter().any(|v| v == "origin"), "Vary: {vary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_from_an_allowed_origin_is_answered() {
    let app = cors_app(&[ALLOWED, ALSO_ALLOWED]).await;
    let response = preflight(&app, ALLOWED).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_allows_credentials_from(&response, ALLOWED);
    let methods = header(&response, &ACCESS_CONTROL_ALLOW_METHODS).unwrap_or_default();
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{m} not in {methods}");
    }
    let headers = header(&response, &ACCESS_CONTROL_ALLOW_HEADERS)
        .unwrap_or_default()
        .to_ascii_lowercase();
    for h in ["authorization", "content-type", "x-csrf-token", "x-api-key"] {
        assert!(headers.contains(h), "{h} not in {headers}");
    }
    assert_eq!(header(&response, &ACCESS_CONTROL_MAX_AGE), Some("600"));
    assert_varies_on_origin(&response);

    // Each configured origin is echoed exactly, never `*`
    let other = preflight(&app, ALSO_ALLOWED).await;
    assert_eq!(
        header(&other, &ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(ALSO_ALLOWED)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_from_another_origin_is_not_allowed() {
    let app = cors_app(&[ALLOWED]).await;
    for origin in [
        EVIL,
        "https://a.example.evil.example",
        "http://a.example",
        "null",
    ] {
        let response = preflight(&app, origin).await;
        assert!(
            header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
            "{origin} allowed"
        );
    }
    let simple = simple_request(&app, EVIL).await;
    assert!(header(&simple, &ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cors_headers_without_configured_origins() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let response = preflight(&app, ALLOWED).await;
    assert!(header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(header(&response, &ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    let simple = simple_request(&app, ALLOWED).await;
    assert_eq!(simple.status(), 200);
    assert!(header(&simple, &ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_simple_request_from_an_allowed_origin() {
    let app = cors_app(&[ALLOWED]).await;
    let response = simple_request(&app, ALLOWED).await;
    assert_eq!(response.status(), 200);
    assert_allows_credentials_from(&response, ALLOWED);
    assert!(
        header(&response, &ACCESS_CONTROL_EXPOSE_HEADERS)
            .unwrap_or_default()
            .contains("x-request-id")
    );
    assert_varies_on_origin(&response);
}

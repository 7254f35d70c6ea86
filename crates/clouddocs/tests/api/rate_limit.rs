//! Brute-force defences: per-address and per-account limits, exponential lockout, 429 with
//! `Retry-After`, atomic counters in memory and in Redis, and trusted proxies.

use std::time::Duration;

use clouddocs_http::rate_limit::{Limit, TrustedProxies};
use clouddocs_http::startup::ServerSettings;
use clouddocs_testkit::{Backend, PASSWORD, TestApp, backends};
use serde_json::{Value, json};

const WRONG: &str = "wrong-violet-staple-00";
const HOUR: u32 = 3600;

backends!(with_backend [sqlite, postgres, postgres_redis],
    successful_sign_ins_never_spend_the_account_or_address_buckets,
    successful_token_requests_never_spend_the_address_bucket_but_failures_do,
    successful_client_credentials_are_bounded_per_client,
    repeated_wrong_passwords_lock_the_account_and_the_right_password_waits_for_the_lock,
    a_hundred_parallel_wrong_passwords_get_no_more_guesses_than_the_limit,
    the_password_grant_is_locked_like_login_with_an_oauth_error,
);

/// One lock of 1 s after 3 consecutive failures; no other limit in the way
fn quick_lockout(settings: &mut ServerSettings) {
    let limits = &mut settings.http.rate_limits;
    limits.lockout_threshold = 3;
    limits.lockout_base_secs = 1;
    limits.lockout_max_secs = 1;
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.login(&reqwest::Client::new(), email, password)
        .await
        .status()
        .as_u16()
}

/// One wrong-password login for `email` at `url`, with `X-Forwarded-For` if given
async fn wrong_login(
    client: &reqwest::Client,
    url: String,
    email: &str,
    forwarded_for: Option<&str>,
) -> u16 {
    let mut request = client
        .post(url)
        .json(&json!({"email": email, "password": WRONG}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap().status().as_u16()
}

/// One wrong-password login for `email` to each of `urls`, all at once; returns the statuses
async fn wrong_logins_at_once(urls: impl Iterator<Item = String>, email: &'static str) -> Vec<u16> {
    let client = reqwest::Client::new();
    let mut attempts = tokio::task::JoinSet::new();
    for url in urls {
        let client = client.clone();
        attempts.spawn(async move { wrong_login(&client, url, email, None).await });
    }
    attempts.join_all().await
}

async fn registered(app: &TestApp, email: &str) {
    let response = app.register(&reqwest::Client::new(), email, PASSWORD).await;
    assert_eq!(response.status(), 201, "registering {email}");
}

async fn repeated_wrong_passwords_lock_the_account_and_the_right_password_waits_for_the_lock(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn_with(backend, quick_lockout).await else {
        return;
    };
    registered(&app, "locked@example.com").await;
    for _ in 0..3 {
        assert_eq!(login_status(&app, "locked@example.com", WRONG).await, 401);
    }

    let wrong = app
        .login(&reqwest::Client::new(), "Locked@Example.com", WRONG)
        .await;
    let right = app
        .login(&reqwest::Client::new(), "locked@example.com", PASSWORD)
        .await;

    assert_eq!(wrong.status(), 429);
    assert!(retry_after(&wrong) >= 1);
    assert_eq!(wrong.headers()["content-type"], "application/problem+json");
    assert_eq!(
        right.status(),
        429,
        "no oracle: the right password is refused too"
    );
    assert!(retry_after(&right) >= 1);
    assert!(right.headers().get("set-cookie").is_none());
    // The lockout is on record in the audit log, naming the account.
    let (locks,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.lockout' AND target = 'account:locked@example.com'",
    )
    .fetch_one(app.state.svc.db().pool())
    .await
    .unwrap();
    assert!(locks >= 1, "lockout audited");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        login_status(&app, "locked@example.com", PASSWORD).await,
        200,
        "the lock has ended"
    );
}

async fn a_hundred_parallel_wrong_passwords_get_no_more_guesses_than_the_limit(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.http.rate_limits.per_account = Limit {
            burst: 5,
            per_seconds: HOUR,
        };
    })
    .await
    else {
        return;
    };
    registered(&app, "target@example.com").await;

    let urls = (0..100).map(|_| app.url("/auth/login"));
    let statuses = wrong_logins_at_once(urls, "target@example.com").await;

    let guesses = statuses.iter().filter(|s| **s != 429).count();
    assert_eq!(guesses, 5, "statuses: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429));
}

async fn the_password_grant_is_locked_like_login_with_an_oauth_error(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, quick_lockout).await else {
        return;
    };
    registered(&app, "grant@example.com").await;
    for _ in 0..3 {
        let response = app.password_grant("grant@example.com", WRONG, "").await;
        assert_eq!(response.status(), 400);
    }

    let right = app.password_grant("grant@example.com", PASSWORD, "").await;
    let login = login_status(&app, "grant@example.com", PASSWORD).await;

    assert_eq!(right.status(), 429);
    assert!(retry_after(&right) >= 1);
    assert_eq!(right.headers()["cache-control"], "no-store");
    let body: Value = right.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "too many attempts, retry later");
    assert_eq!(login, 429, "login and the password grant share the lock");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = app.password_grant("grant@example.com", PASSWORD, "").await;
    assert_eq!(after.status(), 200, "the lock has ended");
}

/// Buckets of 3 per hour for every failure-counted gate, no lockout in the way
fn three_failures_per_hour(settings: &mut ServerSettings) {
    let limits = &mut settings.http.rate_limits;
    let three = Limit {
        burst: 3,
        per_seconds: HOUR,
    };
    limits.per_account = three;
    limits.login_per_ip = three;
    limits.token_per_ip = three;
}

async fn successful_sign_ins_never_spend_the_account_or_address_buckets(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, three_failures_per_hour).await else {
        return;
    };
    registered(&app, "busy@example.com").await;

    let mut logins = Vec::new();
    let mut grants = Vec::new();
    for _ in 0..12 {
        logins.push(login_status(&app, "busy@example.com", PASSWORD).await);
        grants.push(
            app.password_grant("busy@example.com", PASSWORD, "")
                .await
                .status()
                .as_u16(),
        );
    }
    let failures: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(login_status(&app, "busy@example.com", WRONG).await);
        }
        out
    };

    assert!(logins.iter().all(|s| *s == 200), "logins: {logins:?}");
    assert!(grants.iter().all(|s| *s == 200), "grants: {grants:?}");
    assert_eq!(failures, [401, 401, 401, 429], "failures still count");
}

async fn successful_token_requests_never_spend_the_address_bucket_but_failures_do(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn_with(backend, three_failures_per_hour).await else {
        return;
    };
    let (_, _, mut refresh) = app.user_with_tokens("nat@example.com", "").await;
    let admin = app.admin_token("nat-admin@example.com").await;
    let (client_id, secret) = app.service_client(&admin, "backend").await;

    let mut successes = Vec::new();
    for _ in 0..10 {
        let rotated = app.refresh(&refresh).await;
        successes.push(rotated.status().as_u16());
        let body: Value = rotated.json().await.unwrap();
        refresh = body["refresh_token"].as_str().unwrap().to_owned();
        successes.push(
            app.client_credentials(&client_id, &secret)
                .await
                .status()
                .as_u16(),
        );
    }
    let wrong_secret = app.client_credentials(&client_id, "not-the-secret").await;
    let mut failed_grants = Vec::new();
    for _ in 0..2 {
        failed_grants.push(app.refresh("not-a-refresh-token").await.status().as_u16());
    }
    let spent = app.client_credentials(&client_id, &secret).await;

    assert!(successes.iter().all(|s| *s == 200), "{successes:?}");
    assert_eq!(wrong_secret.status(), 401, "failed client authentication");
    assert_eq!(failed_grants, [400, 400], "failed grants");
    assert_eq!(
        spent.status(),
        429,
        "three failures spend the address bucket, for everyone at that address"
    );
    assert!(retry_after(&spent) > 1);
    let body: Value = spent.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

async fn successful_client_credentials_are_bounded_per_client(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.http.rate_limits.client_credentials_per_client = Limit {
            burst: 5,
            per_seconds: HOUR,
        };
        s.http.rate_limits.token_per_ip = Limit {
            burst: 3,
            per_seconds: HOUR,
        };
    })
    .await
    else {
        return;
    };
    let admin = app.admin_token("machines@example.com").await;
    let (first, first_secret) = app.service_client(&admin, "m").await;
    let (second, second_secret) = app.service_client(&admin, "m").await;

    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = app.client_credentials(&first, &first_secret).await;
        statuses.push(response.status().as_u16());
    }
    let other = app.client_credentials(&second, &second_secret).await;
    let limited = app.client_credentials(&first, &first_secret).await;

    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    assert_eq!(other.status(), 200, "each client has its own bucket");
    assert_eq!(limited.status(), 429);
    assert!(retry_after(&limited) > 1);
    assert_eq!(limited.headers()["cache-control"], "no-store");
    for _ in 0..5 {
        let over = app.client_credentials(&first, &first_secret).await;
        assert_eq!(over.status(), 429);
    }
    let (_, _, refresh) = app.user_with_tokens("behind-the-nat@example.com", "").await;
    assert_eq!(
        app.refresh(&refresh).await.status(),
        200,
        "a client over its own rate does not spend its address's budget for everyone else"
    );
}

/// Forwards `127.0.0.1:<port>` to the machine's Redis until the returned handle is
/// aborted, which also cuts every connection it carried: Redis, as seen from the server,
/// goes down
async fn redis_relay() -> Option<(String, tokio::task::JoinHandle<()>)> {
    let target = std::env::var("CLOUDDOCS_TEST_REDIS_URL").ok()?;
    let target = target
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let relay = tokio::spawn(async move {
        let mut carried = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            carried.spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Some((format!("redis://127.0.0.1:{port}"), relay))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_and_the_api_both_answer_503_when_the_counters_are_down() {
    let Some((url, relay)) = redis_relay().await else {
        clouddocs_testkit::skip("CLOUDDOCS_TEST_REDIS_URL is not set");
        return;
    };
    let Some(app) = TestApp::spawn_with(Backend::PostgresRedis, |s| {
        s.redis_url = Some(url.clone());
    })
    .await
    else {
        return;
    };
    registered(&app, "outage@example.com").await;
    let browser = app.browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();

    relay.abort();
    let _ = relay.await;
    let api = app
        .login(&reqwest::Client::new(), "outage@example.com", PASSWORD)
        .await;
    let form = browser
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "outage@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(api.status(), 503, "the API refuses while counters are down");
    assert!(api.headers().contains_key("retry-after"));
    assert_eq!(form.status(), 503, "and the page answers the same");
    assert!(form.headers().contains_key("retry-after"));
    let cookies: Vec<&str> = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().all(|c| c.contains("-login=")),
        "only a fresh form token, no session: {cookies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_sharing_one_redis_enforce_one_limit_between_them() {
    let prefix = format!("two-nodes-{}:", uuid_like());
    let configure = |s: &mut ServerSettings| {
        s.http.rate_limits.key_prefix.clone_from(&prefix);
        s.http.rate_limits.per_account = Limit {
            burst: 6,
            per_seconds: HOUR,
        };
    };
    let Some(a) = TestApp::spawn_with(Backend::PostgresRedis, configure).await else {
        return;
    };
    let Some(b) = TestApp::spawn_with(Backend::PostgresRedis, configure).await else {
        return;
    };

    // Alternately to either server.
    let urls = (0..40).map(|i| [&a, &b][i % 2].url("/auth/login"));
    let statuses = wrong_logins_at_once(urls, "shared@example.com").await;

    let guesses = statuses.iter().filter(|s| **s != 429).count();
    assert_eq!(guesses, 6, "one limit across both servers: {statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_sharing_one_redis_share_the_lockout() {
    let prefix = format!("two-nodes-{}:", uuid_like());
    let configure = |s: &mut ServerSettings| {
        s.http.rate_limits.key_prefix.clone_from(&prefix);
        s.http.rate_limits.lockout_threshold = 3;
        s.http.rate_limits.lockout_base_secs = 60;
    };
    let Some(a) = TestApp::spawn_with(Backend::PostgresRedis, configure).await else {
        return;
    };
    let Some(b) = TestApp::spawn_with(Backend::PostgresRedis, configure).await else {
        return;
    };
    registered(&b, "roaming@example.com").await;

    assert_eq!(login_status(&a, "roaming@example.com", WRONG).await, 401);
    assert_eq!(login_status(&b, "roaming@example.com", WRONG).await, 401);
    assert_eq!(login_status(&a, "roaming@example.com", WRONG).await, 401);
    let right_on_b = b
        .login(&reqwest::Client::new(), "roaming@example.com", PASSWORD)
        .await;

    assert_eq!(
        right_on_b.status(),
        429,
        "failures on a lock the account on b"
    );
    assert!(retry_after(&right_on_b) > 30);
}

/// A unique suffix without naming a uuid crate in this test binary
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}-{:p}", &nanos)
}

fn per_ip_login_limit_of_three(settings: &mut ServerSettings) {
    settings.http.rate_limits.login_per_ip = Limit {
        burst: 3,
        per_seconds: HOUR,
    };
}

async fn login_from(app: &TestApp, email: &str, forwarded_for: &str) -> u16 {
    let client = reqwest::Client::new();
    wrong_login(&client, app.url("/auth/login"), email, Some(forwarded_for)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_an_untrusted_peer_cannot_dodge_the_per_address_limit() {
    let app = TestApp::spawn_with(Backend::Sqlite, per_ip_login_limit_of_three)
        .await
        .unwrap();

    let mut statuses = Vec::new();
    for i in 0..6 {
        let email = format!("victim{i}@example.com");
        statuses.push(login_from(&app, &email, &format!("198.51.100.{i}")).await);
    }

    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_a_trusted_proxy_names_the_client() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        per_ip_login_limit_of_three(s);
        s.http.trusted_proxies = TrustedProxies::parse_list("127.0.0.1/32").unwrap();
    })
    .await
    .unwrap();

    let mut first_client = Vec::new();
    for i in 0..4 {
        let email = format!("user{i}@example.com");
        // A client-supplied hop on the left is not believed: the proxy appended the peer.
        first_client.push(login_from(&app, &email, "6.6.6.6, 198.51.100.1").await);
    }
    let second_client = login_from(&app, "other@example.com", "198.51.100.2").await;
    let behind_two_proxies = login_from(&app, "more@example.com", "203.0.113.9, 127.0.0.1").await;

    assert_eq!(first_client, [401, 401, 401, 429]);
    assert_eq!(second_client, 401, "another client has its own bucket");
    assert_eq!(behind_two_proxies, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_and_the_token_endpoint_are_limited_per_address() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.http.rate_limits.register_per_ip = Limit {
            burst: 2,
            per_seconds: HOUR,
        };
        s.http.rate_limits.token_per_ip = Limit {
            burst: 2,
            per_seconds: HOUR,
        };
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();

    let first = app.register(&client, "r1@example.com", PASSWORD).await;
    let second = app.register(&client, "r2@example.com", PASSWORD).await;
    let third = app.register(&client, "r3@example.com", PASSWORD).await;
    let mut refreshes = Vec::new();
    for _ in 0..3 {
        refreshes.push(app.refresh("not-a-refresh-token").await);
    }

    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (201, 201)
    );
    assert_eq!(third.status(), 429);
    assert!(retry_after(&third) > 1);
    assert_eq!(refreshes[0].status(), 400);
    assert_eq!(refreshes[1].status(), 400);
    assert_eq!(
        refreshes[2].status(),
        429,
        "failed grants count per address"
    );
    assert!(retry_after(&refreshes[2]) > 1);
}

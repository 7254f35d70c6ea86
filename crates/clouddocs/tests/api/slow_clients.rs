//! Slow and hostile clients over raw TCP: half-sent headers are cut off, connections are
//! capped, an announced huge body is 413 at once, a stalled body is 408, and a handler
//! past its deadline is a problem+json 503. Transport only: one backend suffices.

use std::time::{Duration, Instant};

use clouddocs_testkit::{Backend, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection or `within` passes; returns what was read
/// and whether the connection was closed
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_halfway_through_its_headers_is_disconnected() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.http.header_read_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1")
        .await
        .unwrap();

    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(8)).await;

    assert!(closed, "the half-sent request still holds its connection");
    assert!(started.elapsed() < Duration::from_secs(5));
    let healthy = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(healthy.status(), 200, "other clients are served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_connects_and_sends_nothing_is_disconnected_and_frees_its_slot() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.http.header_read_timeout = Duration::from_secs(1);
        s.http.max_connections = 1;
    })
    .await
    .unwrap();
    let mut silent = TcpStream::connect(app.addr).await.unwrap();

    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(8)).await;

    assert!(closed, "a silent connection holds its slot forever");
    assert!(started.elapsed() < Duration::from_secs(5));
    let healthy = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(healthy.status(), 200, "the one slot serves again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_refuses_cleartext_http2() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut h2c = TcpStream::connect(app.addr).await.unwrap();
    h2c.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();

    let (answer, closed) = read_until_closed(&mut h2c, Duration::from_secs(5)).await;

    assert!(closed, "the h2c preface is not served");
    assert!(!answer.contains("HTTP/2"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_closed_and_a_freed_slot_serves_again() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.http.max_connections = 2;
    })
    .await
    .unwrap();
    let first = TcpStream::connect(app.addr).await.unwrap();
    let second = TcpStream::connect(app.addr).await.unwrap();
    // Give the server time to accept both before the third arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut third = TcpStream::connect(app.addr).await.unwrap();
    let _ = third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let (answer, closed) = read_until_closed(&mut third, Duration::from_secs(3)).await;

    assert!(closed && answer.is_empty(), "over the cap: {answer:?}");
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = TcpStream::connect(app.addr).await.unwrap();
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut fourth, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_terabyte_body_is_refused_at_once_with_413() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut client = TcpStream::connect(app.addr).await.unwrap();
    client
        .write_all(
            b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 1000000000000\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();

    let started = Instant::now();
    let (answer, _) = read_until_closed(&mut client, Duration::from_secs(3)).await;

    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    assert!(answer.contains("application/problem+json"), "{answer:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_gets_408_and_the_connection_closes() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.http.body_idle_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    let mut client = TcpStream::connect(app.addr).await.unwrap();
    client
        .write_all(
            b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();

    let (answer, closed) = read_until_closed(&mut client, Duration::from_secs(6)).await;

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("application/problem+json"), "{answer:?}");
    assert!(closed, "the connection is closed after a 408");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_past_its_deadline_answers_problem_json_503_with_retry_after() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.http.request_timeout = Duration::from_millis(200);
    })
    .await
    .unwrap();

    let started = Instant::now();
    let response = reqwest::get(app.url("/__test/slow")).await.unwrap();

    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(response.headers().contains_key("retry-after"));
    assert!(started.elapsed() < Duration::from_secs(2));
}

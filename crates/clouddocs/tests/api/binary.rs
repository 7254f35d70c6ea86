//! The `clouddocs` binary itself: the admin CLI against a data directory, `serve` with no
//! configuration beyond its directory, and graceful shutdown on SIGTERM.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use clouddocs_testkit::PASSWORD;
use serde_json::Value;

fn clouddocs(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clouddocs"));
    cmd.arg("--data-dir")
        .arg(data)
        .env_remove("CLOUDDOCS_DATABASE_URL")
        .env_remove("CLOUDDOCS_REDIS_URL");
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_cli_creates_an_admin_rotates_keys_and_serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // `users create` reads the password from stdin and makes a platform admin.
    let mut create = clouddocs(&data)
        .args(["users", "create", "--email", "Root@Example.com", "--admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    let out = create.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("root@example.com"));
    // The generated secret is private to the owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A weak password is refused with its reason, and nothing is created.
    let mut weak = clouddocs(&data)
        .args(["users", "create", "--email", "weak@example.com"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    weak.stdin
        .take()
        .unwrap()
        .write_all(b"password123")
        .unwrap();
    let out = weak.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("commonly used"));

    // `keys rotate` adds a signing key; the old one stays published.
    let rotated = clouddocs(&data).args(["keys", "rotate"]).output().unwrap();
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );

    // `serve` with nothing but its data directory, on a free port.
    let port = free_port();
    let mut server = clouddocs(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "server did not come up");
    let token: Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "root@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let me: Value = http
        .get(format!("{base}/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["platform_admin"], true);
    let jwks: Value = http
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let eddsa_keys = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] == "EdDSA")
        .count();
    assert_eq!(
        eddsa_keys, 2,
        "the rotated-out key is still published: {jwks}"
    );
    // Production cookies without --dev.
    let login = http
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"email": "root@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(
        login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("__Host-clouddocs=")
    );

    // A second server on the same SQLite database is refused at start: the first one's
    // caches rely on seeing every write.
    let second = clouddocs(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already serving"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        http.get(format!("{base}/me"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the first server keeps serving"
    );

    // SIGTERM: the server drains and exits successfully.
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = server.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = exited.expect("server did not stop within 10 s of SIGTERM");
    assert!(status.success(), "{status:?}");

    // The audit chain the CLI and the server wrote verifies offline.
    let verify = clouddocs(&data).args(["audit", "verify"]).output().unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("audit chain verified"));
}

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

/// `clouddocs serve` with nothing but its data directory, on a free port; returns the
/// server process once it answers, and its base URL
async fn serve(data: &std::path::Path) -> (std::process::Child, String) {
    let port = free_port();
    let mut server = clouddocs(data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            return (server, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!("server did not come up");
}

/// The access token of `root@example.com` from the password grant at `base`
async fn root_token(base: &str) -> String {
    let token: Value = reqwest::Client::new()
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
    token["access_token"].as_str().unwrap().to_owned()
}

/// `GET url`, with a bearer token if one is given; returns the JSON answer
async fn get_json(url: &str, token: Option<&str>) -> Value {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_cli_creates_an_admin_rotates_keys_and_serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Admin commands refuse a data dir that does not exist; only `serve` creates one.
    std::fs::create_dir(&data).unwrap();

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
    let (mut server, base) = serve(&data).await;
    let http = reqwest::Client::new();
    let access = root_token(&base).await;
    let me = get_json(&format!("{base}/me"), Some(&access)).await;
    assert_eq!(me["platform_admin"], true);
    let jwks = get_json(&format!("{base}/.well-known/jwks.json"), None).await;
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
            .bearer_auth(&access)
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

fn run_with_password(cmd: &mut Command) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn admin_commands_refuse_a_data_dir_that_does_not_exist_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo");
    for args in [
        &["audit", "verify"][..],
        &["keys", "rotate"][..],
        &["users", "create", "--email", "a@example.com"][..],
    ] {
        let out = run_with_password(clouddocs(&typo).args(args));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{args:?} succeeded on a missing data dir"
        );
        assert!(
            stderr.contains("does not exist") && stderr.contains("serve"),
            "{args:?}: {stderr}"
        );
        assert!(!typo.exists(), "{args:?} created the data dir");
    }
}

#[test]
fn a_dev_data_dir_opened_without_dev_says_how_to_fix_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let created = clouddocs(&data)
        .args(["--dev", "keys", "rotate"])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let before: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    for args in [&["keys", "rotate"][..], &["audit", "verify"][..]] {
        let out = clouddocs(&data).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("--dev") && !stderr.contains("internal failure"),
            "{args:?}: {stderr}"
        );
        assert!(!data.join("secret").exists(), "a secret file was written");
    }
    let after: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "nothing is written into the data dir");
    // It still opens with --dev.
    let verify = clouddocs(&data)
        .args(["--dev", "audit", "verify"])
        .output()
        .unwrap();
    assert!(verify.status.success());

    // The other way round: a data dir with a generated secret, opened with --dev.
    let prod = dir.path().join("prod");
    std::fs::create_dir(&prod).unwrap();
    assert!(
        clouddocs(&prod)
            .args(["keys", "rotate"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = clouddocs(&prod)
        .args(["--dev", "keys", "rotate"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("without --dev") && !stderr.contains("internal failure"),
        "{stderr}"
    );
}

#[tokio::test]
async fn users_create_and_keys_rotate_leave_audit_events_by_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let out = run_with_password(clouddocs(&data).args([
        "users",
        "create",
        "--email",
        "root@example.com",
        "--admin",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated = clouddocs(&data).args(["keys", "rotate"]).output().unwrap();
    assert!(rotated.status.success());

    let (mut server, base) = serve(&data).await;
    let access = root_token(&base).await;
    let audit = get_json(&format!("{base}/audit?limit=100"), Some(&access)).await;
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let events = audit["items"].as_array().expect("audit items");
    let by_cli = |action: &str| {
        events
            .iter()
            .any(|e| e["action"] == action && e["actor"] == "cli")
    };
    assert!(by_cli("user.create"), "{audit}");
    assert!(by_cli("key.rotate"), "{audit}");
}

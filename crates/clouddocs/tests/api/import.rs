//! `clouddocs users import` and `clouddocs policies …`: the real binary against the test
//! server's own database, on SQLite and PostgreSQL.

use std::process::Command;

use argon2::PasswordHasher as _;
use clouddocs_testkit::{Auth, TestApp, backends};
use reqwest::Method;
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    bcrypt_argon2_and_django_users_import_sign_in_and_are_upgraded,
);

/// Computed with Python's `hashlib.pbkdf2_hmac('sha256', …, 260000)`, Django's format
const DJANGO_HASH: &str =
    "pbkdf2_sha256$260000$Zs3pmK9TqLb1$lkTx9NLV+rqz9pU7xG1Y1yz6wwfL95eoOmIxrICgs8A=";
const DJANGO_PASSWORD: &str = "correct horse battery staple";

fn cli(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clouddocs"));
    cmd.args([
        "--dev",
        "--secret",
        clouddocs_service::bootstrap::DEV_SECRET,
    ])
    .args(["--database-url", &app.database_url])
    .env_remove("CLOUDDOCS_REDIS_URL")
    .env("RUST_BACKTRACE", "0");
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(app.state.svc.db().pool())
        .await
        .unwrap();
    hash
}

async fn bcrypt_argon2_and_django_users_import_sign_in_and_are_upgraded(app: TestApp) {
    let owner = app.signed_in("owner@example.com").await;
    let (_, org) = app
        .call(
            Method::POST,
            "/orgs",
            Auth::Session(&owner),
            Some(json!({"name": "Imported"})),
        )
        .await;
    let org = org["id"].as_str().unwrap().to_owned();
    let bcrypt = bcrypt::hash("bcrypt user password", 4).unwrap();
    // Weaker than the server's parameters, so the first sign-in upgrades it.
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8192, 1, 1, None).unwrap(),
    )
    .hash_password(b"argon user password")
    .unwrap()
    .to_string();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("users.csv");
    let rows = [
        "email,display_name,password_hash,disabled,orgs".to_owned(),
        format!("bea@example.com,Bea,{bcrypt},false,{org}:editor"),
        // An Argon2 PHC string has commas: quoted, as any CSV writer does.
        format!("arno@example.com,Arno,\"{argon}\",,"),
        format!("dj@example.com,Django,{DJANGO_HASH},0,"),
        format!("gone@example.com,Gone,{bcrypt},true,"),
        // Five broken rows: each reported with its line, none stops the good ones.
        format!("not-an-email,X,{bcrypt},,"),
        "plain@example.com,Plain,hunter2,,".to_owned(),
        "md5@example.com,Md5,5f4dcc3b5aa765d61d8327deb882cf99,,".to_owned(),
        format!("orgless@example.com,O,{bcrypt},,0190a0a0-0000-7000-8000-000000000000:viewer"),
        format!("flag@example.com,F,{bcrypt},maybe,"),
        // The same address twice: the second counts as existing.
        format!("BEA@example.com,Bea again,{bcrypt},,"),
    ];
    std::fs::write(&csv, rows.join("\n")).unwrap();

    // A dry run writes nothing.
    let (ok, out, _) = run(cli(&app).args(["users", "import", "--dry-run"]).arg(&csv));
    assert!(ok, "{out}");
    assert!(out.contains("would import 4 users"), "{out}");
    let login = app
        .login(&app.browser(), "bea@example.com", "bcrypt user password")
        .await;
    assert_eq!(login.status(), 401, "a dry run imports nothing");
    // --strict refuses the whole file.
    let (ok, _, err) = run(cli(&app).args(["users", "import", "--strict"]).arg(&csv));
    assert!(!ok, "{err}");

    let (ok, out, err) = run(cli(&app).args(["users", "import"]).arg(&csv));
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("imported 4 users, 1 already existed, 5 rows refused"),
        "{out}"
    );
    for (line, reason) in [
        (6, "email"),
        (7, "unsupported hash"),
        (8, "unsupported hash"),
        (9, "no such org"),
        (10, "disabled"),
    ] {
        assert!(
            err.contains(&format!("line {line}: ")),
            "line {line} in {err}"
        );
        let reported = err
            .lines()
            .find(|l| l.starts_with(&format!("line {line}: ")))
            .unwrap();
        assert!(reported.contains(reason), "{reported}");
    }
    assert!(!err.contains("hunter2"), "a refused hash is not echoed");

    // Each user signs in with the password of the old system; the hash becomes Argon2id.
    for (email, password, legacy) in [
        ("bea@example.com", "bcrypt user password", "$2"),
        (
            "arno@example.com",
            "argon user password",
            "$argon2id$v=19$m=8192,t=1,p=1$",
        ),
        ("dj@example.com", DJANGO_PASSWORD, "pbkdf2_sha256$"),
    ] {
        assert!(
            stored_hash(&app, email).await.starts_with(legacy),
            "{email}"
        );
        let login = app.login(&app.browser(), email, password).await;
        assert_eq!(login.status(), 200, "{email}");
        let upgraded = stored_hash(&app, email).await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{email}: {upgraded}"
        );
    }
    let wrong = app
        .login(&app.browser(), "dj@example.com", "not the password at all")
        .await;
    assert_eq!(wrong.status(), 401);
    let disabled = app
        .login(&app.browser(), "gone@example.com", "bcrypt user password")
        .await;
    assert_eq!(disabled.status(), 401, "imported disabled");
    // The membership came along.
    let (_, token, _) = (
        0,
        app.tokens("bea@example.com", "bcrypt user password", "")
            .await
            .0,
        0,
    );
    let orgs: Value = app.get_json("/orgs", &token).await;
    assert_eq!(orgs["items"][0]["id"], org.as_str(), "{orgs}");
    assert_eq!(orgs["items"][0]["role"], "editor");

    // A re-run imports nothing new.
    let (ok, out, _) = run(cli(&app).args(["users", "import"]).arg(&csv));
    assert!(ok);
    assert!(out.contains("imported 0 users, 5 already existed"), "{out}");

    // JSON Lines too.
    let jsonl = dir.path().join("more.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{}\n{{not json\n",
            json!({"email": "jo@example.com", "display_name": "Jo", "password_hash": DJANGO_HASH})
        ),
    )
    .unwrap();
    let (ok, out, err) = run(cli(&app).args(["users", "import"]).arg(&jsonl));
    assert!(ok, "{err}");
    assert!(
        out.contains("imported 1 users, 0 already existed, 1 rows refused"),
        "{out}"
    );
    assert!(err.contains("line 2: not a JSON record"), "{err}");
    let login = app
        .login(&app.browser(), "jo@example.com", DJANGO_PASSWORD)
        .await;
    assert_eq!(login.status(), 200);

    // One audit event per batch, with the count.
    let admin = app.admin_token("auditor@example.com").await;
    let events: Value = app.get_json("/audit?action=user.import", &admin).await;
    let imported: i64 = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"]["imported"].as_i64().unwrap())
        .sum();
    assert_eq!(imported, 5, "{events}");
}

#[test]
fn policies_validate_accepts_the_shipped_sets_and_points_at_a_broken_one() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let bin = env!("CARGO_BIN_EXE_clouddocs");
    let ok = Command::new(bin)
        .args([
            "policies",
            "validate",
            &format!("{root}/policies/documents.cedar"),
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let pack = format!("{root}/examples/policies/learning-platform");
    let ok = Command::new(bin)
        .args([
            "policies",
            "validate",
            &format!("{pack}/policies.cedar"),
            "--schema",
        ])
        .arg(format!("{pack}/schema.cedarschema"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let tested = Command::new(bin)
        .args(["policies", "test", &pack])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&tested.stdout);
    assert!(tested.status.success(), "{out}");
    assert!(out.contains("17 of 17 scenarios pass"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.cedar");
    std::fs::write(
        &broken,
        "@id(\"ok\")\npermit (principal, action, resource);\n\npermit (principal, action == CloudDocs::Action::\"read\", resource)\nwhen { resource.no_such_attribute };\n",
    )
    .unwrap();
    let refused = Command::new(bin)
        .env("RUST_BACKTRACE", "0")
        .args(["policies", "validate"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("broken.cedar:5:8: error:"), "{err}");
    assert!(err.contains("no_such_attribute"), "{err}");

    // A scenario that disagrees fails the run.
    std::fs::copy(
        format!("{pack}/policies.cedar"),
        dir.path().join("policies.cedar"),
    )
    .unwrap();
    std::fs::copy(
        format!("{pack}/schema.cedarschema"),
        dir.path().join("schema.cedarschema"),
    )
    .unwrap();
    let mut scenarios: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{pack}/scenarios.json")).unwrap())
            .unwrap();
    scenarios["scenarios"][0]["expected"] = json!("deny");
    std::fs::write(dir.path().join("scenarios.json"), scenarios.to_string()).unwrap();
    let failed = Command::new(bin)
        .env("RUST_BACKTRACE", "0")
        .args(["policies", "test"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stdout).contains("16 of 17 scenarios pass"));
}

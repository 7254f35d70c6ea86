//! Tests of `config`.

use super::*;

#[test]
fn a_generated_secret_is_created_once_private_and_strong() {
    let dir = tempfile::tempdir().unwrap();
    let first = generated_secret(dir.path()).unwrap();
    let again = generated_secret(dir.path()).unwrap();
    assert_eq!(first, again, "the same secret on every start");
    assert!(validate_secret(Some(first), false).is_ok());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn weak_or_missing_secrets_are_refused_outside_dev() {
    assert!(validate_secret(None, false).is_err());
    assert!(validate_secret(Some("short".to_owned()), false).is_err());
    assert!(validate_secret(Some(DEV_SECRET.to_owned()), false).is_err());
    assert!(validate_secret(Some("a".repeat(40)), false).is_err());
    assert!(validate_secret(Some("Zq8!pL2#vN7@xR4$tW9%kM3^bH6&cJ1*".to_owned()), false).is_ok());
    assert!(validate_secret(None, true).is_ok());
}

fn dev_global() -> GlobalArgs {
    GlobalArgs {
        dev: Some(true),
        database_url: Some("sqlite::memory:".to_owned()),
        ..GlobalArgs::default()
    }
}

#[test]
fn tls_needs_both_certificate_and_key() {
    let global = dev_global();
    let cert_only = ServeArgs {
        tls_cert: Some(PathBuf::from("cert.pem")),
        ..ServeArgs::default()
    };
    let err = load(&global, Some(&cert_only)).expect_err("a certificate without key");
    assert!(err.to_string().contains("without its key"), "{err}");
    let key_only = ServeArgs {
        tls_key: Some(PathBuf::from("key.pem")),
        ..ServeArgs::default()
    };
    assert!(load(&global, Some(&key_only)).is_err());
    let both = ServeArgs {
        tls_cert: Some(PathBuf::from("cert.pem")),
        tls_key: Some(PathBuf::from("key.pem")),
        ..ServeArgs::default()
    };
    let config = load(&global, Some(&both)).expect("certificate and key");
    assert!(config.tls.is_some());
    assert!(config.public_url.starts_with("https://"));
    let plain = load(&global, Some(&ServeArgs::default())).expect("plain HTTP");
    assert!(plain.tls.is_none());
    assert!(plain.public_url.starts_with("http://"));
}

#[test]
fn cors_origins_must_be_exact() {
    let global = dev_global();
    let ok = ServeArgs {
        cors_origins: Some(vec![
            "https://a.example".to_owned(),
            " https://b.example:8443".to_owned(),
        ]),
        ..ServeArgs::default()
    };
    let config = load(&global, Some(&ok)).expect("exact origins");
    assert_eq!(
        config.cors_origins,
        ["https://a.example", "https://b.example:8443"]
    );
    for bad in ["*", "https://a.example/", "a.example"] {
        let args = ServeArgs {
            cors_origins: Some(vec![bad.to_owned()]),
            ..ServeArgs::default()
        };
        assert!(load(&global, Some(&args)).is_err(), "{bad} accepted");
    }
}

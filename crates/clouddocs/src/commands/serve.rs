//! `clouddocs serve`: run the HTTP server until Ctrl-C or SIGTERM.

use clouddocs_http::startup::{ServerSettings, build_state};
use clouddocs_http::{Application, HttpSettings};

use crate::config::Config;

pub(crate) fn settings(config: &Config) -> ServerSettings {
    let mut settings = ServerSettings::new(config.database_url.clone());
    let defaults = HttpSettings::default();
    settings.http = HttpSettings {
        max_connections: config
            .max_connections
            .unwrap_or(defaults.max_connections)
            .max(1),
        header_read_timeout: config
            .header_read_timeout_secs
            .map_or(defaults.header_read_timeout, |s| {
                std::time::Duration::from_secs(s.max(1))
            }),
        dev: config.dev,
        // HSTS whenever browsers reach us over TLS: built in, or terminated by a proxy
        hsts: config.behind_tls || config.tls.is_some(),
        cors_origins: config.cors_origins.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        rate_limits: config.rate_limits.clone(),
        ..defaults
    };
    settings.tokens.issuer = config.public_url.clone();
    settings.tokens.algorithm = config.jwt_alg;
    settings.secret = config.secret.clone();
    settings.redis_url = config.redis_url.clone();
    settings
}

pub(crate) async fn run(config: Config) -> anyhow::Result<()> {
    if config.dev {
        tracing::warn!("development mode: cookies without `Secure`; never use --dev in production");
    }
    if config.uses_dev_secret() {
        tracing::warn!("using the built-in development secret");
    }
    if config.jwt_alg.is_symmetric() {
        tracing::warn!(
            "HS256 signing: tokens cannot be verified by third parties through the JWKS"
        );
    }
    tracing::info!(data_dir = %config.data_dir.display(), "starting");
    // Held until the server stops: the in-process caches rely on being the only server.
    let _sole_server = lock_sqlite(&config.database_url)?;
    // Certificate problems fail the start before the database is touched
    let tls = match &config.tls {
        Some(files) => Some(clouddocs_http::tls::load(files).await?),
        None => None,
    };
    let state = build_state(&settings(&config)).await?;
    let app = match tls {
        Some(tls) => Application::bind_tls(config.bind, state.clone(), tls).await?,
        None => Application::bind(config.bind, state.clone()).await?,
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(address = %app.local_addr()?, scheme, "listening");
    app.run_until(shutdown_signal()).await?;
    state.svc.db().close().await;
    tracing::info!("stopped");
    Ok(())
}

/// A SQLite database is served by exactly one process: its caches and denylist mirror see
/// every write because every write is its own. An exclusive lock on `<database>.serve-lock`
/// makes a second `serve` on the same file fail at start instead of serving stale answers.
/// The admin commands (`users create`, `keys rotate`, `audit verify`) do not take it.
fn lock_sqlite(database_url: &str) -> anyhow::Result<Option<std::fs::File>> {
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return Ok(None);
    };
    let path = rest.trim_start_matches("//");
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if path.is_empty() || path == ":memory:" {
        return Ok(None);
    }
    let lock_path = format!("{path}.serve-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|err| anyhow::anyhow!("cannot open `{lock_path}`: {err}"))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
        |_| {
            anyhow::anyhow!(
                "another `clouddocs serve` is already serving `{path}`: a SQLite database has \
                 one server process (use PostgreSQL to run several nodes)"
            )
        },
    )?;
    Ok(Some(file))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, draining");
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::cli::{GlobalArgs, ServeArgs};

    fn http_settings(serve: &ServeArgs) -> HttpSettings {
        let global = GlobalArgs {
            dev: Some(true),
            database_url: Some("sqlite::memory:".to_owned()),
            ..GlobalArgs::default()
        };
        let config = crate::config::load(&global, Some(serve)).expect("configuration");
        settings(&config).http
    }

    #[test]
    fn hsts_only_when_browsers_reach_us_over_tls() {
        assert!(!http_settings(&ServeArgs::default()).hsts);
        let behind_tls = ServeArgs {
            behind_tls: Some(true),
            ..ServeArgs::default()
        };
        assert!(http_settings(&behind_tls).hsts);
        let built_in = ServeArgs {
            tls_cert: Some(PathBuf::from("cert.pem")),
            tls_key: Some(PathBuf::from("key.pem")),
            ..ServeArgs::default()
        };
        assert!(http_settings(&built_in).hsts);
    }

    #[test]
    fn cors_origins_reach_the_http_settings() {
        let serve = ServeArgs {
            cors_origins: Some(vec!["https://a.example".to_owned()]),
            ..ServeArgs::default()
        };
        assert_eq!(http_settings(&serve).cors_origins, ["https://a.example"]);
        assert!(http_settings(&ServeArgs::default()).cors_origins.is_empty());
    }

    #[test]
    fn trusted_proxies_and_rate_limits_reach_the_http_settings() {
        let serve = ServeArgs {
            trusted_proxies: Some("10.0.0.0/8, ::1".to_owned()),
            login_limit: Some("5/30".to_owned()),
            lockout_threshold: Some(3),
            ..ServeArgs::default()
        };
        let http = http_settings(&serve);
        assert_eq!(http.trusted_proxies.networks().len(), 2);
        assert_eq!(http.rate_limits.login_per_ip.burst, 5);
        assert_eq!(http.rate_limits.token_per_ip.per_seconds, 30);
        assert_eq!(http.rate_limits.lockout_threshold, 3);
        let defaults = http_settings(&ServeArgs::default());
        assert!(defaults.trusted_proxies.networks().is_empty());
        assert_eq!(defaults.rate_limits.per_account.burst, 5);
        let bad = ServeArgs {
            trusted_proxies: Some("10.0.0.0/99".to_owned()),
            ..ServeArgs::default()
        };
        let global = GlobalArgs {
            dev: Some(true),
            database_url: Some("sqlite::memory:".to_owned()),
            ..GlobalArgs::default()
        };
        assert!(crate::config::load(&global, Some(&bad)).is_err());
    }
}

//! `clouddocs serve`: run the HTTP server until Ctrl-C or SIGTERM.

use clouddocs_http::startup::{ServerSettings, build_state};
use clouddocs_http::{Application, HttpSettings};

use crate::config::Config;

pub(crate) fn settings(config: &Config) -> ServerSettings {
    let mut settings = ServerSettings::new(config.database_url.clone());
    settings.http = HttpSettings {
        dev: config.dev,
        hsts: config.behind_tls,
        ..HttpSettings::default()
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
    let state = build_state(&settings(&config)).await?;
    let app = Application::bind(config.bind, state.clone()).await?;
    tracing::info!(address = %app.local_addr()?, "listening");
    app.run_until(shutdown_signal()).await?;
    state.svc.db().close().await;
    tracing::info!("stopped");
    Ok(())
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

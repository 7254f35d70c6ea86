//! Configuration: built-in defaults, then `clouddocs.toml`, then `CLOUDDOCS_*` environment
//! variables and flags (clap reads both, flags first). Validated once, at load.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clouddocs_auth::jwt::SigningAlgorithm;
use clouddocs_http::rate_limit::{Limit, RateLimitSettings, TrustedProxies};
use clouddocs_http::tls::TlsFiles;
use clouddocs_service::bootstrap::DEV_SECRET;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::cli::{GlobalArgs, ServeArgs};

/// The settings file, every field optional
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    redis_url: Option<String>,
    dev: Option<bool>,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
    log_format: Option<String>,
    public_url: Option<String>,
    jwt_alg: Option<String>,
    bind: Option<SocketAddr>,
    behind_tls: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    cors_origins: Option<Vec<String>>,
    trusted_proxies: Option<String>,
    rate_limits: Option<FileRateLimits>,
}

/// `[rate_limits]` of the settings file
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRateLimits {
    login_limit: Option<String>,
    account_limit: Option<String>,
    client_credentials_limit: Option<String>,
    register_limit: Option<String>,
    lockout_threshold: Option<u32>,
    lockout_base_secs: Option<u64>,
}

/// The effective configuration
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) data_dir: PathBuf,
    pub(crate) database_url: String,
    pub(crate) redis_url: Option<String>,
    pub(crate) dev: bool,
    pub(crate) secret: SecretString,
    pub(crate) json_logs: bool,
    pub(crate) bind: SocketAddr,
    pub(crate) behind_tls: bool,
    /// Built-in TLS: certificate and key, both or neither
    pub(crate) tls: Option<TlsFiles>,
    /// Exact origins allowed by CORS (empty: no CORS)
    pub(crate) cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed
    pub(crate) trusted_proxies: TrustedProxies,
    /// Brute-force limits of the credential endpoints
    pub(crate) rate_limits: RateLimitSettings,
    /// Client connections served at once
    pub(crate) max_connections: Option<usize>,
    /// Seconds to send a request's headers
    pub(crate) header_read_timeout_secs: Option<u64>,
    pub(crate) public_url: String,
    pub(crate) jwt_alg: SigningAlgorithm,
}

fn read_file_config(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from("clouddocs.toml"), false),
    };
    if !path.exists() {
        if required {
            bail!("configuration file `{}` does not exist", path.display());
        }
        return Ok(FileConfig::default());
    }
    let settings = config::Config::builder()
        .add_source(config::File::from(path.as_path()))
        .build()
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    settings
        .try_deserialize()
        .with_context(|| format!("invalid configuration in `{}`", path.display()))
}

/// Merges the layers and validates the result
pub(crate) fn load(global: &GlobalArgs, serve: Option<&ServeArgs>) -> anyhow::Result<Config> {
    let file = read_file_config(global.config.as_deref())?;
    let dev = global.dev.or(file.dev).unwrap_or(false);
    let data_dir = global
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("clouddocs-data"));
    let database_url = match global.database_url.clone().or(file.database_url) {
        Some(url) => url,
        // Only `serve` creates a data dir: an admin command on a mistyped path would
        // otherwise act on a new, empty database and report success.
        None if serve.is_none() && !data_dir.is_dir() => bail!(
            "data directory `{}` does not exist: check --data-dir (or CLOUDDOCS_DATA_DIR), \
             or run `clouddocs serve` once to create it",
            data_dir.display()
        ),
        None => {
            std::fs::create_dir_all(&data_dir).with_context(|| {
                format!("cannot create data directory `{}`", data_dir.display())
            })?;
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("clouddocs.db").display()
            )
        }
    };
    let secret_file = global.secret_file.clone().or(file.secret_file);
    let secret = match (global.secret.clone().or(file.secret), secret_file) {
        (Some(s), _) => Some(s),
        (None, Some(path)) => Some(
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read secret file `{}`", path.display()))?
                .trim()
                .to_owned(),
        ),
        // A single node on SQLite keeps a generated secret next to its database, as it
        // keeps its generated signing keys; nodes sharing PostgreSQL must be given one.
        (None, None)
            if clouddocs_store::Backend::from_url(&database_url).ok()
                == Some(clouddocs_store::Backend::Sqlite) =>
        {
            check_secret_origin(&data_dir, dev)?;
            if dev {
                None
            } else {
                Some(generated_secret(&data_dir)?)
            }
        }
        (None, None) => None,
    };
    let secret = validate_secret(secret, dev)?;
    let log_format = global
        .log_format
        .clone()
        .or(file.log_format)
        .unwrap_or_else(|| "text".to_owned());
    let json_logs = match log_format.as_str() {
        "json" => true,
        "text" => false,
        other => bail!("log format must be `text` or `json`, not `{other}`"),
    };
    let default_bind = SocketAddr::from(([127, 0, 0, 1], 8080));
    let bind = serve
        .and_then(|s| s.bind)
        .or(file.bind)
        .unwrap_or(default_bind);
    let tls = tls_files(
        serve.and_then(|s| s.tls_cert.clone()).or(file.tls_cert),
        serve.and_then(|s| s.tls_key.clone()).or(file.tls_key),
    )?;
    let cors_origins = serve
        .and_then(|s| s.cors_origins.clone())
        .or(file.cors_origins)
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect::<Vec<_>>();
    for origin in &cors_origins {
        clouddocs_http::middleware::cors::parse_origin(origin)?;
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = global
        .public_url
        .clone()
        .or(file.public_url)
        .unwrap_or_else(|| format!("{scheme}://{bind}"))
        .trim_end_matches('/')
        .to_owned();
    if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
        bail!(
            "public url must start with `https://` (or `http://` for local use), not `{public_url}`"
        );
    }
    let jwt_alg: SigningAlgorithm = global
        .jwt_alg
        .clone()
        .or(file.jwt_alg)
        .unwrap_or_else(|| "EdDSA".to_owned())
        .parse()
        .map_err(|_| {
            anyhow::anyhow!("jwt algorithm must be one of `EdDSA`, `ES256`, `RS256`, `HS256`")
        })?;
    let (trusted_proxies, rate_limits) = brute_force_settings(
        serve,
        file.trusted_proxies,
        file.rate_limits.unwrap_or_default(),
    )?;
    Ok(Config {
        trusted_proxies,
        rate_limits,
        max_connections: serve.and_then(|s| s.max_connections),
        header_read_timeout_secs: serve.and_then(|s| s.header_read_timeout_secs),
        data_dir,
        database_url,
        redis_url: global.redis_url.clone().or(file.redis_url),
        dev,
        secret,
        json_logs,
        bind,
        public_url,
        jwt_alg,
        tls,
        cors_origins,
        behind_tls: serve
            .and_then(|s| s.behind_tls)
            .or(file.behind_tls)
            .unwrap_or(false),
    })
}

/// Built-in TLS needs both a certificate and its key
fn tls_files(cert: Option<PathBuf>, key: Option<PathBuf>) -> anyhow::Result<Option<TlsFiles>> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        (None, None) => Ok(None),
        (Some(_), None) => bail!("a TLS certificate was given without its key: set --tls-key too"),
        (None, Some(_)) => bail!("a TLS key was given without its certificate: set --tls-cert too"),
    }
}

/// Trusted proxies and rate limits: flag or env, else the file, else the defaults
fn brute_force_settings(
    serve: Option<&ServeArgs>,
    file_proxies: Option<String>,
    file: FileRateLimits,
) -> anyhow::Result<(TrustedProxies, RateLimitSettings)> {
    let proxies = serve
        .and_then(|s| s.trusted_proxies.clone())
        .or(file_proxies)
        .unwrap_or_default();
    let proxies = TrustedProxies::parse_list(&proxies).context("invalid trusted proxies")?;
    let mut limits = RateLimitSettings::default();
    let pick = |flag: Option<&String>, file: Option<String>, name: &str, default: Limit| {
        flag.cloned()
            .or(file)
            .map_or(Ok(default), |v| parse_limit(&v, name))
    };
    limits.login_per_ip = pick(
        serve.and_then(|s| s.login_limit.as_ref()),
        file.login_limit,
        "login limit",
        limits.login_per_ip,
    )?;
    limits.token_per_ip = limits.login_per_ip;
    limits.per_account = pick(
        serve.and_then(|s| s.account_limit.as_ref()),
        file.account_limit,
        "account limit",
        limits.per_account,
    )?;
    limits.client_credentials_per_client = pick(
        serve.and_then(|s| s.client_credentials_limit.as_ref()),
        file.client_credentials_limit,
        "client credentials limit",
        limits.client_credentials_per_client,
    )?;
    limits.register_per_ip = pick(
        serve.and_then(|s| s.register_limit.as_ref()),
        file.register_limit,
        "register limit",
        limits.register_per_ip,
    )?;
    if let Some(n) = serve
        .and_then(|s| s.lockout_threshold)
        .or(file.lockout_threshold)
    {
        limits.lockout_threshold = n;
    }
    if let Some(n) = serve
        .and_then(|s| s.lockout_base_secs)
        .or(file.lockout_base_secs)
    {
        limits.lockout_base_secs = n;
    }
    Ok((proxies, limits))
}

/// `BURST/SECONDS`, e.g. `20/60`
fn parse_limit(value: &str, name: &str) -> anyhow::Result<Limit> {
    let parsed = value
        .split_once('/')
        .and_then(|(b, s)| Some((b.trim().parse().ok()?, s.trim().parse().ok()?)));
    match parsed {
        Some((burst, per_seconds)) => Ok(Limit { burst, per_seconds }),
        None => bail!("{name} must be `BURST/SECONDS` such as `20/60`, not `{value}`"),
    }
}

/// Refuses, before anything is written, a SQLite data dir whose keys were sealed with
/// another secret than the one this run would use: a database without a `secret` file
/// beside it was made with `--dev` (or an explicit secret), and one with a `secret` file
/// was made without `--dev`.
fn check_secret_origin(data_dir: &Path, dev: bool) -> anyhow::Result<()> {
    let has_db = data_dir.join("clouddocs.db").exists();
    let has_secret = data_dir.join("secret").exists();
    if has_db && !has_secret && !dev {
        bail!(
            "data directory `{}` was created with --dev or with an explicit server secret \
             (it has a database but no `secret` file): pass --dev, or the secret it was \
             created with (--secret, --secret-file or CLOUDDOCS_SECRET)",
            data_dir.display()
        );
    }
    if has_secret && dev {
        bail!(
            "data directory `{}` was created without --dev: its keys are sealed with the \
             secret in `{}`; run without --dev, or pass --secret-file {}",
            data_dir.display(),
            data_dir.join("secret").display(),
            data_dir.join("secret").display()
        );
    }
    Ok(())
}

/// Reads `DATA_DIR/secret`, creating it (256 random bits, mode 0600) on first start
fn generated_secret(data_dir: &Path) -> anyhow::Result<String> {
    use std::io::Write as _;
    let path = data_dir.join("secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_owned());
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory `{}`", data_dir.display()))?;
    let secret = clouddocs_auth::token::random_token(32).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot create secret file `{}`", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(secret)
}

/// Refuses a missing, short or well-known secret outside `--dev`
fn validate_secret(secret: Option<String>, dev: bool) -> anyhow::Result<SecretString> {
    let weak = |s: &str| {
        s.chars().count() < 32
            || s == DEV_SECRET
            || ["changeme", "secret", "password"]
                .iter()
                .any(|w| s.to_lowercase().contains(w))
            || s.chars().collect::<std::collections::HashSet<_>>().len() < 8
    };
    match secret {
        Some(s) if !weak(&s) => Ok(SecretString::from(s)),
        Some(_) if !dev => bail!(
            "the server secret is weak: use at least 32 random characters (for example \
             `openssl rand -base64 48`), or run with --dev"
        ),
        None if !dev => bail!(
            "no server secret: set CLOUDDOCS_SECRET or CLOUDDOCS_SECRET_FILE (at least 32 random \
             characters), or run with --dev"
        ),
        Some(s) => Ok(SecretString::from(s)),
        None => Ok(SecretString::from(DEV_SECRET)),
    }
}

impl Config {
    /// Whether the secret is the built-in development one
    pub(crate) fn uses_dev_secret(&self) -> bool {
        self.secret.expose_secret() == DEV_SECRET
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

//! Configuration: built-in defaults, then `clouddocs.toml`, then `CLOUDDOCS_*` environment
//! variables and flags (clap reads both, flags first). Validated once, at load.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clouddocs_auth::jwt::SigningAlgorithm;
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
    pub(crate) public_url: String,
    pub(crate) jwt_alg: SigningAlgorithm,
}

const DEV_SECRET: &str = "clouddocs-development-secret-do-not-use-in-production";

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
    let public_url = global
        .public_url
        .clone()
        .or(file.public_url)
        .unwrap_or_else(|| format!("http://{bind}"))
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
    Ok(Config {
        data_dir,
        database_url,
        redis_url: global.redis_url.clone().or(file.redis_url),
        dev,
        secret,
        json_logs,
        bind,
        public_url,
        jwt_alg,
        behind_tls: serve
            .and_then(|s| s.behind_tls)
            .or(file.behind_tls)
            .unwrap_or(false),
    })
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
mod tests {
    use super::*;

    #[test]
    fn weak_or_missing_secrets_are_refused_outside_dev() {
        assert!(validate_secret(None, false).is_err());
        assert!(validate_secret(Some("short".to_owned()), false).is_err());
        assert!(validate_secret(Some(DEV_SECRET.to_owned()), false).is_err());
        assert!(validate_secret(Some("a".repeat(40)), false).is_err());
        assert!(
            validate_secret(Some("Zq8!pL2#vN7@xR4$tW9%kM3^bH6&cJ1*".to_owned()), false).is_ok()
        );
        assert!(validate_secret(None, true).is_ok());
    }
}

//! Command-line interface: `serve` and the admin commands of the same binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// CloudDocs: document sharing with a complete authentication, authorization and audit stack
#[derive(Debug, Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options shared by every command. Precedence: flag > `CLOUDDOCS_*` env > `clouddocs.toml`
/// > built-in default.
#[derive(Debug, Args, Default)]
pub(crate) struct GlobalArgs {
    /// Configuration file (default: ./clouddocs.toml when it exists)
    #[arg(long, global = true, env = "CLOUDDOCS_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Directory for the SQLite database and generated keys [default: ./clouddocs-data]
    #[arg(long, global = true, env = "CLOUDDOCS_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// PostgreSQL URL (`postgres://…`); SQLite in the data directory when absent
    #[arg(long, global = true, env = "CLOUDDOCS_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// Redis URL for shared denylist and rate limits across nodes
    #[arg(long, global = true, env = "CLOUDDOCS_REDIS_URL")]
    pub(crate) redis_url: Option<String>,
    /// Development mode: plain-HTTP cookies on localhost, weak secrets tolerated
    #[arg(long, global = true, env = "CLOUDDOCS_DEV", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub(crate) dev: Option<bool>,
    /// Server secret (at least 32 characters) used to encrypt signing keys at rest
    #[arg(long, global = true, env = "CLOUDDOCS_SECRET", hide_env_values = true)]
    pub(crate) secret: Option<String>,
    /// File holding the server secret (instead of `--secret`)
    #[arg(long, global = true, env = "CLOUDDOCS_SECRET_FILE")]
    pub(crate) secret_file: Option<PathBuf>,
    /// Public base URL of this server: the `iss` of every token [default: http://BIND]
    #[arg(long, global = true, env = "CLOUDDOCS_PUBLIC_URL")]
    pub(crate) public_url: Option<String>,
    /// Algorithm for new signing keys: `EdDSA` (default), `ES256`, `RS256`, or `HS256` (explicit opt-in)
    #[arg(long, global = true, env = "CLOUDDOCS_JWT_ALG")]
    pub(crate) jwt_alg: Option<String>,
    /// Log format: `text` or `json`
    #[arg(long, global = true, env = "CLOUDDOCS_LOG_FORMAT")]
    pub(crate) log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP server
    Serve(ServeArgs),
    /// Manage users
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage signing keys
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a new current signing key; old public keys stay in the JWKS until their tokens expire
    Rotate,
}

#[derive(Debug, Args, Default)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "CLOUDDOCS_BIND")]
    pub(crate) bind: Option<SocketAddr>,
    /// Send HSTS (set when a TLS-terminating proxy is in front)
    #[arg(long, env = "CLOUDDOCS_BEHIND_TLS", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub(crate) behind_tls: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// Create a user; the password is read from stdin
    Create {
        /// Email address
        #[arg(long)]
        email: String,
        /// Display name [default: the email's local part]
        #[arg(long)]
        display_name: Option<String>,
        /// Make the user a platform admin
        #[arg(long)]
        admin: bool,
    },
}

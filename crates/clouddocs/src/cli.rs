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
    Serve(Box<ServeArgs>),
    /// Manage users
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage signing keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check Cedar policies offline, as a team's own CI would
    #[command(subcommand)]
    Policies(PoliciesCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum PoliciesCommand {
    /// Validate a policy set as `PUT /admin/policies` does (exit 1 with line and column)
    Validate {
        /// The Cedar policy file
        file: PathBuf,
        /// Extra schema namespaces (an application's own types), as `PUT /admin/policies`'s `schema`
        #[arg(long)]
        schema: Option<PathBuf>,
    },
    /// Run a pack's scenarios (`DIR/scenarios.json`) against its policies
    /// (`DIR/policies.cedar`, `DIR/schema.cedarschema`); exit 1 if any disagrees
    Test {
        /// The pack's directory
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Recompute the hash chain and name the first broken or missing link (exit 1 if broken)
    Verify,
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
    /// Serve HTTPS with this PEM certificate chain (needs `--tls-key`; turns HSTS on)
    #[arg(long, env = "CLOUDDOCS_TLS_CERT")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key for `--tls-cert`
    #[arg(long, env = "CLOUDDOCS_TLS_KEY")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Origins allowed by CORS, comma-separated and exact (`https://app.example.com`);
    /// none by default, so cross-origin browsers are refused
    #[arg(long, env = "CLOUDDOCS_CORS_ORIGINS", value_delimiter = ',')]
    pub(crate) cors_origins: Option<Vec<String>>,
    /// Proxies whose `X-Forwarded-For` is believed, comma-separated CIDR networks
    /// (`10.0.0.0/8,::1/128`); none by default, so the TCP peer is the client
    #[arg(long, env = "CLOUDDOCS_TRUSTED_PROXIES")]
    pub(crate) trusted_proxies: Option<String>,
    /// Failed sign-in and token requests per client address, `BURST/SECONDS`
    /// [default: 20/60]; successful ones give their token back
    #[arg(long, env = "CLOUDDOCS_LOGIN_LIMIT")]
    pub(crate) login_limit: Option<String>,
    /// Failed password sign-ins (login and `password` grant) per account, `BURST/SECONDS`
    /// [default: 5/60]
    #[arg(long, env = "CLOUDDOCS_ACCOUNT_LIMIT")]
    pub(crate) account_limit: Option<String>,
    /// Successful `client_credentials` grants per client, `BURST/SECONDS` [default: 100/2,
    /// 50 per second]
    #[arg(long, env = "CLOUDDOCS_CLIENT_CREDENTIALS_LIMIT")]
    pub(crate) client_credentials_limit: Option<String>,
    /// Registrations per client address, `BURST/SECONDS` [default: 10/3600]
    #[arg(long, env = "CLOUDDOCS_REGISTER_LIMIT")]
    pub(crate) register_limit: Option<String>,
    /// Client connections served at once; one over the cap is closed on accept
    /// [default: 4096]
    #[arg(long, env = "CLOUDDOCS_MAX_CONNECTIONS")]
    pub(crate) max_connections: Option<usize>,
    /// Seconds a client may take to send a request's headers before its connection is
    /// closed [default: 10]
    #[arg(long, env = "CLOUDDOCS_HEADER_READ_TIMEOUT_SECS")]
    pub(crate) header_read_timeout_secs: Option<u64>,
    /// Consecutive failures that lock an account [default: 5]
    #[arg(long, env = "CLOUDDOCS_LOCKOUT_THRESHOLD")]
    pub(crate) lockout_threshold: Option<u32>,
    /// First lock in seconds, doubling with each further failure up to 15 minutes [default: 30]
    #[arg(long, env = "CLOUDDOCS_LOCKOUT_BASE_SECS")]
    pub(crate) lockout_base_secs: Option<u64>,
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
    /// Import users from CSV or JSON Lines: `email, display_name, password_hash, [disabled],
    /// [orgs]` with bcrypt, Argon2 or Django `pbkdf2_sha256` hashes, upgraded to Argon2id at
    /// each user's first sign-in. Existing emails are skipped, so a re-run imports nothing new.
    Import {
        /// The file (`.csv`, or `.jsonl`/`.ndjson`)
        file: PathBuf,
        /// `csv` or `jsonl` [default: by the file's extension]
        #[arg(long)]
        format: Option<String>,
        /// Validate and count; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Abort before writing anything if any row is refused
        #[arg(long)]
        strict: bool,
    },
}

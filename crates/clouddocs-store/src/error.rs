//! Storage errors, with database constraint violations mapped to names in one place.

/// What went wrong in storage
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist
    #[error("not found")]
    NotFound,
    /// A uniqueness or foreign-key constraint refused the write
    #[error("constraint `{constraint}` violated")]
    Conflict {
        /// The constraint's name, identical on both backends
        constraint: &'static str,
    },
    /// A stored value could not be read back (corrupt row or schema drift)
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
    /// Redis is unreachable or failed
    #[error("redis unavailable")]
    Redis(#[source] redis::RedisError),
    /// The database is unreachable or failed
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The storage configuration cannot work (e.g. a database URL of an unknown scheme)
    #[error("invalid storage configuration: {0}")]
    Config(&'static str),
    /// A schema migration failed
    #[error("schema migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether a dependency is down (worth retrying), rather than a bug or bad data
    pub fn is_outage(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Redis(_))
    }
}

/// Unique constraints, by the name PostgreSQL reports and the `table.column` SQLite reports
const UNIQUE_CONSTRAINTS: &[(&str, &str)] = &[
    ("users_email_key", "users.email"),
    ("users_email_skeleton_key", "users.email_skeleton"),
    ("sessions_token_hash_key", "sessions.token_hash"),
    ("refresh_tokens_token_hash_key", "refresh_tokens.token_hash"),
    ("api_keys_prefix_key", "api_keys.prefix"),
    (
        "memberships_pkey",
        "memberships.org_id, memberships.user_id",
    ),
    (
        "document_shares_pkey",
        "document_shares.document_id, document_shares.user_id",
    ),
    ("audit_events_pkey", "audit_events.seq"),
];

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let message = db.message();
                let named = db.constraint();
                UNIQUE_CONSTRAINTS
                    .iter()
                    .find(|(pg, sqlite)| named == Some(*pg) || message.ends_with(sqlite))
                    .map(|(pg, _)| StoreError::Conflict { constraint: pg })
                    .unwrap_or(StoreError::Conflict {
                        constraint: "unique",
                    })
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Conflict {
                constraint: "foreign_key",
            },
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(err.to_string())
            }
            _ => StoreError::Unavailable(err),
        }
    }
}

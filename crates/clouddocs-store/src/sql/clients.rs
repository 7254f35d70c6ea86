//! Registered OAuth clients. Secrets are stored as SHA-256 digests only.

use sqlx::AnyConnection;

use crate::StoreError;

/// A stored OAuth client
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    /// The client id
    pub id: String,
    /// Display name
    pub name: String,
    /// Digest of the secret (confidential clients only)
    pub secret_hash: Option<String>,
    /// Registered redirect URIs, JSON array
    pub redirect_uris: String,
    /// Allowed grant types, space-separated
    pub grant_types: String,
    /// Allowed scopes, space-separated
    pub scopes: String,
    confidential: i64,
    /// Registration time
    pub created_at: i64,
}

impl ClientRow {
    /// A row ready to insert
    #[expect(
        clippy::too_many_arguments,
        reason = "a plain row constructor, one argument per column"
    )]
    pub fn new(
        id: String,
        name: String,
        secret_hash: Option<String>,
        redirect_uris: String,
        grant_types: String,
        scopes: String,
        confidential: bool,
        now: i64,
    ) -> Self {
        Self {
            id,
            name,
            secret_hash,
            redirect_uris,
            grant_types,
            scopes,
            confidential: i64::from(confidential),
            created_at: now,
        }
    }

    /// Whether the client authenticates with a secret
    pub fn confidential(&self) -> bool {
        super::flag(self.confidential)
    }
}

const COLUMNS: &str =
    "id, name, secret_hash, redirect_uris, grant_types, scopes, confidential, created_at";

/// Registers a client
pub async fn insert(conn: &mut AnyConnection, c: &ClientRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, grant_types, scopes, confidential, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id)
    .bind(&c.name)
    .bind(&c.secret_hash)
    .bind(&c.redirect_uris)
    .bind(&c.grant_types)
    .bind(&c.scopes)
    .bind(c.confidential)
    .bind(c.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a client
pub async fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<ClientRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM oauth_clients WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Every client, oldest first
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<ClientRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM oauth_clients ORDER BY created_at, id"
    )))
    .fetch_all(conn)
    .await?)
}

/// Deletes a client; false when there was none
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

//! API keys: looked up by their public prefix, verified by digest, never stored in clear.

use sqlx::AnyConnection;

use crate::StoreError;

/// A stored API key
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    /// Key id
    pub id: String,
    /// Owner
    pub user_id: String,
    /// Label chosen by the owner
    pub name: String,
    /// Public lookup prefix (part of the key, shown in lists)
    pub prefix: String,
    /// SHA-256 (hex) of the whole key
    pub key_hash: String,
    /// Granted scopes (space-separated)
    pub scopes: String,
    /// Creation time
    pub created_at: i64,
    /// Expiry, if any
    pub expires_at: Option<i64>,
    /// Last successful use
    pub last_used_at: Option<i64>,
    /// Revocation time
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str =
    "id, user_id, name, prefix, key_hash, scopes, created_at, expires_at, last_used_at, revoked_at";

/// Stores a new key
pub async fn insert(conn: &mut AnyConnection, k: &ApiKeyRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at, expires_at, last_used_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)",
    )
    .bind(&k.id)
    .bind(&k.user_id)
    .bind(&k.name)
    .bind(&k.prefix)
    .bind(&k.key_hash)
    .bind(&k.scopes)
    .bind(k.created_at)
    .bind(k.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a key by its prefix
pub async fn find_by_prefix(
    conn: &mut AnyConnection,
    prefix: &str,
) -> Result<Option<ApiKeyRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE prefix = $1"
    )))
    .bind(prefix)
    .fetch_optional(conn)
    .await?)
}

/// The user's keys, newest first (revoked ones excluded)
pub async fn list_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<ApiKeyRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC"
    )))
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// Records a use
pub async fn touch(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes one key of the user; false when the user has no such live key
pub async fn revoke(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every key of the user
pub async fn revoke_all_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

//! The revocation denylist in SQL: a key (`jti:…`, `fam:…`) is kept only until the tokens
//! it blocks have expired.

use sqlx::AnyConnection;

use crate::StoreError;

/// Adds (or extends) a denylist entry
pub async fn insert(
    conn: &mut AnyConnection,
    key: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO revoked_tokens (key, expires_at) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET expires_at = CASE WHEN revoked_tokens.expires_at > excluded.expires_at \
         THEN revoked_tokens.expires_at ELSE excluded.expires_at END",
    )
    .bind(key)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether any of up to three keys is denylisted now
pub async fn any_live(
    conn: &mut AnyConnection,
    keys: [&str; 3],
    now: i64,
) -> Result<bool, StoreError> {
    let [first, second, third] = keys;
    let hit: Option<(i64,)> = sqlx::query_as(
        "SELECT expires_at FROM revoked_tokens WHERE key IN ($1, $2, $3) AND expires_at > $4 LIMIT 1",
    )
    .bind(first)
    .bind(second)
    .bind(third)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(hit.is_some())
}

/// Every entry still live at `now`, with its expiry
pub async fn live(conn: &mut AnyConnection, now: i64) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT key, expires_at FROM revoked_tokens WHERE expires_at > $1")
            .bind(now)
            .fetch_all(conn)
            .await?,
    )
}

/// Drops entries whose tokens have all expired (housekeeping)
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

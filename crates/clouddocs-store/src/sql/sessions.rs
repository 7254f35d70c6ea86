//! Server-side browser sessions. Only SHA-256 digests of the cookie secret and the CSRF
//! token are stored, so a database leak does not leak live sessions.

use sqlx::AnyConnection;

use crate::StoreError;

/// A stored session
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    /// The public id (shown in `GET /me/sessions`)
    pub id: String,
    /// SHA-256 (hex) of the cookie secret
    pub token_hash: String,
    /// SHA-256 (hex) of the CSRF token
    pub csrf_hash: String,
    /// The signed-in user
    pub user_id: String,
    /// Sign-in time
    pub created_at: i64,
    /// Last request (updated at most once a minute)
    pub last_seen_at: i64,
    /// Absolute expiry
    pub expires_at: i64,
    /// Client address at sign-in
    pub ip: Option<String>,
    /// Client user agent at sign-in
    pub user_agent: Option<String>,
    /// What the sign-in proved: RFC 8176 `amr` values, space-separated
    pub amr: String,
}

const COLUMNS: &str =
    "id, token_hash, csrf_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, amr";

/// Stores a new session
pub async fn insert(conn: &mut AnyConnection, s: &SessionRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, csrf_hash, user_id, created_at, last_seen_at, \
         expires_at, ip, user_agent, amr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&s.id)
    .bind(&s.token_hash)
    .bind(&s.csrf_hash)
    .bind(&s.user_id)
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .bind(&s.ip)
    .bind(&s.user_agent)
    .bind(&s.amr)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a session by the digest of its cookie secret
pub async fn find_by_token_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<SessionRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sessions WHERE token_hash = $1"
    )))
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

/// Records what the session's sign-in has proved (a factor enrolled from it)
pub async fn set_amr(conn: &mut AnyConnection, id: &str, amr: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET amr = $1 WHERE id = $2")
        .bind(amr)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records activity, for the idle timeout
pub async fn touch(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The user's live sessions, newest first
pub async fn list_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    now: i64,
) -> Result<Vec<SessionRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND expires_at > $2 \
         ORDER BY created_at DESC, id DESC"
    )))
    .bind(user_id)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Deletes one session of the user; false when there was none
pub async fn delete(conn: &mut AnyConnection, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes every session of the user except `keep`; returns how many ended
pub async fn delete_all_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    keep: Option<&str>,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
        .bind(user_id)
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Removes expired sessions (housekeeping)
pub async fn delete_expired(conn: &mut AnyConnection, now: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

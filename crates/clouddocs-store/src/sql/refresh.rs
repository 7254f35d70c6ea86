//! Refresh-token families: one per login, rotated on every use, revoked as a whole on reuse.

use sqlx::AnyConnection;

use crate::StoreError;

/// A family of refresh tokens descending from one login
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FamilyRow {
    /// Family id (also the access tokens' `sid` claim)
    pub id: String,
    /// The user
    pub user_id: String,
    /// The OAuth client, if any
    pub client_id: Option<String>,
    /// Granted scopes (space-separated)
    pub scope: String,
    /// Login time
    pub created_at: i64,
    /// Absolute end of the family
    pub expires_at: i64,
    /// Revocation time, if revoked
    pub revoked_at: Option<i64>,
    /// Why it was revoked
    pub revoked_reason: Option<String>,
    /// What the sign-in proved: RFC 8176 `amr` values, space-separated
    pub amr: String,
    /// When the user authenticated, if not at `created_at` (an authorization code's session)
    pub auth_time: Option<i64>,
}

/// A refresh token and its family, as found by its digest
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PresentedToken {
    /// Token row id
    pub token_id: String,
    /// When it was used (rotated), if it was
    pub used_at: Option<i64>,
    /// Family id
    pub family_id: String,
    /// The user
    pub user_id: String,
    /// The OAuth client, if any
    pub client_id: Option<String>,
    /// Granted scopes
    pub scope: String,
    /// Family absolute expiry
    pub expires_at: i64,
    /// Family revocation time
    pub revoked_at: Option<i64>,
    /// What the sign-in proved (`amr`, space-separated)
    pub amr: String,
    /// When the user authenticated (unix milliseconds)
    pub auth_time: i64,
}

/// A live family as the owner's device list shows it
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveFamily {
    /// Family id
    pub id: String,
    /// The OAuth client, if any
    pub client_id: Option<String>,
    /// Granted scopes (space-separated)
    pub scope: String,
    /// Login time
    pub created_at: i64,
    /// Last rotation (the newest refresh token's issue time)
    pub last_used_at: i64,
    /// Absolute end of the family
    pub expires_at: i64,
}

/// The user's live (unrevoked, unexpired) families, newest first
pub async fn list_live_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    now: i64,
) -> Result<Vec<LiveFamily>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT f.id, f.client_id, f.scope, f.created_at, \
         COALESCE((SELECT MAX(t.created_at) FROM refresh_tokens t WHERE t.family_id = f.id), f.created_at) AS last_used_at, \
         f.expires_at FROM refresh_families f \
         WHERE f.user_id = $1 AND f.revoked_at IS NULL AND f.expires_at > $2 \
         ORDER BY f.created_at DESC, f.id DESC",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Whether `family_id` is a live family of `user_id`
pub async fn is_live_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    family_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM refresh_families WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(family_id)
    .bind(user_id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Creates a family
pub async fn insert_family(conn: &mut AnyConnection, f: &FamilyRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_families (id, user_id, client_id, scope, created_at, expires_at, revoked_at, revoked_reason, amr, auth_time) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7, $8)",
    )
    .bind(&f.id)
    .bind(&f.user_id)
    .bind(&f.client_id)
    .bind(&f.scope)
    .bind(f.created_at)
    .bind(f.expires_at)
    .bind(&f.amr)
    .bind(f.auth_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds a (digest of a) refresh token to a family
pub async fn insert_token(
    conn: &mut AnyConnection,
    id: &str,
    family_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO refresh_tokens (id, family_id, token_hash, created_at, used_at) VALUES ($1, $2, $3, $4, NULL)")
        .bind(id)
        .bind(family_id)
        .bind(token_hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Looks a presented refresh token up by digest
pub async fn find_presented(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<PresentedToken>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT t.id AS token_id, t.used_at, f.id AS family_id, f.user_id, f.client_id, f.scope, \
         f.expires_at, f.revoked_at, f.amr, COALESCE(f.auth_time, f.created_at) AS auth_time \
         FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
         WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

/// Marks a token used, only if it was not used before. Exactly one of any number of
/// concurrent callers gets `true`: the conditional UPDATE is the arbiter.
pub async fn claim(conn: &mut AnyConnection, token_id: &str, now: i64) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(token_id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes a family; returns false when it already was
pub async fn revoke_family(
    conn: &mut AnyConnection,
    family_id: &str,
    reason: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(family_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live family of a user, returning their ids (for the denylist)
pub async fn revoke_all_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    reason: &str,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM refresh_families WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(reason)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

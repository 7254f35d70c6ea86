//! OpenID Connect provider state: per-client ID-token settings, ID-token signing keys,
//! authorization codes (stored as SHA-256 digests, single-use) and remembered consent.

use sqlx::AnyConnection;

use super::keys::SigningKeyRow;
use crate::StoreError;

/// OpenID Connect settings of a registered client
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientOidcRow {
    first_party: i64,
    /// `RS256` (default) or `EdDSA`
    pub id_token_alg: String,
}

impl ClientOidcRow {
    /// Whether the client belongs to this deployment, so its users need not consent
    pub fn first_party(&self) -> bool {
        super::flag(self.first_party)
    }
}

/// The OpenID Connect settings of a client
pub async fn client_settings(
    conn: &mut AnyConnection,
    client_id: &str,
) -> Result<Option<ClientOidcRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT first_party, id_token_alg FROM oauth_clients WHERE id = $1")
            .bind(client_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Sets the OpenID Connect settings of a client
pub async fn set_client_settings(
    conn: &mut AnyConnection,
    client_id: &str,
    first_party: bool,
    id_token_alg: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE oauth_clients SET first_party = $1, id_token_alg = $2 WHERE id = $3")
        .bind(i64::from(first_party))
        .bind(id_token_alg)
        .bind(client_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every ID-token signing key, oldest first (the newest signs)
pub async fn list_id_token_keys(
    conn: &mut AnyConnection,
) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT kid, alg, sealed_private, public_jwk, is_current, created_at, retired_at \
         FROM id_token_keys ORDER BY created_at, kid",
    )
    .fetch_all(conn)
    .await?)
}

/// Stores a new ID-token signing key
pub async fn insert_id_token_key(
    conn: &mut AnyConnection,
    key: &SigningKeyRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO id_token_keys (kid, alg, sealed_private, public_jwk, is_current, created_at, retired_at) \
         VALUES ($1, $2, $3, $4, 1, $5, NULL)",
    )
    .bind(&key.kid)
    .bind(&key.alg)
    .bind(&key.sealed_private)
    .bind(&key.public_jwk)
    .bind(key.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// An authorization code and everything it is bound to
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthCodeRow {
    /// SHA-256 (hex) of the code
    pub code_hash: String,
    /// The client it was issued to
    pub client_id: String,
    /// The user who authorized it
    pub user_id: String,
    /// The exact redirect URI of the authorization request
    pub redirect_uri: String,
    /// PKCE S256 challenge
    pub code_challenge: String,
    /// OpenID Connect nonce
    pub nonce: Option<String>,
    /// Granted scopes, space-separated
    pub scope: String,
    /// When the user authenticated (unix milliseconds)
    pub auth_time: i64,
    /// Issue time
    pub created_at: i64,
    /// Expiry
    pub expires_at: i64,
    /// When it was exchanged
    pub used_at: Option<i64>,
    /// The refresh family issued from it
    pub family_id: Option<String>,
    /// What the session's sign-in proved (`amr`, space-separated)
    pub amr: String,
}

/// Stores a new code
pub async fn insert_code(conn: &mut AnyConnection, c: &AuthCodeRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, \
         nonce, scope, auth_time, created_at, expires_at, used_at, family_id, amr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11)",
    )
    .bind(&c.code_hash)
    .bind(&c.client_id)
    .bind(&c.user_id)
    .bind(&c.redirect_uri)
    .bind(&c.code_challenge)
    .bind(&c.nonce)
    .bind(&c.scope)
    .bind(c.auth_time)
    .bind(c.created_at)
    .bind(c.expires_at)
    .bind(&c.amr)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a code by its digest
pub async fn find_code(
    conn: &mut AnyConnection,
    code_hash: &str,
) -> Result<Option<AuthCodeRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT code_hash, client_id, user_id, redirect_uri, code_challenge, nonce, scope, \
         auth_time, created_at, expires_at, used_at, family_id, amr FROM oauth_codes WHERE code_hash = $1",
    )
    .bind(code_hash)
    .fetch_optional(conn)
    .await?)
}

/// Marks an unused code used; false when it was already used (a replay)
pub async fn claim_code(
    conn: &mut AnyConnection,
    code_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(code_hash)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Records the refresh family issued from a code
pub async fn set_code_family(
    conn: &mut AnyConnection,
    code_hash: &str,
    family_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE oauth_codes SET family_id = $1 WHERE code_hash = $2")
        .bind(family_id)
        .bind(code_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes codes that expired before `before`
pub async fn purge_codes(conn: &mut AnyConnection, before: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1")
        .bind(before)
        .execute(conn)
        .await?
        .rows_affected())
}

/// The scopes a user has consented to for a client, space-separated
pub async fn consent(
    conn: &mut AnyConnection,
    user_id: &str,
    client_id: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT scope FROM oauth_consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id)
            .bind(client_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(scope,)| scope))
}

/// Remembers (replaces) what a user consented to for a client
pub async fn save_consent(
    conn: &mut AnyConnection,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oauth_consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(scope)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

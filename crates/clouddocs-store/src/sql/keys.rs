//! JWT signing keys. Private halves are sealed (AES-256-GCM) before they get here.

use sqlx::AnyConnection;

use crate::StoreError;

/// A stored signing key
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    /// Key id (the JWT `kid`)
    pub kid: String,
    /// Algorithm (`EdDSA`, `ES256`, `RS256`, `HS256`)
    pub alg: String,
    /// The sealed private key, base64
    pub sealed_private: String,
    /// The public JWK (JSON), empty for symmetric keys
    pub public_jwk: String,
    is_current: i64,
    /// Creation time
    pub created_at: i64,
    /// When the key stopped signing
    pub retired_at: Option<i64>,
}

impl SigningKeyRow {
    /// A new current key
    pub fn new(
        kid: String,
        alg: String,
        sealed_private: String,
        public_jwk: String,
        now: i64,
    ) -> Self {
        Self {
            kid,
            alg,
            sealed_private,
            public_jwk,
            is_current: 1,
            created_at: now,
            retired_at: None,
        }
    }

    /// Whether this key signs new tokens
    pub fn is_current(&self) -> bool {
        super::flag(self.is_current)
    }
}

/// Keys still usable for verification: the current one and those retired after `since`
pub async fn list_verifiable(
    conn: &mut AnyConnection,
    since: i64,
) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT kid, alg, sealed_private, public_jwk, is_current, created_at, retired_at \
         FROM signing_keys WHERE is_current = 1 OR retired_at > $1 ORDER BY created_at",
    )
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// Retires the current key(s) and makes `key` current, atomically within the caller's transaction
pub async fn rotate_in(
    conn: &mut AnyConnection,
    key: &SigningKeyRow,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE signing_keys SET is_current = 0, retired_at = $1 WHERE is_current = 1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, sealed_private, public_jwk, is_current, created_at, retired_at) \
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

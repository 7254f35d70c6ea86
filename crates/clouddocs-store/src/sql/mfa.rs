//! Second factors: TOTP authenticators, recovery codes, passkeys and pending second-factor
//! challenges (`mfa_token`s). Secrets are sealed or digested before they reach this layer.

use sqlx::AnyConnection;

use crate::StoreError;

/// A user's TOTP authenticator
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    /// The user
    pub user_id: String,
    /// The secret, sealed under the MFA key (base64)
    pub sealed_secret: String,
    /// Enrolment time
    pub created_at: i64,
    /// When the first code proved the authenticator; `None` while pending
    pub confirmed_at: Option<i64>,
    /// The last accepted time step (a code is accepted once)
    pub last_step: i64,
}

/// The user's authenticator, confirmed or pending
pub async fn totp(conn: &mut AnyConnection, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT user_id, sealed_secret, created_at, confirmed_at, last_step FROM mfa_totp WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

/// Starts a (new) pending enrolment; replaces a pending one, never a confirmed one: false
/// when the user already has a confirmed authenticator
pub async fn start_totp(
    conn: &mut AnyConnection,
    user_id: &str,
    sealed_secret: &str,
    now: i64,
) -> Result<bool, StoreError> {
    sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NULL")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query(
        "INSERT INTO mfa_totp (user_id, sealed_secret, created_at, confirmed_at, last_step) \
         VALUES ($1, $2, $3, NULL, 0) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(sealed_secret)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Accepts time step `step` for the user, once: true only if it is later than every step
/// accepted before (concurrent callers with the same code: exactly one wins). `confirm`
/// also marks a pending enrolment confirmed.
pub async fn accept_step(
    conn: &mut AnyConnection,
    user_id: &str,
    step: i64,
    confirm_at: Option<i64>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE mfa_totp SET last_step = $1, confirmed_at = COALESCE(confirmed_at, $2) \
         WHERE user_id = $3 AND last_step < $1 AND (confirmed_at IS NOT NULL OR $2 IS NOT NULL)",
    )
    .bind(step)
    .bind(confirm_at)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the user's authenticator and recovery codes; false when there was none
pub async fn remove_totp(conn: &mut AnyConnection, user_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces every recovery code of the user with `hashes`
pub async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    delete_recovery_codes(conn, user_id).await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at, used_at) VALUES ($1, $2, $3, NULL)",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Deletes every recovery code of the user
pub async fn delete_recovery_codes(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Spends one recovery code: true only for the one caller that used it first
pub async fn use_recovery_code(
    conn: &mut AnyConnection,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE mfa_recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(code_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many unused recovery codes the user has
pub async fn recovery_codes_left(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// A first factor waiting for the second
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeRow {
    /// SHA-256 (hex) of the `mfa_token`
    pub token_hash: String,
    /// The user who passed the first factor
    pub user_id: String,
    /// `session` (browser sign-in) or `token` (the `password` grant)
    pub purpose: String,
    /// The OAuth client of a `token` challenge
    pub client_id: Option<String>,
    /// The scopes a `token` challenge will grant
    pub scope: Option<String>,
    /// The `amr` value of the first factor (`pwd`)
    pub first_factor: String,
    /// Wrong second factors presented so far
    pub failures: i64,
    /// Issue time
    pub created_at: i64,
    /// Expiry
    pub expires_at: i64,
}

/// Stores a new challenge
pub async fn insert_challenge(
    conn: &mut AnyConnection,
    c: &ChallengeRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO mfa_challenges (token_hash, user_id, purpose, client_id, scope, first_factor, \
         failures, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
    )
    .bind(&c.token_hash)
    .bind(&c.user_id)
    .bind(&c.purpose)
    .bind(&c.client_id)
    .bind(&c.scope)
    .bind(&c.first_factor)
    .bind(c.created_at)
    .bind(c.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A live challenge by the digest of its token
pub async fn find_challenge(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
) -> Result<Option<ChallengeRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT token_hash, user_id, purpose, client_id, scope, first_factor, failures, created_at, \
         expires_at FROM mfa_challenges WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// Consumes a challenge: true only for the one caller that deletes it
pub async fn take_challenge(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Reserves one attempt at a live challenge before its factor is checked: true only while
/// fewer than `max_attempts` were made, so concurrent guesses at one token are bounded too
pub async fn reserve_attempt(
    conn: &mut AnyConnection,
    token_hash: &str,
    max_attempts: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE mfa_challenges SET failures = failures + 1 \
         WHERE token_hash = $1 AND failures < $2 AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(max_attempts)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// After a wrong factor (its attempt reserved): deletes the challenge once its attempts
/// are spent. Returns the attempts counted so far.
pub async fn fail_challenge(
    conn: &mut AnyConnection,
    token_hash: &str,
    max_failures: i64,
) -> Result<i64, StoreError> {
    let failures: Option<(i64,)> =
        sqlx::query_as("SELECT failures FROM mfa_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await?;
    let failures = failures.map_or(max_failures, |(n,)| n);
    if failures >= max_failures {
        take_challenge(conn, token_hash).await?;
    }
    Ok(failures)
}

/// Deletes every pending challenge of a user (account disabled)
pub async fn delete_challenges_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM mfa_challenges WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Housekeeping: drops expired challenges and ceremonies
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64, StoreError> {
    let a = sqlx::query("DELETE FROM mfa_challenges WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let b = sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(a.rows_affected() + b.rows_affected())
}

/// A registered passkey
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRow {
    /// Our id (shown in the credential list)
    pub id: String,
    /// The owner
    pub user_id: String,
    /// The authenticator's credential id, base64url
    pub credential_id: String,
    /// The owner's name for it
    pub name: String,
    /// webauthn-rs's serialised `Passkey` (public key, counter, flags)
    pub passkey: String,
    /// Registration time
    pub created_at: i64,
    /// Last sign-in with it
    pub last_used_at: Option<i64>,
}

const PASSKEY_COLUMNS: &str = "id, user_id, credential_id, name, passkey, created_at, last_used_at";

/// Stores a new passkey; `Conflict` when the credential id is registered already
pub async fn insert_passkey(conn: &mut AnyConnection, p: &PasskeyRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webauthn_credentials (id, user_id, credential_id, name, passkey, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(&p.id)
    .bind(&p.user_id)
    .bind(&p.credential_id)
    .bind(&p.name)
    .bind(&p.passkey)
    .bind(p.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's passkeys, oldest first
pub async fn passkeys(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<PasskeyRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PASSKEY_COLUMNS} FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id"
    )))
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// How many passkeys the user has
pub async fn passkey_count(conn: &mut AnyConnection, user_id: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(conn)
            .await?;
    Ok(n)
}

/// A passkey by the authenticator's credential id
pub async fn passkey_by_credential(
    conn: &mut AnyConnection,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PASSKEY_COLUMNS} FROM webauthn_credentials WHERE credential_id = $1"
    )))
    .bind(credential_id)
    .fetch_optional(conn)
    .await?)
}

/// Stores a passkey's new counter and flags after a sign-in with it, only if the counter
/// went up (or the authenticator keeps none: 0 stays 0). False when the stored counter is
/// already at or past `sign_count`: a cloned key, or an older assertion finishing late.
pub async fn passkey_used(
    conn: &mut AnyConnection,
    id: &str,
    passkey: &str,
    sign_count: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webauthn_credentials SET passkey = $1, sign_count = $2, last_used_at = $3 \
         WHERE id = $4 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))",
    )
    .bind(passkey)
    .bind(sign_count)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one passkey of the user; false when there was none
pub async fn delete_passkey(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Stores a ceremony's state until `expires_at`
pub async fn put_ceremony(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO webauthn_ceremonies (id, state, expires_at) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(state)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes a live ceremony's state, once: the DELETE decides which caller gets it
pub async fn take_ceremony(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let taken: Option<(String, i64)> =
        sqlx::query_as("DELETE FROM webauthn_ceremonies WHERE id = $1 RETURNING state, expires_at")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(taken.and_then(|(state, expires_at)| (expires_at > now).then_some(state)))
}

/// Renames one passkey of the user; false when there is none
pub async fn rename_passkey(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    name: &str,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE webauthn_credentials SET name = $1 WHERE id = $2 AND user_id = $3")
            .bind(name)
            .bind(id)
            .bind(user_id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

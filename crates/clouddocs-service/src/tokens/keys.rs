//! Signing keys: loaded from the database, generated on first start, rotated by the CLI,
//! and reloaded by every node when a token names a key it does not hold yet.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clouddocs_auth::jwt::{
    JwtError, KeyMaterial, KeyRing, MasterKey, SigningAlgorithm, StoredKey, VerifyOptions,
};
use clouddocs_store::Db;
use clouddocs_store::sql::keys::{self, SigningKeyRow};
use clouddocs_store::sql::oidc as keys_oidc;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ServiceError, Services, now_ms};

/// How often a node may reload keys because a token named an unknown `kid`
const RELOAD_THROTTLE: Duration = Duration::from_secs(5);

/// The key ring shared by the request handlers, with what is needed to rebuild it
pub struct KeyManager {
    db: Db,
    master: MasterKey,
    /// Seals TOTP secrets (a key of its own, derived from the same master secret)
    mfa: MasterKey,
    algorithm: SigningAlgorithm,
    /// Retired keys stay verifiable this long (the longest token lifetime)
    keep_retired: Duration,
    ring: RwLock<Arc<KeyRing>>,
    /// RS256 ring that signs OpenID Connect ID tokens only (the OIDC default algorithm,
    /// always available whatever the access-token algorithm)
    id_ring: RwLock<Arc<KeyRing>>,
    last_reload: std::sync::Mutex<Instant>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn jwt_err(err: JwtError) -> ServiceError {
    ServiceError::Unexpected(anyhow::Error::new(err))
}

fn to_row(stored: &StoredKey) -> SigningKeyRow {
    SigningKeyRow::new(
        stored.kid.clone(),
        stored.alg.clone(),
        STANDARD.encode(&stored.sealed_private),
        stored.public_jwk.clone(),
        stored.created_at.saturating_mul(1000),
    )
}

fn from_row(row: &SigningKeyRow) -> Result<StoredKey, ServiceError> {
    Ok(StoredKey {
        kid: row.kid.clone(),
        alg: row.alg.clone(),
        sealed_private: STANDARD
            .decode(&row.sealed_private)
            .map_err(|e| ServiceError::Unexpected(anyhow::Error::new(e)))?,
        public_jwk: row.public_jwk.clone(),
        created_at: row.created_at / 1000,
        retired_at: row.retired_at.map(|t| t / 1000),
    })
}

impl KeyManager {
    /// Seals a second-factor secret of `user_id` for storage (base64); the user id is the
    /// associated data, so a sealed secret copied to another user's row fails to open
    pub(crate) fn seal_mfa_secret(
        &self,
        secret: &[u8],
        user_id: &str,
    ) -> Result<String, ServiceError> {
        let sealed = self.mfa.seal(secret, user_id.as_bytes()).map_err(jwt_err)?;
        Ok(STANDARD.encode(sealed))
    }

    /// Opens what [`KeyManager::seal_mfa_secret`] sealed for `user_id`
    pub(crate) fn open_mfa_secret(
        &self,
        sealed: &str,
        user_id: &str,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, ServiceError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| {
            ServiceError::Unexpected(anyhow::anyhow!("a stored TOTP secret is not base64"))
        })?;
        self.mfa.open(&bytes, user_id.as_bytes()).map_err(jwt_err)
    }

    /// Loads the keys, generating the first one when the database has none
    pub async fn load(
        db: Db,
        secret: &str,
        algorithm: SigningAlgorithm,
        keep_retired: Duration,
    ) -> Result<Self, ServiceError> {
        let master = MasterKey::from_secret(secret).map_err(jwt_err)?;
        let ring = build_ring(&db, &master, keep_retired).await?;
        let ring = match ring {
            Some(ring) => ring,
            None => {
                rotate(&db, &master, algorithm, None).await?;
                build_ring(&db, &master, keep_retired)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Unexpected(anyhow::anyhow!(
                            "no signing key after generating one"
                        ))
                    })?
            }
        };
        let id_ring = load_id_ring(&db, &master).await?;
        let mfa = MasterKey::for_purpose(secret, clouddocs_auth::jwt::MFA_ENCRYPTION_INFO)
            .map_err(jwt_err)?;
        Ok(Self {
            db,
            master,
            mfa,
            algorithm,
            keep_retired,
            ring: RwLock::new(Arc::new(ring)),
            id_ring: RwLock::new(Arc::new(id_ring)),
            last_reload: std::sync::Mutex::new(Instant::now()),
        })
    }

    /// The current ring
    pub fn ring(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the ring from the database (after a rotation by another process)
    pub async fn reload(&self) -> Result<(), ServiceError> {
        if let Some(ring) = build_ring(&self.db, &self.master, self.keep_retired).await? {
            match self.ring.write() {
                Ok(mut guard) => *guard = Arc::new(ring),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
            }
        }
        if let Some(id_ring) = build_id_ring(&self.db, &self.master).await? {
            match self.id_ring.write() {
                Ok(mut guard) => *guard = Arc::new(id_ring),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(id_ring),
            }
        }
        Ok(())
    }

    /// Makes a new current key; the old ones stay verifiable until their tokens expire
    pub async fn rotate(&self, actor: &str) -> Result<String, ServiceError> {
        let kid = rotate(&self.db, &self.master, self.algorithm, Some(actor)).await?;
        self.reload().await?;
        Ok(kid)
    }

    /// Signs claims with the current key
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, ServiceError> {
        self.ring().sign(claims).map_err(jwt_err)
    }

    /// Verifies a token; an unknown `kid` triggers one throttled reload, so a key rotated
    /// in by another node is picked up
    pub async fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        options: &VerifyOptions,
    ) -> Result<C, JwtError> {
        match self.ring().verify(token, options) {
            Err(JwtError::UnknownKey) => {
                let due = match self.last_reload.lock() {
                    Ok(mut last) if last.elapsed() >= RELOAD_THROTTLE => {
                        *last = Instant::now();
                        true
                    }
                    _ => false,
                };
                if due && self.reload().await.is_ok() {
                    return self.ring().verify(token, options);
                }
                Err(JwtError::UnknownKey)
            }
            other => other,
        }
    }

    /// The ID-token (RS256) ring
    pub fn id_ring(&self) -> Arc<KeyRing> {
        match self.id_ring.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Signs ID-token claims with the current RS256 ID-token key
    pub fn sign_id_token<C: Serialize>(&self, claims: &C) -> Result<String, ServiceError> {
        self.id_ring().sign(claims).map_err(jwt_err)
    }

    /// The public JWKS document: access-token keys, then the ID-token keys
    pub fn jwks(&self) -> serde_json::Value {
        let mut jwks = self.ring().jwks();
        let id_keys = self.id_ring().jwks();
        if let (Some(keys), Some(more)) = (
            jwks.get_mut("keys")
                .and_then(serde_json::Value::as_array_mut),
            id_keys.get("keys").and_then(serde_json::Value::as_array),
        ) {
            keys.extend(more.iter().cloned());
        }
        jwks
    }
}

/// The ID-token ring, generating its first RS256 key on first start
async fn load_id_ring(db: &Db, master: &MasterKey) -> Result<KeyRing, ServiceError> {
    if let Some(ring) = build_id_ring(db, master).await? {
        return Ok(ring);
    }
    let material = KeyMaterial::generate(SigningAlgorithm::Rs256).map_err(jwt_err)?;
    let row = to_row(&material.to_stored(master).map_err(jwt_err)?);
    {
        let mut conn = db.acquire().await?;
        keys_oidc::insert_id_token_key(&mut conn, &row).await?;
    }
    tracing::info!(kid = %row.kid, "ID-token signing key generated");
    build_id_ring(db, master).await?.ok_or_else(|| {
        ServiceError::Unexpected(anyhow::anyhow!("no ID-token key after generating one"))
    })
}

async fn build_id_ring(db: &Db, master: &MasterKey) -> Result<Option<KeyRing>, ServiceError> {
    let rows = {
        let mut conn = db.acquire().await?;
        keys_oidc::list_id_token_keys(&mut conn).await?
    };
    let Some(current) = rows.last() else {
        return Ok(None);
    };
    let current_kid = current.kid.clone();
    let mut materials = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut stored = from_row(row)?;
        stored.retired_at = None;
        materials.push(stored.open(master).map_err(jwt_err)?);
    }
    KeyRing::new(materials.iter(), &current_kid)
        .map(Some)
        .map_err(jwt_err)
}

async fn build_ring(
    db: &Db,
    master: &MasterKey,
    keep_retired: Duration,
) -> Result<Option<KeyRing>, ServiceError> {
    let since =
        now_ms().saturating_sub(i64::try_from(keep_retired.as_millis()).unwrap_or(i64::MAX));
    let rows = {
        let mut conn = db.acquire().await?;
        keys::list_verifiable(&mut conn, since).await?
    };
    let Some(current) = rows.iter().rev().find(|r| r.is_current()) else {
        return Ok(None);
    };
    let current_kid = current.kid.clone();
    let mut materials = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut stored = from_row(row)?;
        if row.kid == current_kid {
            stored.retired_at = None;
        } else if stored.retired_at.is_none() {
            stored.retired_at = Some(now_ms() / 1000);
        }
        materials.push(stored.open(master).map_err(jwt_err)?);
    }
    KeyRing::new(materials.iter(), &current_kid)
        .map(Some)
        .map_err(jwt_err)
}

async fn rotate(
    db: &Db,
    master: &MasterKey,
    algorithm: SigningAlgorithm,
    actor: Option<&str>,
) -> Result<String, ServiceError> {
    let material = KeyMaterial::generate(algorithm).map_err(jwt_err)?;
    let stored = material.to_stored(master).map_err(jwt_err)?;
    let row = to_row(&stored);
    let mut tx = db.begin().await?;
    keys::rotate_in(&mut tx, &row, now_ms()).await?;
    // The first key, generated at first start, is no one's act; a rotation is.
    if let Some(actor) = actor {
        crate::audit::record(
            &mut tx,
            crate::audit::Entry::success("key.rotate")
                .actor(actor)
                .target(format!("key:{}", row.kid))
                .detail(serde_json::json!({"alg": row.alg})),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(kid = %row.kid, alg = %row.alg, "signing key rotated in");
    Ok(row.kid)
}

impl Services {
    /// The issuer and audience tokens are checked against
    pub fn token_config(&self) -> &super::TokenConfig {
        &self.tokens
    }

    /// The algorithm of the current signing key (`EdDSA`, `ES256`, …)
    pub fn signing_algorithm(&self) -> &'static str {
        self.keys.ring().current_alg().as_str()
    }

    /// The public JWKS document
    pub fn jwks(&self) -> serde_json::Value {
        self.keys.jwks()
    }

    /// Periodic upkeep: picks up keys rotated by other processes, purges expired denylist
    /// rows, sessions, second-factor challenges and WebAuthn ceremonies
    pub async fn housekeeping(&self) -> Result<(), ServiceError> {
        self.keys.reload().await?;
        self.reload_policies().await?;
        let now = now_ms();
        self.denylist.purge_expired(now).await?;
        let mut conn = self.db.acquire().await?;
        clouddocs_store::sql::sessions::delete_expired(&mut conn, now).await?;
        // Used codes are kept a day past expiry so a late replay still revokes its tokens.
        clouddocs_store::sql::oidc::purge_codes(&mut conn, now.saturating_sub(86_400_000)).await?;
        clouddocs_store::sql::mfa::purge_expired(&mut conn, now).await?;
        Ok(())
    }

    /// Rotates the signing key (CLI `keys rotate`)
    pub async fn rotate_signing_key(&self, actor: &str) -> Result<String, ServiceError> {
        self.keys.rotate(actor).await
    }
}

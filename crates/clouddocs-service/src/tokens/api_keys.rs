//! API keys: `cdk_<prefix>_<secret>`, shown once, stored as a SHA-256 digest, looked up by
//! the public prefix and compared in constant time.

use clouddocs_auth::token;
use clouddocs_domain::{ApiKeyId, AuthMethod, Principal, Scopes, UserId};
use clouddocs_store::sql::api_keys::{self, ApiKeyRow};
use clouddocs_store::sql::users;
use serde::Serialize;

use super::user_scopes;
use crate::audit::{Entry, record};
use crate::{ServiceError, Services, ValidationError, now_ms};

/// The key prefix every CloudDocs API key starts with
pub const KEY_PREFIX: &str = "cdk_";
/// Uses are written back at most this often
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// A newly created key: the only time the secret is visible
#[derive(Debug, Serialize)]
pub struct NewApiKey {
    /// The full key; shown once, never stored
    pub key: String,
    /// The key's metadata
    #[serde(flatten)]
    pub view: ApiKeyView,
}

/// A key as lists show it: never the secret or its digest
#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyView {
    /// Key id
    pub id: String,
    /// Label
    pub name: String,
    /// Public prefix, to recognize the key
    pub prefix: String,
    /// Granted scopes
    pub scopes: Vec<String>,
    /// Creation time, unix milliseconds
    pub created_at: i64,
    /// Expiry, unix milliseconds
    pub expires_at: Option<i64>,
    /// Last use, unix milliseconds
    pub last_used_at: Option<i64>,
}

impl From<&ApiKeyRow> for ApiKeyView {
    fn from(k: &ApiKeyRow) -> Self {
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: format!("{KEY_PREFIX}{}", k.prefix),
            scopes: k
                .scopes
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
        }
    }
}

fn field(field: &'static str, reason: &str) -> ServiceError {
    ValidationError::Field {
        field,
        reason: reason.to_owned(),
    }
    .into()
}

impl Services {
    /// Creates an API key for the caller. Its scopes must be held by the caller's own
    /// credential, so a key can never widen access.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        name: &str,
        scopes: &Scopes,
        expires_in_days: Option<u32>,
    ) -> Result<NewApiKey, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(field("name", "must be 1 to 100 characters"));
        }
        if scopes.is_empty() {
            return Err(field("scopes", "at least one scope is required"));
        }
        if !principal.scopes.is_superset(scopes)
            || !user_scopes(principal.platform_admin).is_superset(scopes)
        {
            return Err(ServiceError::Forbidden(
                "an API key cannot carry scopes the caller does not hold",
            ));
        }
        if expires_in_days.is_some_and(|d| d == 0 || d > 3650) {
            return Err(field("expires_in_days", "must be between 1 and 3650"));
        }
        let now = now_ms();
        // 8 random bytes → 16 hex characters of public prefix (no `_`, so the key splits
        // unambiguously); 32 bytes (256 bits) of secret.
        let prefix = token::random_hex(8)?;
        let secret = token::random_token(32)?;
        let key = format!("{KEY_PREFIX}{prefix}_{secret}");
        let row = ApiKeyRow {
            id: ApiKeyId::new().to_string(),
            user_id: principal.user_id.to_string(),
            name: name.to_owned(),
            prefix,
            key_hash: token::digest(&key),
            scopes: scopes.to_string(),
            created_at: now,
            expires_at: expires_in_days.map(|d| now.saturating_add(i64::from(d) * 86_400_000)),
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.db.begin().await?;
        api_keys::insert(&mut tx, &row).await?;
        record(
            &mut tx,
            Entry::success("api_key.create")
                .by(principal)
                .target(format!("api_key:{}", row.id))
                .detail(serde_json::json!({"name": row.name, "scopes": row.scopes, "prefix": row.prefix})),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %row.user_id, key_id = %row.id, "api key created");
        Ok(NewApiKey {
            key,
            view: ApiKeyView::from(&row),
        })
    }

    /// The caller's live keys
    pub async fn list_api_keys(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ApiKeyView>, ServiceError> {
        let mut conn = self.db.acquire().await?;
        let rows = api_keys::list_for_user(&mut conn, &principal.user_id.to_string()).await?;
        Ok(rows.iter().map(ApiKeyView::from).collect())
    }

    /// Revokes one of the caller's keys
    pub async fn revoke_api_key(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        if !api_keys::revoke(&mut tx, &principal.user_id.to_string(), id, now_ms()).await? {
            return Err(ServiceError::NotFound);
        }
        record(
            &mut tx,
            Entry::success("api_key.revoke")
                .by(principal)
                .target(format!("api_key:{id}")),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(key_id = %id, "api key revoked");
        Ok(())
    }

    /// Resolves an `X-API-Key`; `None` for anything unknown, revoked, expired or disabled
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
    ) -> Result<Option<Principal>, ServiceError> {
        let Some(rest) = presented.strip_prefix(KEY_PREFIX) else {
            return Ok(None);
        };
        let Some((prefix, _)) = rest.split_once('_') else {
            return Ok(None);
        };
        let now = now_ms();
        let mut conn = self.db.acquire().await?;
        let Some(row) = api_keys::find_by_prefix(&mut conn, prefix).await? else {
            return Ok(None);
        };
        if !token::constant_time_eq(&row.key_hash, &token::digest(presented))
            || row.revoked_at.is_some()
            || row.expires_at.is_some_and(|e| e <= now)
        {
            return Ok(None);
        }
        let Some(user) = users::find(&mut conn, &row.user_id)
            .await?
            .filter(|u| !u.disabled())
        else {
            return Ok(None);
        };
        if row.last_used_at.is_none_or(|t| now - t > TOUCH_INTERVAL_MS) {
            api_keys::touch(&mut conn, &row.id, now).await?;
        }
        let user_id: UserId = user.id.parse().map_err(|_| {
            ServiceError::Unexpected(anyhow::anyhow!("stored user id is not a uuid"))
        })?;
        let key_id: ApiKeyId = row.id.parse().map_err(|_| {
            ServiceError::Unexpected(anyhow::anyhow!("stored key id is not a uuid"))
        })?;
        let scopes = Scopes::parse(&row.scopes)
            .unwrap_or_default()
            .intersection(&user_scopes(user.platform_admin()));
        Ok(Some(Principal {
            user_id,
            platform_admin: user.platform_admin(),
            method: AuthMethod::ApiKey { key_id },
            scopes,
            amr: clouddocs_domain::Amr::NONE,
        }))
    }
}

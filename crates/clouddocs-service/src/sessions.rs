//! Browser sessions: authentication of the cookie, listing and signing out devices.

use clouddocs_auth::token;
use clouddocs_domain::{AuthMethod, Principal, Scopes, SessionId, UserId};
use clouddocs_store::sql::{refresh, sessions, users};
use serde::Serialize;

use crate::audit::{Entry, record};
use crate::{ServiceError, Services, millis, now_ms};

/// Activity is written back at most this often, to keep reads cheap
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// An authenticated session: the principal plus what CSRF checks need
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// The caller
    pub principal: Principal,
    /// The session's public id
    pub session_id: String,
    /// SHA-256 (hex) of the session's CSRF token
    pub csrf_hash: String,
}

/// How a device signed in
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// A browser session (cookie), from `/auth/login` or the `/login` page
    Browser,
    /// A refresh-token family: a device or app signed in through the API (`password` or
    /// `authorization_code` grant)
    Api,
}

/// A session as `GET /me/sessions` shows it
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// The session's public id (a refresh family's id for `api` sessions)
    pub id: String,
    /// Browser session or API sign-in
    pub kind: SessionKind,
    /// The OAuth client an `api` session was issued to, if any
    pub client_id: Option<String>,
    /// The scopes an `api` session grants
    pub scope: Option<String>,
    /// Sign-in time, unix milliseconds
    pub created_at: i64,
    /// Last activity, unix milliseconds
    pub last_seen_at: i64,
    /// Absolute expiry, unix milliseconds
    pub expires_at: i64,
    /// Client address at sign-in (browser sessions)
    pub ip: Option<String>,
    /// Client user agent at sign-in (browser sessions)
    pub user_agent: Option<String>,
    /// Whether this is the session making the request
    pub current: bool,
}

impl Services {
    /// Resolves a session cookie; `None` for unknown, expired, idle or disabled
    pub async fn authenticate_session(
        &self,
        cookie_secret: &str,
    ) -> Result<Option<SessionInfo>, ServiceError> {
        let now = now_ms();
        let mut conn = self.db.acquire().await?;
        let Some(session) =
            sessions::find_by_token_hash(&mut conn, &token::digest(cookie_secret)).await?
        else {
            return Ok(None);
        };
        let idle_deadline = session
            .last_seen_at
            .saturating_add(millis(self.config.session_idle));
        if session.expires_at <= now || idle_deadline <= now {
            sessions::delete(&mut conn, &session.user_id, &session.id).await?;
            return Ok(None);
        }
        let Some(user) = users::find(&mut conn, &session.user_id).await? else {
            return Ok(None);
        };
        if user.disabled() {
            return Ok(None);
        }
        if now - session.last_seen_at > TOUCH_INTERVAL_MS {
            sessions::touch(&mut conn, &session.id, now).await?;
        }
        let user_id: UserId = user.id.parse().map_err(|_| {
            ServiceError::Unexpected(anyhow::anyhow!("stored user id is not a uuid"))
        })?;
        let session_id: SessionId = session.id.parse().map_err(|_| {
            ServiceError::Unexpected(anyhow::anyhow!("stored session id is not a uuid"))
        })?;
        Ok(Some(SessionInfo {
            principal: Principal {
                user_id,
                platform_admin: user.platform_admin(),
                method: AuthMethod::Session { session_id },
                scopes: Scopes::all(),
                amr: clouddocs_domain::Amr::from_stored(&session.amr),
            },
            session_id: session.id,
            csrf_hash: session.csrf_hash,
        }))
    }

    /// Ends one session of the caller (logout, or signing out a device): a browser session,
    /// or an API sign-in (its refresh family, and every access token issued from it);
    /// `NotFound` when the caller has no such live session
    pub async fn end_session(
        &self,
        principal: &Principal,
        session_id: &str,
    ) -> Result<(), ServiceError> {
        let user_id = principal.user_id.to_string();
        let mut tx = self.db.begin().await?;
        if sessions::delete(&mut tx, &user_id, session_id).await? {
            record(
                &mut tx,
                Entry::success("session.revoke")
                    .by(principal)
                    .target(format!("session:{session_id}")),
            )
            .await?;
            tx.commit().await?;
            return Ok(());
        }
        tx.rollback().await?;
        let live = {
            let mut conn = self.db.acquire().await?;
            refresh::is_live_for_user(&mut conn, &user_id, session_id, now_ms()).await?
        };
        if !live {
            return Err(ServiceError::NotFound);
        }
        self.revoke_family(session_id, "signed out by its owner")
            .await?;
        self.audit(
            Entry::success("session.revoke")
                .by(principal)
                .target(format!("family:{session_id}")),
        )
        .await
    }

    /// The caller's live sessions: browser sessions and API sign-ins, newest first
    pub async fn list_sessions(
        &self,
        principal: &Principal,
        current: Option<&str>,
    ) -> Result<Vec<SessionView>, ServiceError> {
        let user_id = principal.user_id.to_string();
        let current_family = match &principal.method {
            AuthMethod::Bearer { family_id, .. } => family_id.as_deref(),
            _ => None,
        };
        let now = now_ms();
        let mut conn = self.db.acquire().await?;
        let rows = sessions::list_for_user(&mut conn, &user_id, now).await?;
        let families = refresh::list_live_for_user(&mut conn, &user_id, now).await?;
        let mut views: Vec<SessionView> = rows
            .into_iter()
            .map(|s| SessionView {
                current: current == Some(s.id.as_str()),
                id: s.id,
                kind: SessionKind::Browser,
                client_id: None,
                scope: None,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .chain(families.into_iter().map(|f| SessionView {
                current: current_family == Some(f.id.as_str()),
                id: f.id,
                kind: SessionKind::Api,
                client_id: f.client_id,
                scope: Some(f.scope),
                created_at: f.created_at,
                last_seen_at: f.last_used_at,
                expires_at: f.expires_at,
                ip: None,
                user_agent: None,
            }))
            .collect();
        views.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(views)
    }
}

//! Accounts, sessions and profile bodies.

use clouddocs_service::{SessionKind, SessionView, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /auth/register`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Email address; normalized to lowercase
    pub email: String,
    /// 8 to 128 characters, not common, not guessable
    pub password: String,
    /// Name shown to others
    pub display_name: String,
}

/// `POST /auth/login` (JSON or form)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email address
    pub email: String,
    /// Password
    pub password: String,
}

/// The answer to a successful login; the session itself is in the cookie
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send this in `X-CSRF-Token` on every cookie-authenticated unsafe request
    pub csrf_token: String,
    /// The signed-in user
    pub user: UserResponse,
}

/// `PATCH /me`: only the display name may change
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// New display name
    pub display_name: String,
}

/// `POST /me/password`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now
    pub current_password: String,
    /// The new password
    pub new_password: String,
}

/// A user
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// User id
    pub id: String,
    /// Normalized email
    pub email: String,
    /// Display name
    pub display_name: String,
    /// Platform administrator
    pub platform_admin: bool,
    /// Disabled accounts cannot sign in
    pub disabled: bool,
    /// Creation time, unix milliseconds
    pub created_at: i64,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            platform_admin: u.platform_admin,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }
}

/// How a device signed in
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionKindResponse {
    /// A browser session cookie
    Browser,
    /// A refresh token (a device or app signed in through the API)
    Api,
}

/// A signed-in device
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Session id (not the cookie); for `api` sessions, the refresh family's id
    pub id: String,
    /// `browser` (a session cookie) or `api` (a refresh token from the `password` or
    /// `authorization_code` grant); both are signed out with `DELETE /me/sessions/{id}`
    pub kind: SessionKindResponse,
    /// The OAuth client of an `api` session, if any
    pub client_id: Option<String>,
    /// The scopes of an `api` session
    pub scope: Option<String>,
    /// Sign-in time, unix milliseconds
    pub created_at: i64,
    /// Last activity, unix milliseconds
    pub last_seen_at: i64,
    /// Absolute expiry, unix milliseconds
    pub expires_at: i64,
    /// Client address at sign-in
    pub ip: Option<String>,
    /// Client user agent at sign-in
    pub user_agent: Option<String>,
    /// The session making this request
    pub current: bool,
}

impl From<SessionView> for SessionResponse {
    fn from(s: SessionView) -> Self {
        Self {
            id: s.id,
            kind: match s.kind {
                SessionKind::Browser => SessionKindResponse::Browser,
                SessionKind::Api => SessionKindResponse::Api,
            },
            client_id: s.client_id,
            scope: s.scope,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
            current: s.current,
        }
    }
}

/// A page of a list
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; absent on the last page
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A list small and bounded enough to come whole (a user's sessions, keys, orgs):
    /// the same `{items, next_cursor}` shape as every list, with no next page
    pub fn complete(items: impl IntoIterator<Item = impl Into<T>>) -> Self {
        Self {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor: None,
        }
    }
}

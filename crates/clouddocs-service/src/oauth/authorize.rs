//! `GET /oauth/authorize`: validating the request, remembered consent, and issuing the code.

use clouddocs_auth::token;
use clouddocs_domain::{Scope, Scopes};
use clouddocs_store::StoreError;
use clouddocs_store::sql::clients;

use crate::tokens::Client;
use clouddocs_store::sql::{oidc, sessions};

use crate::audit::{Entry, record};
use crate::tokens::user_scopes;
use crate::{ServiceError, Services, SessionInfo, millis, now_ms};

/// The raw parameters of an authorization request (query string or consent form)
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    /// Must be `code`
    pub response_type: Option<String>,
    /// The client
    pub client_id: Option<String>,
    /// Must equal one of the client's registered redirect URIs exactly
    pub redirect_uri: Option<String>,
    /// Space-separated scopes
    pub scope: Option<String>,
    /// Opaque client state, echoed back
    pub state: Option<String>,
    /// OpenID Connect nonce, copied into the ID token
    pub nonce: Option<String>,
    /// PKCE challenge (RFC 7636)
    pub code_challenge: Option<String>,
    /// Must be `S256`
    pub code_challenge_method: Option<String>,
    /// `none`: answer without showing any page (OpenID Connect Core §3.1.2.1)
    pub prompt: Option<String>,
}

/// Why an authorization request was refused
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect
    #[error("{0}")]
    Page(&'static str),
    /// Tell the client, by redirecting to its (verified) redirect URI
    #[error("{description}")]
    Redirect {
        /// Where to send the browser: the redirect URI with `error`, `error_description`,
        /// `state` and `iss`
        location: String,
        /// RFC 6749 §4.1.2.1 error code
        error: &'static str,
        /// Human-readable reason
        description: String,
    },
    /// Server failure
    #[error(transparent)]
    Server(#[from] ServiceError),
}

impl From<StoreError> for AuthorizeError {
    fn from(err: StoreError) -> Self {
        AuthorizeError::Server(err.into())
    }
}

/// A validated authorization request
#[derive(Debug, Clone)]
pub struct ValidAuthorization {
    /// The client
    pub client: Client,
    /// Whether the client may skip the consent page
    pub first_party: bool,
    /// The exact, registered redirect URI
    pub redirect_uri: String,
    /// Requested scopes, within what the client may ask for
    pub scopes: Scopes,
    /// Client state
    pub state: Option<String>,
    /// Nonce
    pub nonce: Option<String>,
    /// PKCE S256 challenge
    pub code_challenge: String,
    /// `prompt=none`: no page may be shown
    pub prompt_none: bool,
}

/// A signed-in browser session, with when the user authenticated
#[derive(Debug, Clone)]
pub struct SessionGrant {
    /// The session
    pub session: SessionInfo,
    /// Sign-in time, unix milliseconds
    pub auth_time: i64,
}

fn non_empty(v: Option<&String>) -> Option<&str> {
    v.map(String::as_str).filter(|s| !s.is_empty())
}

/// `redirect_uri` with the query parameters `pairs` added (keeping its own query)
pub(crate) fn with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

fn valid_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl Services {
    fn authorize_redirect_error(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
        error: &'static str,
        description: impl Into<String>,
    ) -> AuthorizeError {
        let description = description.into();
        let mut pairs = vec![
            ("error", error),
            ("error_description", description.as_str()),
        ];
        if let Some(state) = state {
            pairs.push(("state", state));
        }
        let issuer = self.tokens.issuer.trim_end_matches('/').to_owned();
        pairs.push(("iss", issuer.as_str()));
        AuthorizeError::Redirect {
            location: with_query(redirect_uri, &pairs),
            error,
            description,
        }
    }

    /// Checks an authorization request. The client and redirect URI are checked first: if
    /// either is wrong the answer is an error page, so the browser is never sent to an
    /// unverified address; every later problem redirects to the client (RFC 6749 §4.1.2.1).
    pub async fn validate_authorization(
        &self,
        params: &AuthorizeParams,
    ) -> Result<ValidAuthorization, AuthorizeError> {
        let client_id = non_empty(params.client_id.as_ref())
            .ok_or(AuthorizeError::Page("the request has no `client_id`"))?;
        let (client, settings) = {
            let mut conn = self.db.acquire().await?;
            let client = clients::find(&mut conn, client_id).await?;
            let settings = oidc::client_settings(&mut conn, client_id).await?;
            (client, settings)
        };
        let client = client.ok_or(AuthorizeError::Page("unknown client"))?;
        let registered: Vec<String> =
            serde_json::from_str(&client.redirect_uris).unwrap_or_default();
        let redirect_uri = non_empty(params.redirect_uri.as_ref())
            .ok_or(AuthorizeError::Page("the request has no `redirect_uri`"))?;
        // INVARIANT: exact string comparison, no normalisation, prefix or pattern matching.
        if !registered.iter().any(|r| r == redirect_uri) {
            return Err(AuthorizeError::Page(
                "the `redirect_uri` is not registered for this client",
            ));
        }
        let state = non_empty(params.state.as_ref());
        let fail = |error, description: &str| {
            self.authorize_redirect_error(redirect_uri, state, error, description)
        };
        if params.response_type.as_deref() != Some("code") {
            return Err(fail(
                "unsupported_response_type",
                "only `response_type=code` is supported",
            ));
        }
        if !client
            .grant_types
            .split(' ')
            .any(|g| g == "authorization_code")
        {
            return Err(fail(
                "unauthorized_client",
                "the client may not use the authorization code grant",
            ));
        }
        let Some(challenge) = non_empty(params.code_challenge.as_ref()) else {
            return Err(fail(
                "invalid_request",
                "PKCE is required: send `code_challenge` with `code_challenge_method=S256`",
            ));
        };
        if params.code_challenge_method.as_deref() != Some("S256") {
            return Err(fail(
                "invalid_request",
                "`code_challenge_method` must be `S256`",
            ));
        }
        if challenge.len() != 43 || !valid_pkce_value(challenge) {
            return Err(fail("invalid_request", "malformed `code_challenge`"));
        }
        let raw_scope = params.scope.as_deref().unwrap_or_default().trim();
        let scopes = match Scopes::parse(raw_scope) {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => return Err(fail("invalid_scope", "`scope` is required")),
            Err(e) => return Err(fail("invalid_scope", &e.to_string())),
        };
        let allowed = Scopes::parse(&client.scopes).unwrap_or_default();
        if !allowed.is_superset(&scopes) {
            return Err(fail(
                "invalid_scope",
                "requested scope exceeds what the client may ask for",
            ));
        }
        if params.nonce.as_ref().is_some_and(|n| n.len() > 512)
            || state.is_some_and(|s| s.len() > 2048)
        {
            return Err(fail("invalid_request", "`state` or `nonce` is too long"));
        }
        Ok(ValidAuthorization {
            first_party: settings.is_some_and(|s| s.first_party()),
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            state: state.map(str::to_owned),
            nonce: non_empty(params.nonce.as_ref()).map(str::to_owned),
            code_challenge: challenge.to_owned(),
            prompt_none: params
                .prompt
                .as_deref()
                .is_some_and(|p| p.split(' ').any(|v| v == "none")),
            client: Client(client),
        })
    }

    /// Resolves the session cookie for the authorization endpoint, with the sign-in time. A
    /// session that proved no second factor while the user has one enrolled does not count:
    /// the browser signs in again, second factor included.
    pub async fn session_grant(
        &self,
        cookie_secret: &str,
    ) -> Result<Option<SessionGrant>, ServiceError> {
        let Some(session) = self.authenticate_session(cookie_secret).await? else {
            return Ok(None);
        };
        if !session.principal.amr.is_mfa()
            && self
                .enrolled(&session.principal.user_id.to_string())
                .await?
                .any()
        {
            return Ok(None);
        }
        let row = {
            let mut conn = self.db.acquire().await?;
            sessions::find_by_token_hash(&mut conn, &token::digest(cookie_secret)).await?
        };
        Ok(row.map(|row| SessionGrant {
            session,
            auth_time: row.created_at,
        }))
    }

    /// Whether the user must still be asked: first-party clients never, others unless the
    /// user already consented to at least these scopes for this client
    pub async fn needs_consent(
        &self,
        user_id: &str,
        request: &ValidAuthorization,
    ) -> Result<bool, ServiceError> {
        if request.first_party {
            return Ok(false);
        }
        let mut conn = self.db.acquire().await?;
        let granted = oidc::consent(&mut conn, user_id, request.client.id()).await?;
        Ok(!granted
            .and_then(|g| Scopes::parse(&g).ok())
            .is_some_and(|g| g.is_superset(&request.scopes)))
    }

    /// The user refused: the redirect telling the client so
    pub fn deny_authorization(&self, request: &ValidAuthorization) -> String {
        self.authorization_error_location(request, "access_denied", "the user denied the request")
    }

    /// The redirect carrying `error` to the client (e.g. `login_required` or
    /// `consent_required` for `prompt=none`)
    pub fn authorization_error_location(
        &self,
        request: &ValidAuthorization,
        error: &'static str,
        description: &str,
    ) -> String {
        match self.authorize_redirect_error(
            &request.redirect_uri,
            request.state.as_deref(),
            error,
            description,
        ) {
            AuthorizeError::Redirect { location, .. } => location,
            _ => request.redirect_uri.clone(),
        }
    }

    /// Issues a code for the signed-in user (recording consent when `consented`), and
    /// returns the redirect carrying it. Scopes the user may not hold (`admin` for
    /// non-admins) are dropped.
    pub async fn issue_authorization_code(
        &self,
        grant: &SessionGrant,
        request: &ValidAuthorization,
        consented: bool,
    ) -> Result<String, ServiceError> {
        let user_id = grant.session.principal.user_id.to_string();
        let scopes = request
            .scopes
            .intersection(&user_scopes(grant.session.principal.platform_admin));
        let code = token::random_token(32)?;
        let now = now_ms();
        let row = oidc::AuthCodeRow {
            code_hash: token::digest(&code),
            client_id: request.client.id().to_owned(),
            user_id: user_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scope: scopes.to_string(),
            auth_time: grant.auth_time,
            created_at: now,
            expires_at: now.saturating_add(millis(self.tokens.auth_code_ttl)),
            used_at: None,
            family_id: None,
            amr: grant.session.principal.amr.to_string(),
        };
        let mut tx = self.db.begin().await?;
        if consented {
            oidc::save_consent(
                &mut tx,
                &user_id,
                request.client.id(),
                &scopes.to_string(),
                now,
            )
            .await?;
            record(
                &mut tx,
                Entry::success("oauth.consent")
                    .actor(&user_id)
                    .target(format!("client:{}", request.client.id()))
                    .detail(serde_json::json!({"scope": scopes.to_string()})),
            )
            .await?;
        }
        oidc::insert_code(&mut tx, &row).await?;
        record(
            &mut tx,
            Entry::success("oauth.code.issue")
                .actor(&user_id)
                .target(format!("client:{}", request.client.id()))
                .detail(serde_json::json!({"scope": scopes.to_string()})),
        )
        .await?;
        tx.commit().await?;
        let issuer = self.tokens.issuer.trim_end_matches('/').to_owned();
        let mut pairs = vec![("code", code.as_str())];
        if let Some(state) = &request.state {
            pairs.push(("state", state.as_str()));
        }
        pairs.push(("iss", issuer.as_str()));
        Ok(with_query(&request.redirect_uri, &pairs))
    }

    /// Whether the scopes include `openid`
    pub(crate) fn is_oidc(scopes: &Scopes) -> bool {
        scopes.contains(Scope::OpenId)
    }
}

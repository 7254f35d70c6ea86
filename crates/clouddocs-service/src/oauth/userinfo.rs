//! `GET /oauth/userinfo` (OpenID Connect Core §5.3): claims about the bearer token's user,
//! limited by the token's scopes.

use clouddocs_domain::{AuthMethod, Principal, Scope};
use clouddocs_store::sql::users;
use serde_json::{Map, Value, json};

use crate::{ServiceError, Services};

impl Services {
    /// The userinfo claims: `sub` always, `name` with `profile`, `email` and
    /// `email_verified` (CloudDocs does not verify addresses) with `email`.
    ///
    /// **Permissions**: an access token (not a session or API key) holding `openid`.
    pub async fn userinfo(&self, principal: &Principal) -> Result<Value, ServiceError> {
        if !matches!(principal.method, AuthMethod::Bearer { .. })
            || !principal.has_scope(Scope::OpenId)
        {
            return Err(ServiceError::Forbidden(
                "userinfo needs an access token with the `openid` scope",
            ));
        }
        let user = {
            let mut conn = self.db.acquire().await?;
            users::find(&mut conn, &principal.user_id.to_string()).await?
        }
        .ok_or(ServiceError::AccountGone)?;
        let mut claims = Map::new();
        claims.insert("sub".to_owned(), json!(user.id));
        if principal.has_scope(Scope::Profile) {
            claims.insert("name".to_owned(), json!(user.display_name));
        }
        if principal.has_scope(Scope::Email) {
            claims.insert("email".to_owned(), json!(user.email));
            claims.insert("email_verified".to_owned(), json!(false));
        }
        Ok(Value::Object(claims))
    }
}

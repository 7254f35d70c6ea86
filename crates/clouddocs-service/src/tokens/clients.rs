//! OAuth client registry, for platform admins.

use clouddocs_auth::token;
use clouddocs_domain::{Principal, Scopes};
use clouddocs_store::sql::clients::{self, ClientRow};
use serde::Serialize;

use crate::audit::{Entry, record};
use crate::{ServiceError, Services, ValidationError, now_ms};

/// Grant types a client may be registered for
pub const GRANT_TYPES: [&str; 4] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
];

/// A registration request, validated by [`Services::register_client`]
#[derive(Debug)]
pub struct NewClient {
    /// Display name
    pub name: String,
    /// Exact redirect URIs
    pub redirect_uris: Vec<String>,
    /// Grant types
    pub grant_types: Vec<String>,
    /// Scopes the client may request
    pub scopes: Scopes,
    /// Whether the client keeps a secret
    pub confidential: bool,
    /// A client of this deployment: its users are not asked for consent
    pub first_party: bool,
    /// ID-token algorithm: `RS256` (default) or `EdDSA`
    pub id_token_alg: Option<String>,
}

/// A client that has authenticated itself (or, a public client, identified itself) at
/// an OAuth endpoint: what the grants, revocation and introspection are given
#[derive(Debug, Clone)]
pub struct Client(pub(crate) ClientRow);

impl Client {
    /// The client id
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The name users see on the consent page
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether it keeps a secret (and so may introspect)
    pub fn confidential(&self) -> bool {
        self.0.confidential()
    }

    /// Whether it was registered for `grant_type`
    pub(crate) fn allows_grant(&self, grant_type: &str) -> bool {
        self.0.grant_types.split(' ').any(|g| g == grant_type)
    }
}

/// A registered client as lists show it (never the secret's digest)
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    /// Client id
    pub client_id: String,
    /// Name
    pub name: String,
    /// Redirect URIs
    pub redirect_uris: Vec<String>,
    /// Grant types
    pub grant_types: Vec<String>,
    /// Scopes
    pub scopes: Vec<String>,
    /// Confidential (has a secret)
    pub confidential: bool,
    /// Registration time, unix milliseconds
    pub created_at: i64,
}

/// The answer to a registration: the secret is shown this once
#[derive(Debug, Serialize)]
pub struct RegisteredClient {
    /// Client id
    pub client_id: String,
    /// Secret (confidential clients only)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The client
    #[serde(flatten)]
    pub client: ClientView,
}

impl From<&ClientRow> for ClientView {
    fn from(c: &ClientRow) -> Self {
        Self {
            client_id: c.id.clone(),
            name: c.name.clone(),
            redirect_uris: serde_json::from_str(&c.redirect_uris).unwrap_or_default(),
            grant_types: c
                .grant_types
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect(),
            scopes: c
                .scopes
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect(),
            confidential: c.confidential(),
            created_at: c.created_at,
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ServiceError {
    ValidationError::Field {
        field,
        reason: reason.into(),
    }
    .into()
}

impl Services {
    /// Registers a client. **Permissions**: platform admins.
    pub async fn register_client(
        &self,
        principal: &Principal,
        new: NewClient,
    ) -> Result<RegisteredClient, ServiceError> {
        self.platform_admin(principal, "client.create").await?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid("name", "must be 1 to 100 characters"));
        }
        if new.grant_types.is_empty() {
            return Err(invalid(
                "grant_types",
                "at least one grant type is required",
            ));
        }
        if let Some(bad) = new
            .grant_types
            .iter()
            .find(|g| !GRANT_TYPES.contains(&g.as_str()))
        {
            return Err(invalid(
                "grant_types",
                format!("unsupported grant type `{bad}`"),
            ));
        }
        if new.grant_types.iter().any(|g| g == "client_credentials") && !new.confidential {
            return Err(invalid(
                "grant_types",
                "`client_credentials` needs a confidential client",
            ));
        }
        for uri in &new.redirect_uris {
            let ok = (uri.starts_with("https://")
                || uri.starts_with("http://127.0.0.1")
                || uri.starts_with("http://localhost"))
                && !uri.contains('#')
                && uri.len() <= 2000;
            if !ok {
                return Err(invalid(
                    "redirect_uris",
                    format!(
                        "`{uri}` must be an https URL (or http on loopback) without a fragment"
                    ),
                ));
            }
        }
        if new.grant_types.iter().any(|g| g == "authorization_code") && new.redirect_uris.is_empty()
        {
            return Err(invalid(
                "redirect_uris",
                "`authorization_code` needs at least one redirect URI",
            ));
        }
        let id_token_alg = new.id_token_alg.as_deref().unwrap_or("RS256");
        if !crate::oauth::ID_TOKEN_ALGS.contains(&id_token_alg) {
            return Err(invalid(
                "id_token_signed_response_alg",
                format!("`{id_token_alg}` is not supported; use `RS256` or `EdDSA`"),
            ));
        }
        let id = format!("cdc_{}", token::random_token(16)?);
        let secret = if new.confidential {
            Some(token::random_token(32)?)
        } else {
            None
        };
        let row = ClientRow::new(
            id.clone(),
            name.to_owned(),
            secret.as_deref().map(token::digest),
            serde_json::to_string(&new.redirect_uris)
                .map_err(|e| ServiceError::Unexpected(e.into()))?,
            new.grant_types.join(" "),
            new.scopes.to_string(),
            new.confidential,
            now_ms(),
        );
        let mut tx = self.db.begin().await?;
        clients::insert(&mut tx, &row).await?;
        clouddocs_store::sql::oidc::set_client_settings(
            &mut tx,
            &id,
            new.first_party,
            id_token_alg,
        )
        .await?;
        record(
            &mut tx,
            Entry::success("client.create")
                .by(principal)
                .target(format!("client:{id}")),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(client_id = %id, "oauth client registered");
        Ok(RegisteredClient {
            client_id: id,
            client_secret: secret,
            client: ClientView::from(&row),
        })
    }

    /// Every client. **Permissions**: platform admins.
    pub async fn list_clients(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ClientView>, ServiceError> {
        self.platform_admin(principal, "client.list").await?;
        let mut conn = self.db.acquire().await?;
        Ok(clients::list(&mut conn)
            .await?
            .iter()
            .map(ClientView::from)
            .collect())
    }

    /// Deletes a client. **Permissions**: platform admins.
    pub async fn delete_client(&self, principal: &Principal, id: &str) -> Result<(), ServiceError> {
        self.platform_admin(principal, "client.delete").await?;
        let mut tx = self.db.begin().await?;
        if !clients::delete(&mut tx, id).await? {
            return Err(ServiceError::NotFound);
        }
        record(
            &mut tx,
            Entry::success("client.delete")
                .by(principal)
                .target(format!("client:{id}")),
        )
        .await?;
        tx.commit().await?;
        self.clients.invalidate(id);
        Ok(())
    }
}

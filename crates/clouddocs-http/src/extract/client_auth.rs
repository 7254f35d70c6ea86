//! OAuth client credentials from `client_secret_basic` (the `Authorization: Basic` header)
//! or `client_secret_post` (form fields); using both at once is refused (RFC 6749 §2.3).

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clouddocs_service::oauth::OAuthError;

/// Client credentials as presented
#[derive(Debug, Default)]
pub struct ClientCredentials {
    /// The client id
    pub client_id: String,
    /// The secret, for confidential clients
    pub client_secret: Option<String>,
}

fn decode_component(raw: &str) -> Result<String, OAuthError> {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    let plus_as_space = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| OAuthError::InvalidClient)
}

/// Reads client credentials; `None` when the request carries none
pub fn client_credentials(
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Option<ClientCredentials>, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    match (basic, form_secret) {
        (Some(_), Some(_)) => Err(OAuthError::InvalidRequest(
            "use one client authentication method, not both".to_owned(),
        )),
        (Some(encoded), None) => {
            let decoded = STANDARD
                .decode(encoded.trim())
                .map_err(|_| OAuthError::InvalidClient)?;
            let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::InvalidClient)?;
            let (id, secret) = decoded.split_once(':').ok_or(OAuthError::InvalidClient)?;
            let client_id = decode_component(id)?;
            if form_id.is_some_and(|f| f != client_id) {
                return Err(OAuthError::InvalidRequest(
                    "`client_id` does not match the authenticated client".to_owned(),
                ));
            }
            Ok(Some(ClientCredentials {
                client_id,
                client_secret: Some(decode_component(secret)?),
            }))
        }
        (None, secret) => Ok(form_id
            .filter(|id| !id.is_empty())
            .map(|id| ClientCredentials {
                client_id: id.to_owned(),
                client_secret: secret.map(str::to_owned),
            })),
    }
}

//! One router per resource, merged by [`crate::app`].

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod clients;
pub mod documents;
pub mod health;
pub mod me;
pub mod oauth;
pub mod oidc;
pub mod orgs;

use serde::Deserialize;
use utoipa::IntoParams;

/// `?cursor=&limit=` of every list
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20)
    pub limit: Option<u32>,
}

impl PageQuery {
    /// The page size, clamped to 1..=100
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(20).clamp(1, 100)
    }
}

/// Parses a list of scope names from a request body; an unknown one is a 422 naming it
pub(crate) fn parse_scopes(
    names: &[String],
) -> Result<clouddocs_domain::Scopes, crate::problem::ApiError> {
    names
        .iter()
        .map(|s| s.parse::<clouddocs_domain::Scope>())
        .collect::<Result<_, _>>()
        .map_err(|e| crate::problem::ApiError::Unprocessable(e.to_string()))
}

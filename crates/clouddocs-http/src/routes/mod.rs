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
pub mod mfa;
pub mod oauth;
pub mod orgs;

use serde::Deserialize;
use utoipa::IntoParams;

/// `?cursor=&limit=` of every list
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20)
    pub limit: Option<u32>,
}

impl PageQuery {
    /// The page size (default 20); outside 1..=100 is a 422
    pub fn limit(&self) -> Result<u32, crate::problem::ApiError> {
        page_size(self.limit, 20)
    }

    /// The cursor, which must be an id some page answered as `next_cursor`
    pub fn cursor(&self) -> Result<Option<&str>, crate::problem::ApiError> {
        id_cursor(self.cursor.as_deref())
    }
}

/// The one page-size rule of every list: `default` when absent, 1 to 100 otherwise, and
/// anything else a 422 naming `limit` (never silently clamped)
/// A typed id from a path segment; one that does not parse names nothing, so it is the
/// same 404 as an unknown or hidden object
pub(crate) fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, crate::problem::ApiError> {
    raw.parse().map_err(|_| crate::problem::ApiError::NotFound)
}

pub(crate) fn page_size(limit: Option<u32>, default: u32) -> Result<u32, crate::problem::ApiError> {
    match limit {
        None => Ok(default),
        Some(n @ 1..=100) => Ok(n),
        Some(_) => Err(crate::problem::ApiError::Unprocessable(
            "`limit` must be between 1 and 100".to_owned(),
        )),
    }
}

/// A cursor of a list ordered by time-ordered id: it must be such an id (a 400 otherwise,
/// since no page ever answered it)
pub(crate) fn id_cursor(cursor: Option<&str>) -> Result<Option<&str>, crate::problem::ApiError> {
    match cursor {
        Some(c) if uuid::Uuid::parse_str(c).is_err() => Err(crate::problem::ApiError::BadRequest(
            "`cursor` must be a `next_cursor` value".to_owned(),
        )),
        other => Ok(other),
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

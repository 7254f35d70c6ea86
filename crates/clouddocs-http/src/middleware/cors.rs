//! CORS, only for configured origins.
//!
//! No origin configured (the default) means no CORS layer at all: a browser on another origin
//! gets no `Access-Control-Allow-Origin` and refuses to hand it the response. Configured
//! origins are matched exactly (never `*`), and credentials (the session cookie) are allowed
//! for them only.

use std::time::Duration;

use anyhow::bail;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight answer
pub const MAX_AGE: Duration = Duration::from_secs(600);

/// Checks one configured origin: `scheme://host[:port]`, nothing more, never `*` or `null`
///
/// # Errors
/// When the origin is not an exact serialized origin.
pub fn parse_origin(origin: &str) -> anyhow::Result<HeaderValue> {
    let Some((scheme, rest)) = origin.split_once("://") else {
        bail!("CORS origin `{origin}` must look like `https://app.example.com`");
    };
    if scheme != "https" && scheme != "http" {
        bail!("CORS origin `{origin}` must use `https://` (or `http://`)");
    }
    if rest.is_empty()
        || rest.contains(['/', '?', '#', '*', '@', ' ', ','])
        || rest.ends_with(':')
        || origin
            .chars()
            .any(|c| c.is_ascii_uppercase() || !c.is_ascii_graphic())
    {
        bail!(
            "CORS origin `{origin}` must be exactly `scheme://host[:port]` in lower case, \
             without path, wildcard or trailing slash"
        );
    }
    HeaderValue::from_str(origin)
        .map_err(|_| anyhow::anyhow!("CORS origin `{origin}` is not a valid header value"))
}

/// The CORS layer for `origins`, or `None` when no origin is configured
///
/// # Errors
/// When an origin is malformed (see [`parse_origin`]).
pub fn layer(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let origins = origins
        .iter()
        .map(|o| parse_origin(o))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-csrf-token"),
                HeaderName::from_static("x-api-key"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(MAX_AGE),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_origins_are_accepted() {
        assert!(parse_origin("https://app.example.com").is_ok());
        assert!(parse_origin("http://localhost:3000").is_ok());
        for bad in [
            "*",
            "null",
            "https://*.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "app.example.com",
            "ftp://app.example.com",
            "https://",
            "https://App.example.com",
            "https://a.example, https://b.example",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn no_origin_means_no_layer() {
        assert!(matches!(layer(&[]), Ok(None)));
        assert!(matches!(
            layer(&["https://a.example".to_owned()]),
            Ok(Some(_))
        ));
        assert!(layer(&["*".to_owned()]).is_err());
    }
}

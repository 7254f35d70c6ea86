//! Who is on the other end of the connection: address and user agent.
//!
//! The address is the TCP peer, unless that peer is one of the configured trusted proxies
//! ([`crate::rate_limit::TrustedProxies`]): then `X-Forwarded-For` is read from the right,
//! skipping trusted proxies, and the first address that is not one is the client. An
//! untrusted peer's `X-Forwarded-For` is ignored, so a client cannot choose the address its
//! rate limits are counted under.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::state::AppState;

/// The client's address and user agent
#[derive(Debug, Clone)]
pub struct ClientMeta {
    /// The client's address as text, when known
    pub ip: Option<String>,
    /// The client's address, when known: the TCP peer, or the address a trusted proxy
    /// forwarded for
    pub addr: Option<IpAddr>,
    /// `User-Agent`, when sent
    pub user_agent: Option<String>,
}

impl<S> FromRequestParts<S> for ClientMeta
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| {
                app.settings
                    .trusted_proxies
                    .client_ip(peer.ip(), &parts.headers)
            });
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        Ok(Self {
            ip: addr.map(|a| a.to_string()),
            addr,
            user_agent,
        })
    }
}

//! The tower layer: a valid bearer token or a 401, the claims in the request's extensions.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{Request, header};

use crate::{AuthError, Verifier};

/// Refuses requests without a valid CloudDocs access token; puts the [`crate::Claims`] in
/// the request's extensions for the handlers
#[derive(Debug, Clone)]
pub struct RequireBearer {
    verifier: Verifier,
}

impl RequireBearer {
    /// The layer over `verifier`
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier }
    }
}

impl<S> tower::Layer<S> for RequireBearer {
    type Service = RequireBearerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireBearerService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The service [`RequireBearer`] wraps around the inner one
#[derive(Debug, Clone)]
pub struct RequireBearerService<S> {
    inner: S,
    verifier: Verifier,
}

fn bearer(request: &Request<Body>) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty()).then(|| token.to_owned())
}

impl<S> tower::Service<Request<Body>> for RequireBearerService<S>
where
    S: tower::Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's convention).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let Some(token) = bearer(&request) else {
                return Ok(AuthError::Missing.into_response());
            };
            match verifier.verify(&token).await {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(err) => {
                    tracing::info!(reason = %err, "bearer token refused");
                    Ok(err.into_response())
                }
            }
        })
    }
}

//! The bearer token check, in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::handlers::ApiError;
use super::MIN_TOKEN_BYTES;
use crate::error::{Error, Result};

/// Who may call the data endpoints.
pub(crate) struct Auth {
    /// The BLAKE3 hash of the token; `None`: anyone (`allow_unauthenticated`).
    ///
    /// Hashes are compared, not the tokens, so the comparison takes the same time whatever
    /// the length of the token presented, and does not reveal the configured token's length.
    expected: Option<[u8; 32]>,
}

impl Auth {
    /// Requests must present `token`.
    pub(crate) fn token(token: &str) -> Result<Auth> {
        if token.is_empty() {
            return Err(Error::config("the admin bearer token is empty"));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::config(
                "the admin bearer token must be visible ASCII without spaces (it travels in \
                 the Authorization header)",
            ));
        }
        if token.len() < MIN_TOKEN_BYTES {
            return Err(Error::config(format_args!(
                "the admin bearer token is too short ({} bytes); use a random token of at \
                 least {MIN_TOKEN_BYTES} bytes",
                token.len()
            )));
        }
        Ok(Auth {
            expected: Some(*blake3::hash(token.as_bytes()).as_bytes()),
        })
    }

    /// Every request is let through.
    pub(crate) fn none() -> Auth {
        Auth { expected: None }
    }

    /// Whether `headers` carry the token: `Err` with the 401 to send when not.
    fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(expected) = &self.expected else {
            return Ok(());
        };
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized("missing bearer token"));
        };
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let Some(presented) = presented else {
            return Err(ApiError::unauthorized(
                "the Authorization header must read `Bearer <token>`",
            ));
        };
        let hash = blake3::hash(presented.as_bytes());
        if bool::from(hash.as_bytes().ct_eq(expected)) {
            Ok(())
        } else {
            Err(ApiError::unauthorized("invalid bearer token"))
        }
    }
}

/// The middleware in front of every data endpoint.
pub(crate) async fn require(
    State(auth): State<Arc<Auth>>,
    request: Request,
    next: Next,
) -> Response {
    match auth.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

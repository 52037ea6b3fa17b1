//! tonic handlers and the authentication layers: reading the [`Principal`] of a call.
//!
//! [`BearerLayer`](crate::bearer::BearerLayer) (or `ApiKeyLayer`) puts the verified
//! [`Principal`] into the request extensions, and tonic hands those to the handler in
//! [`tonic::Request::extensions`]. [`PrincipalExt`] reads it there, typed:
//!
//! - [`principal`](PrincipalExt::principal) for handlers that accept anonymous calls (an
//!   authentication layer in optional mode);
//! - [`require_principal`](PrincipalExt::require_principal) for the others: it answers a
//!   `Status` ready to return with `?`.
//!
//! Per-service authentication (health checks and reflection open, the rest behind the layers)
//! and per-method scopes ([`ScopeLayer::per_grpc_method`](crate::scope::ScopeLayer::per_grpc_method))
//! are shown in `examples/tonic-grpc`.
//!
//! # Example
//!
//! ```
//! use auth_tower::grpc::PrincipalExt as _;
//! use tonic::{Request, Response, Status};
//!
//! async fn who_am_i(request: Request<()>) -> Result<Response<String>, Status> {
//!     let principal = request.require_principal()?;
//!     Ok(Response::new(principal.subject().to_owned()))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Without an authentication layer in front, there is no principal: a server bug, so
//! // INTERNAL (not UNAUTHENTICATED, which would blame the caller).
//! let status = who_am_i(Request::new(())).await.unwrap_err();
//! assert_eq!(status.code(), tonic::Code::Internal);
//! # }
//! ```

use auth_core::{ErrorCode, Principal};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

use crate::Rejection;

/// Typed access to the authenticated caller of a tonic call; implemented for
/// [`tonic::Request<T>`]. See the [module docs](self).
pub trait PrincipalExt: sealed::Sealed {
    /// The principal an authentication layer verified, or `None` for an anonymous call (or
    /// when no authentication layer runs in front of this service).
    fn principal(&self) -> Option<&Principal>;

    /// The principal an authentication layer verified.
    ///
    /// # Errors
    ///
    /// - When an authentication layer in optional mode let an anonymous call through: the
    ///   `Status` that layer would have answered, `UNAUTHENTICATED` (16) with its
    ///   `www-authenticate` challenges in the metadata.
    /// - When no authentication layer runs in front of this service at all: `INTERNAL` (13,
    ///   `AUTH_LAYER_MISSING`), logged at error level with how to fix it; a configuration bug
    ///   of the server, not the caller's fault.
    fn require_principal(&self) -> Result<&Principal, Status>;
}

impl<T> PrincipalExt for tonic::Request<T> {
    fn principal(&self) -> Option<&Principal> {
        self.extensions().get::<Principal>()
    }

    fn require_principal(&self) -> Result<&Principal, Status> {
        if let Some(principal) = self.principal() {
            return Ok(principal);
        }
        match self.extensions().get::<Rejection>() {
            Some(rejection) => {
                tracing::debug!(
                    target: "auth::decision",
                    outcome = "reject",
                    method = "grpc_handler",
                    code = rejection.code().as_str(),
                    reason = "anonymous call to a handler that requires a principal",
                );
                Err(Status::from(rejection))
            }
            None => {
                tracing::error!(
                    target: "auth::decision",
                    outcome = "reject",
                    method = "grpc_handler",
                    code = ErrorCode::AuthLayerMissing.as_str(),
                    "no Principal in the request extensions: install BearerLayer (or \
                     ApiKeyLayer) on this service, e.g. with tonic's LayerExt::named_layer",
                );
                Err(Status::new(
                    Code::Internal,
                    ErrorCode::AuthLayerMissing.message(),
                ))
            }
        }
    }
}

impl From<&Rejection> for Status {
    /// The gRPC status the layers answer for `rejection`: its code (16 UNAUTHENTICATED,
    /// 7 PERMISSION_DENIED, ...), its client-facing message and its `www-authenticate`
    /// challenges as metadata.
    fn from(rejection: &Rejection) -> Self {
        let mut metadata = MetadataMap::new();
        for challenge in rejection.challenges() {
            // Challenges are built header-safe (visible ASCII), so this never skips one.
            if let Ok(value) = challenge
                .to_str()
                .map_err(drop)
                .and_then(|s| MetadataValue::try_from(s).map_err(drop))
            {
                metadata.append("www-authenticate", value);
            }
        }
        Status::with_metadata(
            Code::from(rejection.code().grpc_code()),
            rejection.message(),
            metadata,
        )
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for tonic::Request<T> {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::AuthError;

    #[test]
    fn the_principal_is_read_from_the_extensions() {
        let mut req = tonic::Request::new(());
        assert!(req.principal().is_none());
        req.extensions_mut()
            .insert(Principal::insecure_for_tests("ann", &[], &["read"]));
        assert_eq!(req.principal().unwrap().subject(), "ann");
        assert_eq!(req.require_principal().unwrap().subject(), "ann");
    }

    #[test]
    fn an_anonymous_call_gets_the_optional_layers_unauthenticated_status() {
        let mut req = tonic::Request::new(());
        req.extensions_mut()
            .insert(Rejection::from_error(AuthError::MissingCredentials));
        let status = req.require_principal().unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        assert!(
            status.metadata().get("www-authenticate").is_some(),
            "{status:?}"
        );
    }

    #[test]
    fn without_any_authentication_layer_the_status_is_internal() {
        let status = tonic::Request::new(()).require_principal().unwrap_err();
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), ErrorCode::AuthLayerMissing.message());
    }

    #[test]
    fn a_rejection_converts_to_its_grpc_code_and_message() {
        let r = Rejection::from_error(AuthError::TokenExpired);
        let status = Status::from(&r);
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.message(), r.message());
    }
}

//! The demo as an OAuth protected resource (issue 20): DPoP-bound tokens (RFC 9449) and its
//! protected resource metadata (RFC 9728).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_DPOP` | `off`, `allowed` or `required`: whether the API takes DPoP-bound tokens (`Authorization: DPoP` + a `DPoP` proof), also takes them, or takes nothing else | `off` |
//!
//! The external origin proofs are checked against (`htu`) and the resource identifiers are
//! `AUTH_DEMO_PUBLIC_URL` (default `http://` + the listen address); the `Host` header is
//! never read.
//!
//! - **Routes.** `GET /.well-known/oauth-protected-resource` describes the resource
//!   `<public>`, `GET /.well-known/oauth-protected-resource/api` the resource `<public>/api`
//!   (RFC 9728 path insertion): `resource`, `authorization_servers` (the issuers the verifier
//!   trusts), `scopes_supported`, `bearer_methods_supported` (`["header"]`) and, with DPoP on,
//!   `dpop_signing_alg_values_supported` and `dpop_bound_access_tokens_required`.
//! - **Challenges.** Every 401 of the bearer layers carries
//!   `resource_metadata="<public>/.well-known/oauth-protected-resource/api"`, computed by the
//!   same function as the route's path.
//! - **Binding at login.** With `AUTH_DPOP` `allowed` or `required`, a `POST /auth/login` that
//!   carries a `DPoP` proof (`htm` `POST`, `htu` `<public>/auth/login`, no `ath`) gets an access
//!   token bound to the proof's key (`cnf.jkt`) and `"token_type":"DPoP"`; an invalid proof
//!   answers 400 `INVALID_DPOP_PROOF`. Without a proof, or with `AUTH_DPOP=off` (the header is
//!   then ignored), the token is a plain `Bearer` one. Refreshes issue unbound tokens (the
//!   refresh token itself is not bound): with `required`, clients log in again.
//! - **Modes.** `off`: `Authorization: DPoP` is not a credential, and bound tokens are refused
//!   as `Bearer` anyway. `allowed`: both schemes, a bound token only as `DPoP`. `required`:
//!   only `DPoP`; the browser session (cookie tokens, which cannot carry proofs) then stops
//!   working. Used proofs are remembered in memory, or in Redis with `REDIS_URL` (so a proof
//!   replayed at another instance is refused).

use std::sync::Arc;

use auth_axum_extractors::openapi::{self, Access, SecuredRoutes};
use auth_core::ConfigError;
use auth_core::clock::Clock;
use auth_core::dpop::{
    DpopVerifier, ExternalOrigin, MemoryOneTimeUseStore, OneTimeUseStore, ProofRequest,
};
use auth_tower::bearer::{BearerLayerBuilder, Dpop, DpopMode};
use auth_tower::resource_metadata::{ProtectedResource, ResourceMetadata};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::tokens::error;

/// The variable that selects the DPoP mode.
pub const DPOP_VAR: &str = "AUTH_DPOP";

/// The path of the demo's token endpoint, whose proofs bind tokens.
pub const LOGIN_PATH: &str = "/auth/login";

/// Reads `AUTH_DPOP` (default `off`).
///
/// # Errors
///
/// For a value other than `off`, `allowed` or `required`.
pub fn mode_from_env(get: &impl Fn(&str) -> Option<String>) -> Result<DpopMode, ConfigError> {
    match get(DPOP_VAR) {
        None => Ok(DpopMode::Off),
        Some(v) => v
            .parse()
            .map_err(|e| ConfigError::Input(format!("{DPOP_VAR}: {e}"))),
    }
}

/// The demo's DPoP settings and resource descriptions. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ResourceServer {
    mode: DpopMode,
    verifier: DpopVerifier,
    origin: ExternalOrigin,
    store: Arc<dyn OneTimeUseStore>,
    api: ProtectedResource,
    root: ProtectedResource,
}

impl ResourceServer {
    /// The demo at `public_url` (an origin without path), DPoP in `mode`, proofs timed by
    /// `clock`, used proofs remembered in memory.
    ///
    /// # Errors
    ///
    /// When `public_url` is not an `https` origin (or `http` on loopback).
    pub fn new(
        mode: DpopMode,
        public_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let public = public_url.trim_end_matches('/');
        Ok(Self {
            mode,
            verifier: DpopVerifier::builder().clock_shared(clock).build()?,
            origin: ExternalOrigin::parse(public)?,
            store: Arc::new(MemoryOneTimeUseStore::new()),
            api: ProtectedResource::new(format!("{public}/api"))?
                .scopes(crate::roles::Role::Admin.default_scopes().iter().copied())
                .name("auth demo API"),
            root: ProtectedResource::new(public)?
                .scopes(crate::roles::Role::Admin.default_scopes().iter().copied())
                .name("auth demo"),
        })
    }

    /// Where used proofs are remembered (Redis with `REDIS_URL`, see [`crate::stores`]).
    #[must_use]
    pub fn with_store(mut self, store: Arc<dyn OneTimeUseStore>) -> Self {
        self.store = store;
        self
    }

    /// The DPoP mode (`AUTH_DPOP`).
    #[must_use]
    pub fn mode(&self) -> DpopMode {
        self.mode
    }

    /// The resource the API routes are (`<public>/api`).
    pub fn api(&self) -> &ProtectedResource {
        &self.api
    }

    /// `builder` with the demo's DPoP settings (unless off) and the API's resource, so its
    /// challenges name the API's metadata.
    pub(crate) fn apply(&self, builder: BearerLayerBuilder) -> BearerLayerBuilder {
        self.apply_for(builder, self.api.clone())
    }

    fn apply_for(
        &self,
        builder: BearerLayerBuilder,
        resource: ProtectedResource,
    ) -> BearerLayerBuilder {
        let builder = builder.protected_resource(resource);
        if self.mode == DpopMode::Off {
            return builder;
        }
        builder.dpop(
            Dpop::new(self.verifier.clone(), self.origin.clone())
                .mode(self.mode)
                .store(Arc::clone(&self.store)),
        )
    }

    /// The key thumbprint a login's `DPoP` proof binds its token to: `Ok(None)` without a
    /// proof or with DPoP off; `Err` is the 400 `INVALID_DPOP_PROOF` (or 503 when the replay
    /// store fails) to answer.
    pub(crate) async fn login_binding(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<String>, Box<Response>> {
        if self.mode == DpopMode::Off {
            return Ok(None);
        }
        let mut proofs = headers.get_all("dpop").iter();
        let proof = match (proofs.next(), proofs.next()) {
            (None, _) => return Ok(None),
            (Some(p), None) => p.to_str().map_err(|_| invalid_proof())?,
            (Some(_), Some(_)) => return Err(invalid_proof()),
        };
        let htu = self.origin.htu(LOGIN_PATH);
        let proof = self
            .verifier
            .verify(proof, &ProofRequest::new("POST", &htu))
            .map_err(|e| {
                tracing::debug!(target: "demo::dpop", reason = %e, "login proof refused");
                invalid_proof()
            })?;
        let now = self.verifier.clock().now();
        match self
            .store
            .use_once(proof.replay_key(), proof.replay_until(), now)
            .await
        {
            Ok(true) => Ok(Some(proof.jkt().to_owned())),
            Ok(false) => Err(invalid_proof()),
            Err(e) => Err(Box::new(crate::tokens::rejection(
                auth_core::AuthError::from(e),
            ))),
        }
    }
}

fn invalid_proof() -> Box<Response> {
    Box::new(error(
        StatusCode::BAD_REQUEST,
        "INVALID_DPOP_PROOF",
        "the dpop proof is invalid",
    ))
}

/// `GET /.well-known/oauth-protected-resource` (the resource `<public>`) and
/// `GET /.well-known/oauth-protected-resource/api` (the resource `<public>/api`), each the
/// document of a bearer layer configured as the demo's.
///
/// # Errors
///
/// When a layer's configuration is invalid (it is fixed and valid).
pub fn router(demo: &crate::Demo) -> Result<SecuredRoutes, ConfigError> {
    let mut router = SecuredRoutes::new();
    let resource = &demo.resource;
    for r in [resource.root.clone(), resource.api.clone()] {
        let layer = resource.apply_for(demo.bearer_builder_plain(), r).build()?;
        if let Some(metadata) = layer.resource_metadata() {
            router = route(router, metadata)?;
        }
    }
    Ok(router)
}

fn route(router: SecuredRoutes, metadata: ResourceMetadata) -> Result<SecuredRoutes, ConfigError> {
    let path = metadata.path().to_owned();
    Ok(router.route(&path, openapi::get_service(metadata), Access::public())?)
}

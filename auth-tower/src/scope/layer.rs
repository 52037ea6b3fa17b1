use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::scope::{RequiredAccess, Requirement, RolePolicy};
use tower_layer::Layer;

use super::service::Scope;
use crate::rejection::Realm;
use crate::response::DefaultRejection;

/// The validated configuration shared by every [`Scope`] service of one layer.
#[derive(Debug)]
pub(crate) struct ScopeConfig {
    pub(crate) requirement: Requirement,
    pub(crate) policy: Arc<RolePolicy>,
    /// `requirement.required_access()`, computed once for 403 bodies and challenges.
    pub(crate) required: RequiredAccess,
    pub(crate) realm: Realm,
}

/// Layer that requires scopes, roles or permissions; see the [module docs](super).
#[derive(Clone, Debug)]
#[must_use]
pub struct ScopeLayer<R = DefaultRejection> {
    config: Arc<ScopeConfig>,
    responder: R,
}

impl ScopeLayer {
    /// Requires `requirement`, with an empty role policy and realm `api`.
    pub fn new(requirement: Requirement) -> Self {
        let required = requirement.required_access();
        Self {
            config: Arc::new(ScopeConfig {
                requirement,
                policy: Arc::new(RolePolicy::new()),
                required,
                realm: Realm::default(),
            }),
            responder: DefaultRejection,
        }
    }
}

impl<R> ScopeLayer<R> {
    /// The role policy that resolves permissions (share one `Arc` across routes).
    pub fn policy(self, policy: impl Into<Arc<RolePolicy>>) -> Self {
        self.map_config(|c| c.policy = policy.into())
    }

    /// The realm named in challenges when no authentication layer left one (default `api`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHeaderValue`] when the realm is empty or not header-safe.
    pub fn realm(self, realm: &str) -> Result<Self, ConfigError> {
        let realm = Realm::new(realm)?;
        Ok(self.map_config(|c| c.realm = realm))
    }

    /// Replaces the responder that renders rejections.
    pub fn responder<R2>(self, responder: R2) -> ScopeLayer<R2> {
        ScopeLayer {
            config: self.config,
            responder,
        }
    }

    fn map_config(mut self, f: impl FnOnce(&mut ScopeConfig)) -> Self {
        let c = &*self.config;
        let mut config = ScopeConfig {
            requirement: c.requirement.clone(),
            policy: Arc::clone(&c.policy),
            required: c.required.clone(),
            realm: c.realm.clone(),
        };
        f(&mut config);
        self.config = Arc::new(config);
        self
    }
}

impl<S, R: Clone> Layer<S> for ScopeLayer<R> {
    type Service = Scope<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Scope::from_parts(inner, Arc::clone(&self.config), self.responder.clone())
    }
}

use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::scope::{Requirement, RolePolicy};
use tower_layer::Layer;

use super::methods::{GrpcMethods, Rule, Rules};
use super::routes::HttpRoutes;
use super::service::Scope;
use crate::rejection::Realm;
use crate::response::DefaultRejection;

/// The validated configuration shared by every [`Scope`] service of one layer.
#[derive(Debug)]
pub(crate) struct ScopeConfig {
    /// The requirement (one, or one per gRPC method) with what its denials report.
    pub(crate) rules: Rules,
    pub(crate) policy: Arc<RolePolicy>,
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
        Self::with_rules(Rules::One(Rule::new(requirement)))
    }

    /// Requires, of each gRPC call, the requirement of its method (see [`GrpcMethods`]), with
    /// an empty role policy and realm `api`. A call no rule covers is denied unless
    /// [`GrpcMethods::otherwise`] says what it needs.
    ///
    /// Install it behind the authentication layer on the services it is for (with tonic:
    /// `tonic::service::LayerExt::named_layer`), so the services left without it (health
    /// checks, reflection) stay open.
    ///
    /// ```
    /// use auth_core::Principal;
    /// use auth_core::scope::Requirement;
    /// use auth_tower::scope::{GrpcMethods, ScopeLayer};
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use http_body_util::Full;
    /// use std::convert::Infallible;
    /// use tower::{Layer, ServiceExt, service_fn};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let layer = ScopeLayer::per_grpc_method(
    ///     GrpcMethods::new().method("/demo.v1.Orders/RefundOrder", Requirement::scope("orders:refund")),
    /// )?;
    /// let svc = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
    ///     Ok::<_, Infallible>(Response::new(Full::default()))
    /// }));
    ///
    /// let call = |path: &str| {
    ///     let mut req = Request::post(path)
    ///         .header("content-type", "application/grpc")
    ///         .body(Full::default())
    ///         .unwrap();
    ///     // What BearerLayer leaves for a token with scope `read:orders` (fabricated here
    ///     // with auth-core's `test-util` feature).
    ///     req.extensions_mut().insert(Principal::insecure_for_tests("ann", &[], &["read:orders"]));
    ///     req
    /// };
    /// let res = svc.clone().oneshot(call("/demo.v1.Orders/RefundOrder")).await?;
    /// assert_eq!(res.headers()["grpc-status"], "7"); // PERMISSION_DENIED
    /// let res = svc.oneshot(call("/demo.v1.Orders/ListOrders")).await?;
    /// assert_eq!(res.headers()["grpc-status"], "7"); // no rule: denied
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidPolicy`] when a method path is not `/<package>.<Service>/<Method>`,
    /// a service name is not `<package>.<Service>`, or either is listed twice.
    pub fn per_grpc_method(methods: GrpcMethods) -> Result<Self, ConfigError> {
        Ok(Self::with_rules(methods.compile()?))
    }

    /// Requires, of each HTTP request, the requirement of its route (see [`HttpRoutes`]), with
    /// an empty role policy and realm `api`. A request no route matches is denied unless
    /// [`HttpRoutes::otherwise`] says what it needs.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidPolicy`] when a path pattern is malformed or a route is listed
    /// twice for the same method.
    pub fn per_route(routes: HttpRoutes) -> Result<Self, ConfigError> {
        Ok(Self::with_rules(Rules::ByRoute(routes.compile()?)))
    }

    fn with_rules(rules: Rules) -> Self {
        Self {
            config: Arc::new(ScopeConfig {
                rules,
                policy: Arc::new(RolePolicy::new()),
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
            rules: c.rules.clone(),
            policy: Arc::clone(&c.policy),
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

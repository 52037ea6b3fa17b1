//! `SecuredRoutes`: an axum `Router` whose every route is declared with its [`Access`].

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::scope::Requirement;
use auth_tower::scope::ScopeLayer;
use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route};
use http::Method;
use tower_layer::Layer;
use tower_service::Service;

use super::{Access, RouteTable};

/// Builds the `ScopeLayer` of a requirement (policy, realm, responder).
type ScopeLayerFn = dyn Fn(Requirement) -> Result<ScopeLayer, ConfigError> + Send + Sync;

/// A route's handlers by method, made with [`get`], [`post`], [`put`], [`patch`], [`delete`]
/// (or their service forms) and chained like axum's `MethodRouter` (`get(list).post(create)`).
/// It knows its methods, so [`SecuredRoutes`] can write one table row per method.
///
/// Layers added with [`route_layer`](Self::route_layer) run *after* the route's `ScopeLayer`
/// (audit, rate limits of the route itself); authentication layers go on the group
/// ([`SecuredRoutes::route_layer`]), so that the principal exists when the `ScopeLayer` looks.
#[must_use]
pub struct Endpoint<S = ()> {
    methods: Vec<Method>,
    router: MethodRouter<S>,
    /// A method chained twice (axum would panic): reported by [`SecuredRoutes::route`].
    repeated: Option<Method>,
}

impl<S> fmt::Debug for Endpoint<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}

macro_rules! endpoint_methods {
    ($($name:ident, $service:ident, $method:ident;)*) => {
        $(
            #[doc = concat!("An [`Endpoint`] answering `", stringify!($method), "` with `handler`.")]
            pub fn $name<H, T, S>(handler: H) -> Endpoint<S>
            where
                H: Handler<T, S>,
                T: 'static,
                S: Clone + Send + Sync + 'static,
            {
                Endpoint {
                    methods: vec![Method::$method],
                    router: axum::routing::$name(handler),
                    repeated: None,
                }
            }

            #[doc = concat!("An [`Endpoint`] answering `", stringify!($method), "` with the service `svc`.")]
            pub fn $service<T, S>(svc: T) -> Endpoint<S>
            where
                T: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
                T::Response: IntoResponse + 'static,
                T::Future: Send + 'static,
                S: Clone + Send + Sync + 'static,
            {
                Endpoint {
                    methods: vec![Method::$method],
                    router: axum::routing::$service(svc),
                    repeated: None,
                }
            }

            impl<S: Clone + Send + Sync + 'static> Endpoint<S> {
                #[doc = concat!("Also answers `", stringify!($method), "` with `handler` (a second `",
                    stringify!($method), "` makes [`SecuredRoutes::route`] fail).")]
                pub fn $name<H, T>(mut self, handler: H) -> Self
                where
                    H: Handler<T, S>,
                    T: 'static,
                {
                    if self.methods.contains(&Method::$method) {
                        self.repeated.get_or_insert(Method::$method);
                        return self;
                    }
                    self.methods.push(Method::$method);
                    self.router = self.router.$name(handler);
                    self
                }
            }
        )*
    };
}

endpoint_methods! {
    get, get_service, GET;
    post, post_service, POST;
    put, put_service, PUT;
    patch, patch_service, PATCH;
    delete, delete_service, DELETE;
}

impl<S: Clone + Send + Sync + 'static> Endpoint<S> {
    /// Wraps the endpoint's handlers in `layer` (axum's `MethodRouter::route_layer`): requests
    /// for a method the endpoint does not answer get 405 without reaching the layer.
    pub fn route_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.route_layer(layer);
        self
    }

    /// The methods answered, in the order given.
    #[must_use]
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }
}

/// A route could not be declared.
#[derive(Debug)]
#[non_exhaustive]
pub enum RouteError {
    /// The same method and path were declared twice (axum would panic).
    Duplicate {
        /// The method.
        method: Method,
        /// The path.
        path: String,
    },
    /// The path is empty or does not start with `/` (axum would panic).
    InvalidPath(String),
    /// The route's `ScopeLayer` could not be built.
    Layer(ConfigError),
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate { method, path } => write!(f, "route {method} {path} declared twice"),
            Self::InvalidPath(p) => write!(f, "route path {p:?} must start with '/'"),
            Self::Layer(_) => f.write_str("the route's scope layer is misconfigured"),
        }
    }
}

impl std::error::Error for RouteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Layer(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for RouteError {
    fn from(e: ConfigError) -> Self {
        Self::Layer(e)
    }
}

/// For builders that report [`ConfigError`]: a layer's error as itself, the others as
/// [`ConfigError::Input`].
impl From<RouteError> for ConfigError {
    fn from(e: RouteError) -> Self {
        match e {
            RouteError::Layer(e) => e,
            other => Self::Input(other.to_string()),
        }
    }
}

/// An axum `Router` whose routes are each declared once with their [`Access`]: the route gets
/// the `ScopeLayer` the access requires, and the [`RouteTable`] records (method, path, access)
/// for the OpenAPI document and for tests. Both come from the same call, so the document
/// cannot claim a protection the router lacks, or the reverse.
///
/// Authentication layers (`BearerLayer`, `ApiKeyLayer`, usually in optional mode) go on the
/// group with [`route_layer`](Self::route_layer), as on a `Router`; the per-route
/// `ScopeLayer` then answers 401 for anonymous callers and 403 for insufficient rights. The
/// `ScopeLayer` wraps the endpoint's own layers ([`Endpoint::route_layer`]) and only its
/// methods: other methods get 405.
///
/// ```
/// use auth_axum_extractors::Authenticated;
/// use auth_axum_extractors::openapi::{self, Access, Scheme, SecuredRoutes, SecuritySchemes};
/// use auth_core::scope::Requirement;
/// use utoipa::openapi::{Info, OpenApi, Paths};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let routes = SecuredRoutes::new()
///     .route("/health", openapi::get(|| async { "ok" }), Access::public())?
///     .route(
///         "/orders",
///         openapi::get(|p: Authenticated| async move { p.subject().to_owned() }),
///         Access::require(Requirement::scope("read:orders"), [Scheme::BEARER]),
///     )?;
/// let (router, table) = routes.into_parts();
/// # let _: axum::Router = router;
///
/// let mut doc = OpenApi::new(Info::new("orders", "1.0.0"), Paths::new());
/// SecuritySchemes::new().bearer_jwt().apply(&mut doc);
/// table.apply(&mut doc);
/// let json = serde_json::to_value(&doc)?;
/// assert_eq!(json["paths"]["/orders"]["get"]["security"], serde_json::json!([{"bearer": ["read:orders"]}]));
/// assert!(json["paths"]["/health"]["get"].get("security").is_none());
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct SecuredRoutes<S = ()> {
    router: Router<S>,
    table: RouteTable,
    scope_layer: Arc<ScopeLayerFn>,
}

impl<S> fmt::Debug for SecuredRoutes<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecuredRoutes")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl<S: Clone + Send + Sync + 'static> Default for SecuredRoutes<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> SecuredRoutes<S> {
    /// No routes; requirements are enforced by `ScopeLayer::new(requirement)`.
    pub fn new() -> Self {
        Self::with_scope_layer(|r| Ok(ScopeLayer::new(r)))
    }

    /// No routes; each requirement is enforced by the `ScopeLayer` that `make` builds (to set
    /// the role policy, realm or responder), called once per declared route.
    pub fn with_scope_layer(
        make: impl Fn(Requirement) -> Result<ScopeLayer, ConfigError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            router: Router::new(),
            table: RouteTable::default(),
            scope_layer: Arc::new(make),
        }
    }

    /// Declares `path` answered by `endpoint`, callable as `access` says: when it requires a
    /// principal, the endpoint is wrapped in the `ScopeLayer` of that requirement; each of the
    /// endpoint's methods gets a row in the table.
    ///
    /// # Errors
    ///
    /// [`RouteError::Duplicate`] when a method of `endpoint` is already declared for `path`,
    /// [`RouteError::InvalidPath`] when `path` does not start with `/`, and
    /// [`RouteError::Layer`] when the `ScopeLayer` cannot be built.
    ///
    /// # Panics
    ///
    /// When axum refuses the path for conflicting with another route's
    /// (`/{a}` beside `/{b}`), as `Router::route` does.
    pub fn route(
        mut self,
        path: &str,
        endpoint: Endpoint<S>,
        access: Access,
    ) -> Result<Self, RouteError> {
        if !path.starts_with('/') {
            return Err(RouteError::InvalidPath(path.to_owned()));
        }
        let duplicate = endpoint.repeated.clone().or_else(|| {
            endpoint
                .methods
                .iter()
                .find(|m| self.table.contains(m, path))
                .cloned()
        });
        if let Some(method) = duplicate {
            return Err(RouteError::Duplicate {
                method,
                path: path.to_owned(),
            });
        }
        // `route_layer`: a method the endpoint does not answer gets 405 whoever asks.
        let router = match access.requirement() {
            Some(requirement) => endpoint
                .router
                .route_layer((self.scope_layer)(requirement.clone())?),
            None => endpoint.router,
        };
        for method in endpoint.methods {
            self.table.insert(method, path, access.clone());
        }
        self.router = self.router.route(path, router);
        Ok(self)
    }

    /// Wraps every route declared so far in `layer` (axum's `Router::route_layer`); a no-op
    /// while no route is declared (where axum would panic).
    pub fn route_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        if !self.table.is_empty() {
            self.router = self.router.route_layer(layer);
        }
        self
    }

    /// Adds the routes of `other` (with their layers), keeping this builder's `ScopeLayer`
    /// maker for routes declared later.
    ///
    /// # Errors
    ///
    /// [`RouteError::Duplicate`] when both declare a method on the same path.
    pub fn merge(mut self, other: SecuredRoutes<S>) -> Result<Self, RouteError> {
        if let Some(e) = other
            .table
            .routes()
            .find(|e| self.table.contains(e.method(), e.path()))
        {
            return Err(RouteError::Duplicate {
                method: e.method().clone(),
                path: e.path().to_owned(),
            });
        }
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        Ok(self)
    }

    /// Provides the state, as `Router::with_state`.
    pub fn with_state<S2: Clone + Send + Sync + 'static>(self, state: S) -> SecuredRoutes<S2> {
        SecuredRoutes {
            router: self.router.with_state(state),
            table: self.table,
            scope_layer: self.scope_layer,
        }
    }

    /// The routes declared so far.
    #[must_use]
    pub fn table(&self) -> &RouteTable {
        &self.table
    }

    /// The router and its table.
    pub fn into_parts(self) -> (Router<S>, RouteTable) {
        (self.router, self.table)
    }
}

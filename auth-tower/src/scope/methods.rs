//! [`GrpcMethods`]: a requirement per gRPC method, for [`ScopeLayer::per_grpc_method`].

use std::collections::HashMap;

use auth_core::ConfigError;
use auth_core::scope::{RequiredAccess, Requirement};

#[cfg(doc)]
use super::ScopeLayer;

/// What a [`ScopeLayer`] requires of each gRPC method, by its path `/<package>.<Service>/<Method>`
/// (the `:path` of every gRPC call, e.g. `/demo.v1.Orders/RefundOrder`).
///
/// A call's requirement is, in this order: its method's, else its service's (the methods of
/// that service not listed one by one), else the [`otherwise`](Self::otherwise) requirement,
/// which by default is **never satisfied**: a method nobody gave a rule (a newly added RPC) is
/// denied with `PERMISSION_DENIED` until it gets one, rather than open to every authenticated
/// caller. Paths match exactly (case-sensitive, no normalization), as tonic's generated
/// servers dispatch, so a path that would reach a method under another spelling does not
/// exist.
///
/// Install it with [`ScopeLayer::per_grpc_method`]; see the [module docs](super) for what a
/// denial looks like.
///
/// ```
/// use auth_core::scope::Requirement;
/// use auth_tower::scope::{GrpcMethods, ScopeLayer};
///
/// let layer = ScopeLayer::per_grpc_method(
///     GrpcMethods::new()
///         .method("/demo.v1.Orders/ListOrders", Requirement::scope("read:orders"))
///         .method("/demo.v1.Orders/RefundOrder", Requirement::scope("orders:refund"))
///         // Every other method of demo.v1.Orders: an admin only.
///         .service("demo.v1.Orders", Requirement::role("admin")),
/// )?;
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct GrpcMethods {
    methods: Vec<(String, Requirement)>,
    services: Vec<(String, Requirement)>,
    otherwise: Option<Requirement>,
}

impl GrpcMethods {
    /// No rules yet: every call is denied.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `requirement` for the method at `path`, `/<package>.<Service>/<Method>`.
    pub fn method(mut self, path: impl Into<String>, requirement: Requirement) -> Self {
        self.methods.push((path.into(), requirement));
        self
    }

    /// Requires `requirement` for the methods of `service` (`<package>.<Service>`, e.g.
    /// `demo.v1.Orders`) that have no rule of their own.
    pub fn service(mut self, service: impl Into<String>, requirement: Requirement) -> Self {
        self.services.push((service.into(), requirement));
        self
    }

    /// Requires `requirement` for calls no method or service rule covers (default: never
    /// satisfied, so they are denied). `Requirement::all([])` lets any authenticated caller
    /// through.
    pub fn otherwise(mut self, requirement: Requirement) -> Self {
        self.otherwise = Some(requirement);
        self
    }

    /// Checks every path and name once and indexes the rules.
    pub(crate) fn compile(self) -> Result<Rules, ConfigError> {
        let invalid = |what: &str, name: &str, why: &str| ConfigError::InvalidPolicy {
            setting: "grpc method rule",
            reason: format!("{what} `{}` {why}", name.escape_debug()),
        };
        let mut methods = HashMap::with_capacity(self.methods.len());
        for (path, requirement) in self.methods {
            let valid = path
                .strip_prefix('/')
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(service, method)| {
                    is_name(service) && is_name(method) && !method.contains('.')
                });
            if !valid {
                return Err(invalid(
                    "method path",
                    &path,
                    "is not /<package>.<Service>/<Method>",
                ));
            }
            if methods.contains_key(path.as_str()) {
                return Err(invalid("method path", &path, "is listed twice"));
            }
            methods.insert(path.into_boxed_str(), Rule::new(requirement));
        }
        let mut services = HashMap::with_capacity(self.services.len());
        for (name, requirement) in self.services {
            if !is_name(&name) {
                return Err(invalid(
                    "service",
                    &name,
                    "is not a service name like demo.v1.Orders",
                ));
            }
            if services.contains_key(name.as_str()) {
                return Err(invalid("service", &name, "is listed twice"));
            }
            services.insert(name.into_boxed_str(), Rule::new(requirement));
        }
        let otherwise = Rule::new(self.otherwise.unwrap_or_else(|| Requirement::any([])));
        Ok(Rules::ByGrpcMethod {
            methods,
            services,
            otherwise,
        })
    }
}

/// A non-empty gRPC name: letters, digits, `_` and `.`, nothing a path could hide.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// A requirement with what a denial reports, computed once.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub(crate) requirement: Requirement,
    pub(crate) required: RequiredAccess,
}

impl Rule {
    pub(crate) fn new(requirement: Requirement) -> Self {
        let required = requirement.required_access();
        Self {
            requirement,
            required,
        }
    }
}

/// What a [`ScopeLayer`] checks: one rule for every request, one per gRPC method, or one per
/// HTTP route.
#[derive(Clone, Debug)]
pub(crate) enum Rules {
    One(Rule),
    ByRoute(super::routes::RouteTable),
    ByGrpcMethod {
        methods: HashMap<Box<str>, Rule>,
        services: HashMap<Box<str>, Rule>,
        otherwise: Rule,
    },
}

impl Rules {
    /// The rule for a `method` request to `path`.
    pub(crate) fn for_request(&self, method: &http::Method, path: &str) -> &Rule {
        match self {
            Self::One(rule) => rule,
            Self::ByRoute(table) => table.rule(method, path),
            Self::ByGrpcMethod {
                methods,
                services,
                otherwise,
            } => methods
                .get(path)
                .or_else(|| {
                    let (service, _method) = path.strip_prefix('/')?.rsplit_once('/')?;
                    services.get(service)
                })
                .unwrap_or(otherwise),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        GrpcMethods::new()
            .method("/demo.v1.Orders/RefundOrder", Requirement::scope("refund"))
            .service("demo.v1.Orders", Requirement::scope("read"))
            .compile()
            .unwrap()
    }

    fn required(path: &str) -> String {
        rules()
            .for_request(&http::Method::POST, path)
            .requirement
            .to_string()
    }

    #[test]
    fn a_method_rule_wins_over_its_services_rule() {
        assert_eq!(required("/demo.v1.Orders/RefundOrder"), "refund");
        assert_eq!(required("/demo.v1.Orders/ListOrders"), "read");
    }

    #[test]
    fn paths_without_a_rule_are_never_satisfied_by_default() {
        for path in [
            "/demo.v1.Greeter/WhoAmI",
            "/demo.v1.Orders/RefundOrder/",
            "/demo.v1.orders/RefundOrder",
            "//demo.v1.Orders/RefundOrder",
            "/demo.v1.Orders",
            "",
            "/",
        ] {
            let rule = rules();
            let rule = rule.for_request(&http::Method::POST, path);
            assert_eq!(rule.requirement, Requirement::any([]), "{path:?}");
        }
        let open = GrpcMethods::new()
            .otherwise(Requirement::all([]))
            .compile()
            .unwrap();
        assert_eq!(
            open.for_request(&http::Method::POST, "/x.Y/Z").requirement,
            Requirement::all([])
        );
    }

    #[test]
    fn malformed_or_duplicate_rules_are_refused_at_build() {
        let bad = [
            GrpcMethods::new().method("demo.v1.Orders/List", Requirement::scope("a")),
            GrpcMethods::new().method("/demo.v1.Orders", Requirement::scope("a")),
            GrpcMethods::new().method("/demo.v1.Orders/", Requirement::scope("a")),
            GrpcMethods::new().method("/demo.v1.Orders/List/x", Requirement::scope("a")),
            GrpcMethods::new().method("/demo v1.Orders/List", Requirement::scope("a")),
            GrpcMethods::new().service("", Requirement::scope("a")),
            GrpcMethods::new().service("demo.v1.Orders/", Requirement::scope("a")),
            GrpcMethods::new()
                .method("/a.B/C", Requirement::scope("a"))
                .method("/a.B/C", Requirement::scope("b")),
            GrpcMethods::new()
                .service("a.B", Requirement::scope("a"))
                .service("a.B", Requirement::scope("b")),
        ];
        for methods in bad {
            let shown = format!("{methods:?}");
            assert!(
                matches!(methods.compile(), Err(ConfigError::InvalidPolicy { .. })),
                "{shown}"
            );
        }
    }
}

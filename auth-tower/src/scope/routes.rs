//! [`HttpRoutes`]: a requirement per HTTP route, for [`ScopeLayer::per_route`].

use auth_core::ConfigError;
use auth_core::scope::Requirement;
use http::Method;

#[cfg(doc)]
use super::ScopeLayer;
use super::methods::Rule;

/// What a [`ScopeLayer`] requires of each HTTP route, so one layer in front of a whole router
/// holds the table (as configuration files describe it: `auth_core::settings::ScopeSettings`).
///
/// A route is a method (or every method) and a path pattern in axum's syntax: literal
/// segments, `{name}` for exactly one non-empty segment, and `{*name}` (last only) for one or
/// more remaining segments. A request's rule is the most specific match, segment by segment
/// (a literal beats `{name}`, which beats `{*name}`), then a rule for its method over one for
/// every method; `HEAD` requests use `GET` rules, as axum routes them. Paths are compared as the
/// layer sees them (`uri().path()`, not percent-decoded, no trailing-slash folding), as axum's
/// router matches them; inside an axum `nest`, that is the path without the nest's prefix.
///
/// A request no rule matches needs [`otherwise`](Self::otherwise), by default **never
/// satisfied**: a route added to the application without a rule is refused (403), not open to
/// every authenticated caller.
///
/// ```
/// use auth_core::scope::Requirement;
/// use auth_tower::scope::{HttpRoutes, ScopeLayer};
/// use http::Method;
///
/// let layer = ScopeLayer::per_route(
///     HttpRoutes::new()
///         .route(Method::GET, "/orders", Requirement::scope("read:orders"))
///         .route(Method::POST, "/orders/{id}/refund", Requirement::permission("orders:refund"))
///         .any_method("/admin/{*rest}", Requirement::role("admin")),
/// )?;
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct HttpRoutes {
    routes: Vec<(Option<Method>, String, Requirement)>,
    otherwise: Option<Requirement>,
}

impl HttpRoutes {
    /// No rules yet: every request is denied.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `requirement` for `method` requests to `path`.
    pub fn route(
        mut self,
        method: Method,
        path: impl Into<String>,
        requirement: Requirement,
    ) -> Self {
        self.routes.push((Some(method), path.into(), requirement));
        self
    }

    /// Requires `requirement` for requests to `path` whatever their method (a rule for the
    /// request's method, if any, wins).
    pub fn any_method(mut self, path: impl Into<String>, requirement: Requirement) -> Self {
        self.routes.push((None, path.into(), requirement));
        self
    }

    /// Requires `requirement` for requests no route matches (default: never satisfied).
    pub fn otherwise(mut self, requirement: Requirement) -> Self {
        self.otherwise = Some(requirement);
        self
    }

    /// Parses every pattern once.
    pub(crate) fn compile(self) -> Result<RouteTable, ConfigError> {
        let mut routes: Vec<CompiledRoute> = Vec::with_capacity(self.routes.len());
        for (method, path, requirement) in self.routes {
            let segments = parse(&path)?;
            let rank: Vec<u8> = segments.iter().map(Segment::rank).collect();
            if routes
                .iter()
                .any(|r| r.method == method && r.rank == rank && same_shape(&r.segments, &segments))
            {
                return Err(invalid(&path, "is listed twice for the same method"));
            }
            routes.push(CompiledRoute {
                method,
                segments,
                rank,
                rule: Rule::new(requirement),
            });
        }
        Ok(RouteTable {
            routes,
            otherwise: Rule::new(self.otherwise.unwrap_or_else(|| Requirement::any([]))),
        })
    }
}

fn invalid(path: &str, why: &str) -> ConfigError {
    ConfigError::InvalidPolicy {
        setting: "http route rule",
        reason: format!("route `{}` {why}", path.escape_debug()),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(Box<str>),
    Param,
    CatchAll,
}

impl Segment {
    const fn rank(&self) -> u8 {
        match self {
            Self::Literal(_) => 2,
            Self::Param => 1,
            Self::CatchAll => 0,
        }
    }
}

fn same_shape(a: &[Segment], b: &[Segment]) -> bool {
    a == b
}

/// `/a/{b}/{*c}` into segments.
fn parse(path: &str) -> Result<Vec<Segment>, ConfigError> {
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| invalid(path, "does not start with `/`"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let last = parts.len().saturating_sub(1);
    let mut segments = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        let segment = if let Some(name) = part.strip_prefix("{*").and_then(|p| p.strip_suffix('}'))
        {
            if i != last || name.is_empty() {
                return Err(invalid(
                    path,
                    "has a `{*name}` that is not its last segment",
                ));
            }
            Segment::CatchAll
        } else if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if name.is_empty() || name.contains(['{', '}']) {
                return Err(invalid(path, "has an unnamed or malformed `{name}`"));
            }
            Segment::Param
        } else if part.contains(['{', '}']) || part.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(invalid(
                path,
                "has a segment with braces, spaces or control characters that is not a whole \
                 `{name}`",
            ));
        } else {
            Segment::Literal(part.into())
        };
        segments.push(segment);
    }
    Ok(segments)
}

#[derive(Clone, Debug)]
struct CompiledRoute {
    method: Option<Method>,
    segments: Vec<Segment>,
    rank: Vec<u8>,
    rule: Rule,
}

impl CompiledRoute {
    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = match &self.method {
            None => true,
            Some(m) => m == method || (*method == Method::HEAD && *m == Method::GET),
        };
        if !method_ok {
            return false;
        }
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let mut parts = rest.split('/');
        for segment in &self.segments {
            match segment {
                Segment::CatchAll => {
                    // One or more remaining segments, the first non-empty.
                    return parts.next().is_some_and(|p| !p.is_empty());
                }
                Segment::Param => {
                    if parts.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
                Segment::Literal(l) => {
                    if parts.next() != Some(&**l) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    /// Orders matches: more specific segments first, then a method rule over an any-method one.
    fn beats(&self, other: &Self) -> bool {
        match self.rank.cmp(&other.rank) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => self.method.is_some() && other.method.is_none(),
        }
    }
}

/// The compiled table.
#[derive(Clone, Debug)]
pub(crate) struct RouteTable {
    routes: Vec<CompiledRoute>,
    otherwise: Rule,
}

impl RouteTable {
    /// The rule of the most specific route matching the request, else `otherwise`.
    pub(crate) fn rule(&self, method: &Method, path: &str) -> &Rule {
        let mut best: Option<&CompiledRoute> = None;
        for route in self.routes.iter().filter(|r| r.matches(method, path)) {
            if best.is_none_or(|b| route.beats(b)) {
                best = Some(route);
            }
        }
        best.map_or(&self.otherwise, |r| &r.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        HttpRoutes::new()
            .route(Method::GET, "/orders", Requirement::scope("list"))
            .route(Method::GET, "/orders/{id}", Requirement::scope("read"))
            .route(Method::GET, "/orders/export", Requirement::scope("export"))
            .any_method("/orders/{id}", Requirement::scope("any"))
            .route(
                Method::POST,
                "/orders/{id}/refund",
                Requirement::scope("refund"),
            )
            .any_method("/admin/{*rest}", Requirement::scope("admin"))
            .route(Method::GET, "/", Requirement::scope("root"))
            .compile()
            .unwrap()
    }

    fn required(method: Method, path: &str) -> String {
        table().rule(&method, path).requirement.to_string()
    }

    #[test]
    fn the_most_specific_route_wins() {
        assert_eq!(required(Method::GET, "/orders"), "list");
        assert_eq!(required(Method::GET, "/orders/7"), "read");
        assert_eq!(required(Method::HEAD, "/orders/7"), "read");
        assert_eq!(required(Method::GET, "/orders/export"), "export");
        assert_eq!(required(Method::DELETE, "/orders/7"), "any");
        assert_eq!(required(Method::POST, "/orders/7/refund"), "refund");
        assert_eq!(required(Method::PUT, "/admin/users/3"), "admin");
        assert_eq!(required(Method::GET, "/"), "root");
    }

    #[test]
    fn requests_no_route_matches_are_never_satisfied_by_default() {
        for (method, path) in [
            (Method::GET, "/orders/"),
            (Method::GET, "/orders//refund"),
            (Method::GET, "/Orders"),
            (Method::GET, "/orders/7/refund"),
            (Method::POST, "/orders"),
            (Method::GET, "/admin"),
            (Method::GET, "/admin/"),
            (Method::GET, ""),
            (Method::GET, "//orders"),
        ] {
            let t = table();
            assert_eq!(
                t.rule(&method, path).requirement,
                Requirement::any([]),
                "{method} {path}"
            );
        }
        let open = HttpRoutes::new()
            .otherwise(Requirement::all([]))
            .compile()
            .unwrap();
        assert_eq!(
            open.rule(&Method::GET, "/x").requirement,
            Requirement::all([])
        );
    }

    #[test]
    fn malformed_or_duplicate_routes_are_refused_at_build() {
        let r = || Requirement::scope("a");
        for bad in [
            HttpRoutes::new().any_method("orders", r()),
            HttpRoutes::new().any_method("/a/{*rest}/b", r()),
            HttpRoutes::new().any_method("/a/{}", r()),
            HttpRoutes::new().any_method("/a/x{id}", r()),
            HttpRoutes::new().any_method("/a b", r()),
            HttpRoutes::new().route(Method::GET, "/a/{id}", r()).route(
                Method::GET,
                "/a/{other}",
                r(),
            ),
        ] {
            let shown = format!("{bad:?}");
            assert!(
                matches!(bad.compile(), Err(ConfigError::InvalidPolicy { .. })),
                "{shown}"
            );
        }
    }
}

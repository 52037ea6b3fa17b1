//! Authorization rules: scopes, roles, permissions granted to roles, and combinations.
//!
//! A [`Requirement`] is built once (at router construction) and checked per request against a
//! [`Principal`] without allocating. Permissions are resolved through a [`RolePolicy`] so that
//! routes can require `orders:refund` instead of naming the roles that may refund.
//!
//! ```
//! use auth_core::scope::{Requirement, RolePolicy};
//! # #[cfg(feature = "test-util")] {
//! use auth_core::Principal;
//!
//! let policy = RolePolicy::builder()
//!     .grant("orders:refund", ["manager", "admin"])
//!     .build();
//! let rule = Requirement::any([
//!     Requirement::role("admin"),
//!     Requirement::all([Requirement::scope("read:orders"), Requirement::permission("orders:refund")]),
//! ]);
//!
//! let manager = Principal::insecure_for_tests("ann", &["manager"], &["read:orders"]);
//! let clerk = Principal::insecure_for_tests("bob", &["clerk"], &["read:orders"]);
//! assert!(rule.is_satisfied_by(&manager, &policy));
//! assert!(!rule.is_satisfied_by(&clerk, &policy));
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::error::ErrorCode;
use crate::principal::Principal;

/// What a route requires of a principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement(Repr);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Repr {
    AllScopes(Box<[String]>),
    AnyScope(Box<[String]>),
    Role(String),
    Permission(String),
    All(Box<[Requirement]>),
    Any(Box<[Requirement]>),
}

impl Requirement {
    /// The principal holds `scope`.
    pub fn scope(scope: impl Into<String>) -> Self {
        Self(Repr::AllScopes(Box::new([scope.into()])))
    }

    /// The principal holds every one of `scopes`.
    pub fn all_scopes<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(Repr::AllScopes(
            scopes.into_iter().map(Into::into).collect(),
        ))
    }

    /// The principal holds at least one of `scopes` (none given: never satisfied).
    pub fn any_scope<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(Repr::AnyScope(scopes.into_iter().map(Into::into).collect()))
    }

    /// The principal has `role`.
    pub fn role(role: impl Into<String>) -> Self {
        Self(Repr::Role(role.into()))
    }

    /// The principal has `permission`: one of its roles is granted it by the [`RolePolicy`],
    /// or it holds a scope of exactly that name (so an API key can carry a permission).
    pub fn permission(permission: impl Into<String>) -> Self {
        Self(Repr::Permission(permission.into()))
    }

    /// Every one of `rules` holds.
    pub fn all(rules: impl IntoIterator<Item = Requirement>) -> Self {
        Self(Repr::All(rules.into_iter().collect()))
    }

    /// At least one of `rules` holds (none given: never satisfied).
    pub fn any(rules: impl IntoIterator<Item = Requirement>) -> Self {
        Self(Repr::Any(rules.into_iter().collect()))
    }

    /// Whether `principal` meets this requirement. Allocates nothing.
    #[must_use]
    pub fn is_satisfied_by(&self, principal: &Principal, policy: &RolePolicy) -> bool {
        match &self.0 {
            Repr::AllScopes(s) => s.iter().all(|s| principal.has_scope(s)),
            Repr::AnyScope(s) => s.iter().any(|s| principal.has_scope(s)),
            Repr::Role(r) => principal.has_role(r),
            Repr::Permission(p) => {
                principal.has_scope(p) || policy.roles_for(p).iter().any(|r| principal.has_role(r))
            }
            Repr::All(rules) => rules.iter().all(|r| r.is_satisfied_by(principal, policy)),
            Repr::Any(rules) => rules.iter().any(|r| r.is_satisfied_by(principal, policy)),
        }
    }

    /// The tokens that describe this requirement, for the 403 body's `required` list: scopes
    /// and permissions as themselves, roles as `role:<name>`, without duplicates.
    ///
    /// Not for the RFC 6750 `scope` attribute, which clients read as OAuth scopes: use
    /// [`oauth_scopes`](Self::oauth_scopes) (or [`RequiredAccess`]) there.
    #[must_use]
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out, false);
        out
    }

    /// The OAuth scopes named by this requirement (those given to [`scope`](Self::scope),
    /// [`all_scopes`](Self::all_scopes) and [`any_scope`](Self::any_scope), anywhere in it),
    /// without duplicates: what the RFC 6750 `scope` attribute may list. Roles and permissions
    /// are not OAuth scopes and never appear here.
    ///
    /// ```
    /// use auth_core::scope::Requirement;
    ///
    /// let rule = Requirement::any([Requirement::role("admin"), Requirement::scope("read:orders")]);
    /// assert_eq!(rule.oauth_scopes(), ["read:orders"]);
    /// assert!(Requirement::role("admin").oauth_scopes().is_empty());
    /// ```
    #[must_use]
    pub fn oauth_scopes(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out, true);
        out
    }

    /// Whether a role or a permission appears anywhere in this requirement.
    fn names_roles_or_permissions(&self) -> bool {
        match &self.0 {
            Repr::AllScopes(_) | Repr::AnyScope(_) => false,
            Repr::Role(_) | Repr::Permission(_) => true,
            Repr::All(rules) | Repr::Any(rules) => {
                rules.iter().any(Self::names_roles_or_permissions)
            }
        }
    }

    fn collect(&self, out: &mut Vec<String>, scopes_only: bool) {
        let mut push = |s: String| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        match &self.0 {
            Repr::AllScopes(s) | Repr::AnyScope(s) => s.iter().for_each(|s| push(s.clone())),
            Repr::Role(_) | Repr::Permission(_) if scopes_only => {}
            Repr::Role(r) => push(format!("role:{r}")),
            Repr::Permission(p) => push(p.clone()),
            Repr::All(rules) | Repr::Any(rules) => {
                rules.iter().for_each(|r| r.collect(out, scopes_only))
            }
        }
    }

    /// A sentence for clients, each name with its kind: `role admin`, `permission
    /// orders:refund`, `scope read:orders`, joined with `and`/`or` in parentheses.
    fn write_for_clients(&self, out: &mut String) {
        fn join<T>(out: &mut String, items: &[T], sep: &str, mut one: impl FnMut(&mut String, &T)) {
            if items.len() != 1 {
                out.push('(');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                one(out, item);
            }
            if items.len() != 1 {
                out.push(')');
            }
        }
        let scope = |out: &mut String, s: &String| {
            out.push_str("scope ");
            out.push_str(s);
        };
        match &self.0 {
            Repr::AllScopes(s) => join(out, s, " and ", scope),
            Repr::AnyScope(s) => join(out, s, " or ", scope),
            Repr::Role(r) => {
                out.push_str("role ");
                out.push_str(r);
            }
            Repr::Permission(p) => {
                out.push_str("permission ");
                out.push_str(p);
            }
            Repr::All(rules) => join(out, rules, " and ", |o, r| r.write_for_clients(o)),
            Repr::Any(rules) => join(out, rules, " or ", |o, r| r.write_for_clients(o)),
        }
    }

    /// What a 403 for this requirement tells the client; see [`RequiredAccess`]. Computed
    /// once, when a layer is built.
    #[must_use]
    pub fn required_access(&self) -> RequiredAccess {
        let message = self.names_roles_or_permissions().then(|| {
            let mut m = String::from(ErrorCode::InsufficientScope.message());
            m.push_str("; it requires ");
            self.write_for_clients(&mut m);
            m
        });
        RequiredAccess {
            list: self.describe().into(),
            scopes: self.oauth_scopes().into(),
            // Role and permission names come from configuration, but are checked anyway: a name
            // a header cannot carry leaves only the generic message.
            message: message.filter(|m| is_header_safe(m)).map(Arc::from),
        }
    }
}

/// RFC 6750 section 3: `error_description` holds `%x20-21 / %x23-5B / %x5D-7E`. `%` is refused
/// too, so the same text is a gRPC `grpc-message` without percent-encoding.
fn is_header_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b'\\' | b'%'))
}

/// What a route's [`Requirement`] tells a client it was denied by (403 `INSUFFICIENT_SCOPE`),
/// computed once by [`Requirement::required_access`]. Cheap to clone.
///
/// - [`list`](Self::list): the JSON body's `required` list ([`Requirement::describe`]: scopes
///   and permissions as themselves, roles as `role:<name>`).
/// - [`scopes`](Self::scopes): the OAuth scopes alone, for the RFC 6750 `scope` attribute of
///   the challenge (omitted when empty). Roles and permissions are not OAuth scopes: a client
///   that asked its authorization server for `role:admin` would get nowhere.
/// - [`message`](Self::message): the challenge's `error_description` and the body's `message`
///   (the same text): the generic message, followed, when the requirement names roles or
///   permissions, by the whole requirement in words (`...; it requires role admin`).
///
/// ```
/// use auth_core::scope::Requirement;
///
/// let admin = Requirement::role("admin").required_access();
/// assert_eq!(admin.list(), ["role:admin"]);
/// assert!(admin.scopes().is_empty());
/// assert_eq!(
///     admin.message(),
///     "the credentials do not grant access to this resource; it requires role admin"
/// );
///
/// let read = Requirement::scope("read:orders").required_access();
/// assert_eq!(read.scopes(), ["read:orders"]);
/// assert_eq!(read.message(), "the credentials do not grant access to this resource");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequiredAccess {
    list: Arc<[String]>,
    scopes: Arc<[String]>,
    message: Option<Arc<str>>,
}

impl RequiredAccess {
    /// The JSON body's `required` list: scopes and permissions as themselves, roles as
    /// `role:<name>`.
    #[must_use]
    pub fn list(&self) -> &[String] {
        &self.list
    }

    /// The OAuth scopes required, for the RFC 6750 `scope` attribute.
    #[must_use]
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The client-facing message: header-safe (RFC 6750 section 3), the same in the challenge
    /// and the body.
    #[must_use]
    pub fn message(&self) -> &str {
        self.message
            .as_deref()
            .unwrap_or(ErrorCode::InsufficientScope.message())
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, sep: &str, items: &[String]) -> fmt::Result {
            f.write_str(&items.join(sep))
        }
        match &self.0 {
            Repr::AllScopes(s) => list(f, " and ", s),
            Repr::AnyScope(s) => {
                f.write_str("any of (")?;
                list(f, ", ", s)?;
                f.write_str(")")
            }
            Repr::Role(r) => write!(f, "role {r}"),
            Repr::Permission(p) => write!(f, "permission {p}"),
            Repr::All(rules) | Repr::Any(rules) => {
                let sep = if matches!(self.0, Repr::All(_)) {
                    " and "
                } else {
                    " or "
                };
                f.write_str("(")?;
                for (i, r) in rules.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    write!(f, "{r}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Which roles are granted which permissions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolePolicy {
    grants: HashMap<String, Box<[String]>>,
}

impl RolePolicy {
    /// An empty policy: permissions are only satisfied by scopes of the same name.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts building a policy.
    pub fn builder() -> RolePolicyBuilder {
        RolePolicyBuilder::default()
    }

    /// The roles granted `permission`.
    #[must_use]
    pub fn roles_for(&self, permission: &str) -> &[String] {
        self.grants.get(permission).map_or(&[], |r| r)
    }
}

/// Builds a [`RolePolicy`].
#[derive(Debug, Default)]
#[must_use]
pub struct RolePolicyBuilder {
    grants: HashMap<String, Vec<String>>,
}

impl RolePolicyBuilder {
    /// Grants `permission` to each of `roles` (adds to earlier grants).
    pub fn grant<I, S>(mut self, permission: impl Into<String>, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let entry = self.grants.entry(permission.into()).or_default();
        for r in roles {
            let r = r.into();
            if !entry.contains(&r) {
                entry.push(r);
            }
        }
        self
    }

    /// Finishes the policy.
    pub fn build(self) -> RolePolicy {
        RolePolicy {
            grants: self
                .grants
                .into_iter()
                .map(|(p, r)| (p, r.into_boxed_slice()))
                .collect(),
        }
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;

    fn p(roles: &[&str], scopes: &[&str]) -> Principal {
        Principal::insecure_for_tests("s", roles, scopes)
    }

    fn policy() -> RolePolicy {
        RolePolicy::builder()
            .grant("orders:refund", ["manager", "admin"])
            .build()
    }

    #[test]
    fn all_scopes_needs_every_scope() {
        let r = Requirement::all_scopes(["a", "b"]);
        assert!(r.is_satisfied_by(&p(&[], &["a", "b", "c"]), &policy()));
        assert!(!r.is_satisfied_by(&p(&[], &["a"]), &policy()));
    }

    #[test]
    fn any_scope_needs_one_and_empty_any_never_holds() {
        let r = Requirement::any_scope(["a", "b"]);
        assert!(r.is_satisfied_by(&p(&[], &["b"]), &policy()));
        assert!(!r.is_satisfied_by(&p(&[], &["c"]), &policy()));
        assert!(
            !Requirement::any_scope(Vec::<String>::new())
                .is_satisfied_by(&p(&[], &["a"]), &policy())
        );
        assert!(!Requirement::any([]).is_satisfied_by(&p(&["admin"], &[]), &policy()));
    }

    #[test]
    fn permissions_come_from_roles_or_a_scope_of_the_same_name() {
        let r = Requirement::permission("orders:refund");
        assert!(r.is_satisfied_by(&p(&["manager"], &[]), &policy()));
        assert!(r.is_satisfied_by(&p(&["admin"], &[]), &policy()));
        assert!(!r.is_satisfied_by(&p(&["user"], &[]), &policy()));
        assert!(r.is_satisfied_by(&p(&[], &["orders:refund"]), &policy()));
        assert!(!r.is_satisfied_by(&p(&["manager"], &[]), &RolePolicy::new()));
    }

    #[test]
    fn roles_and_scopes_do_not_mix() {
        assert!(!Requirement::role("admin").is_satisfied_by(&p(&[], &["admin"]), &policy()));
        assert!(!Requirement::scope("admin").is_satisfied_by(&p(&["admin"], &[]), &policy()));
    }

    #[test]
    fn combinations_nest() {
        let r = Requirement::any([
            Requirement::role("admin"),
            Requirement::all([Requirement::scope("read"), Requirement::scope("write")]),
        ]);
        assert!(r.is_satisfied_by(&p(&["admin"], &[]), &policy()));
        assert!(r.is_satisfied_by(&p(&[], &["read", "write"]), &policy()));
        assert!(!r.is_satisfied_by(&p(&[], &["read"]), &policy()));
        assert_eq!(r.describe(), vec!["role:admin", "read", "write"]);
        assert_eq!(r.to_string(), "(role admin or (read and write))");
    }

    // Issue 12, item 18: roles and permissions are not OAuth scopes.
    #[test]
    fn oauth_scopes_leave_out_roles_and_permissions() {
        let r = Requirement::all([
            Requirement::role("admin"),
            Requirement::permission("orders:refund"),
            Requirement::any_scope(["read", "write"]),
            Requirement::scope("read"),
        ]);
        assert_eq!(r.oauth_scopes(), ["read", "write"]);
        let access = r.required_access();
        assert_eq!(access.scopes(), ["read", "write"]);
        assert_eq!(
            access.list(),
            ["role:admin", "orders:refund", "read", "write"]
        );
        assert_eq!(
            access.message(),
            "the credentials do not grant access to this resource; it requires \
             (role admin and permission orders:refund and (scope read or scope write) and scope read)"
        );
        assert!(Requirement::role("admin").oauth_scopes().is_empty());
    }

    #[test]
    fn a_requirement_of_scopes_alone_keeps_the_generic_message() {
        let access = Requirement::all_scopes(["a", "b"]).required_access();
        assert_eq!(access.scopes(), ["a", "b"]);
        assert_eq!(
            access.message(),
            "the credentials do not grant access to this resource"
        );
    }

    #[test]
    fn names_a_header_cannot_carry_leave_only_the_generic_message() {
        for role in ["a\"b", "a\\b", "50%", "caf\u{e9}", "a\nb"] {
            let access = Requirement::role(role).required_access();
            assert_eq!(
                access.message(),
                "the credentials do not grant access to this resource",
                "{role:?}"
            );
            assert_eq!(access.list(), [format!("role:{role}")]);
        }
    }
}

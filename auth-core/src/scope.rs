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

    /// The tokens that describe this requirement, for the 403 body's `required` list and the
    /// RFC 6750 `scope` attribute: scopes and permissions as themselves, roles as
    /// `role:<name>`, without duplicates. Computed once when a layer is built.
    #[must_use]
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<String>) {
        let mut push = |s: String| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        match &self.0 {
            Repr::AllScopes(s) | Repr::AnyScope(s) => s.iter().for_each(|s| push(s.clone())),
            Repr::Role(r) => push(format!("role:{r}")),
            Repr::Permission(p) => push(p.clone()),
            Repr::All(rules) | Repr::Any(rules) => rules.iter().for_each(|r| r.collect(out)),
        }
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
}

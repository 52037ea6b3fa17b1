//! [`ScopeSettings`]: what each route requires (scopes, roles, permissions) and which roles
//! are granted which permissions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::SettingsError;
use crate::scope::{Requirement, RolePolicy};

/// Scope rules per route for `ScopeLayer` (auth-tower, feature `settings`), and the role
/// policy that resolves permissions.
///
/// A request's rule is the one whose `route` matches it most specifically (see auth-tower's
/// `HttpRoutes`); a request no route matches needs `otherwise`, which by default is **never
/// satisfied**, so a route added to the application without a rule is refused (403) rather
/// than open to every authenticated caller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeSettings {
    /// Which roles are granted each permission: `{ "orders:refund" = ["admin"] }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub permissions: BTreeMap<String, Vec<String>>,
    /// The rules, one per route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteSettings>,
    /// What requests no route matches need (default: never satisfied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<RequirementSettings>,
    /// The realm named in challenges when no authentication layer left one (default `api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
}

/// One route and what it requires.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    /// `METHOD /path` or `/path` (every method), the path in axum's syntax: literal segments,
    /// `{name}` for one segment, `{*name}` for the rest (last only).
    pub route: String,
    /// What the route requires.
    pub require: RequirementSettings,
}

impl RouteSettings {
    /// A rule for `route`.
    #[must_use]
    pub fn new(route: impl Into<String>, require: RequirementSettings) -> Self {
        Self {
            route: route.into(),
            require,
        }
    }
}

/// What a principal must hold; every field given must be satisfied (they combine with "and").
/// At least one must be given: `authenticated = true` alone lets any authenticated caller
/// through.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementSettings {
    /// Every one of these scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// At least one of these scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_scopes: Vec<String>,
    /// At least one of these roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_roles: Vec<String>,
    /// Every one of these permissions (granted to a role by `permissions`, or held as a scope
    /// of the same name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// Nothing more than being authenticated (only alone).
    #[serde(default, skip_serializing_if = "is_false")]
    pub authenticated: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` hands us `&bool`
fn is_false(b: &bool) -> bool {
    !*b
}

impl RequirementSettings {
    /// Requires every one of `scopes`.
    #[must_use]
    pub fn scopes<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            scopes: scopes.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// The [`Requirement`].
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] naming the field: nothing required (use `authenticated = true` to
    /// mean "any authenticated caller"), `authenticated` combined with other rules, or an
    /// empty name.
    pub fn requirement(&self) -> Result<Requirement, SettingsError> {
        let lists = [
            ("scopes", &self.scopes),
            ("any_scopes", &self.any_scopes),
            ("any_roles", &self.any_roles),
            ("permissions", &self.permissions),
        ];
        for (field, list) in lists {
            if let Some(i) = list.iter().position(String::is_empty) {
                return Err(SettingsError::invalid(
                    format!("{field}[{i}]"),
                    "must not be empty",
                ));
            }
        }
        let given = lists.iter().filter(|(_, l)| !l.is_empty()).count();
        if self.authenticated {
            return if given == 0 {
                Ok(Requirement::all([]))
            } else {
                Err(SettingsError::invalid(
                    "authenticated",
                    "`authenticated = true` means no other requirement; remove it or the others",
                ))
            };
        }
        if given == 0 {
            return Err(SettingsError::invalid(
                "",
                "requires nothing: give `scopes`, `any_scopes`, `any_roles` or `permissions` \
                 (or `authenticated = true` for any authenticated caller)",
            ));
        }
        let mut parts = Vec::with_capacity(given);
        if !self.scopes.is_empty() {
            parts.push(Requirement::all_scopes(self.scopes.iter().cloned()));
        }
        if !self.any_scopes.is_empty() {
            parts.push(Requirement::any_scope(self.any_scopes.iter().cloned()));
        }
        if !self.any_roles.is_empty() {
            parts.push(Requirement::any(
                self.any_roles.iter().cloned().map(Requirement::role),
            ));
        }
        parts.extend(
            self.permissions
                .iter()
                .cloned()
                .map(Requirement::permission),
        );
        Ok(match <[Requirement; 1]>::try_from(parts) {
            Ok([one]) => one,
            Err(parts) => Requirement::all(parts),
        })
    }
}

impl ScopeSettings {
    /// The role policy of `permissions`.
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] at `permissions` for an empty permission or role name.
    pub fn role_policy(&self) -> Result<RolePolicy, SettingsError> {
        let mut b = RolePolicy::builder();
        for (permission, roles) in &self.permissions {
            if permission.is_empty() || roles.iter().any(String::is_empty) {
                return Err(SettingsError::invalid(
                    "permissions",
                    "permission and role names must not be empty",
                ));
            }
            b = b.grant(permission.clone(), roles.iter().cloned());
        }
        Ok(b.build())
    }
}

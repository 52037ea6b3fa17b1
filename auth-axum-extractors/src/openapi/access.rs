//! What a route requires: declared once, it decides both the route's `ScopeLayer` and its
//! operation's `security` entry.

use auth_core::scope::Requirement;
use utoipa::openapi::security::SecurityRequirement;

use super::Scheme;

/// Who may call a route, as declared to [`SecuredRoutes::route`](super::SecuredRoutes::route).
///
/// | declaration | layer added to the route | the operation's `security` |
/// |---|---|---|
/// | [`public`](Self::public) | none | none |
/// | [`optional`](Self::optional) | none (an optional authentication layer may run) | `[{}, {<scheme>: []}, ..]` (anonymous allowed) |
/// | [`authenticated`](Self::authenticated) | `ScopeLayer` that only requires a principal | `[{<scheme>: []}, ..]` |
/// | [`require`](Self::require) | `ScopeLayer` with the requirement | `[{<scheme>: [<required>]}, ..]` |
/// | [`checked_by_handler`](Self::checked_by_handler) | none: the handler checks the credential | `[{<scheme>: []}, ..]` |
///
/// Each scheme is an alternative (one entry each). The listed scopes are what the requirement
/// names, as the 403 body's `required` list shows them: OAuth scopes and permissions as
/// themselves, roles as `role:<name>` (OpenAPI 3.1 allows role names for non-OAuth schemes).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Access {
    pub(super) kind: Kind,
    pub(super) schemes: Vec<Scheme>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Public,
    Optional,
    Required(Requirement),
    Handler,
}

impl Access {
    /// Anyone, no credential.
    pub fn public() -> Self {
        Self {
            kind: Kind::Public,
            schemes: Vec::new(),
        }
    }

    /// Anyone; callers presenting one of `schemes` are recognised (an authentication layer in
    /// optional mode, `Option<Authenticated>` in the handler).
    pub fn optional(schemes: impl IntoIterator<Item = Scheme>) -> Self {
        Self {
            kind: Kind::Optional,
            schemes: schemes.into_iter().collect(),
        }
    }

    /// Any caller authenticated by one of `schemes`: anonymous requests get 401.
    pub fn authenticated(schemes: impl IntoIterator<Item = Scheme>) -> Self {
        Self::require(Requirement::all([]), schemes)
    }

    /// Callers authenticated by one of `schemes` who meet `requirement`: 401 when anonymous,
    /// 403 `INSUFFICIENT_SCOPE` when short of rights.
    pub fn require(requirement: Requirement, schemes: impl IntoIterator<Item = Scheme>) -> Self {
        Self {
            kind: Kind::Required(requirement),
            schemes: schemes.into_iter().collect(),
        }
    }

    /// A credential that the handler itself checks (a refresh cookie, a one-time token in a
    /// header): documented as required, and no layer is added. Prefer
    /// [`authenticated`](Self::authenticated) or [`require`](Self::require) whenever a layer
    /// authenticates the caller, so the document and the router cannot disagree.
    pub fn checked_by_handler(schemes: impl IntoIterator<Item = Scheme>) -> Self {
        Self {
            kind: Kind::Handler,
            schemes: schemes.into_iter().collect(),
        }
    }

    /// Whether an anonymous request is refused (every kind but public and optional).
    #[must_use]
    pub fn is_secured(&self) -> bool {
        matches!(self.kind, Kind::Required(_) | Kind::Handler)
    }

    /// The schemes named.
    #[must_use]
    pub fn schemes(&self) -> &[Scheme] {
        &self.schemes
    }

    /// The requirement enforced by the route's `ScopeLayer`, if any.
    #[must_use]
    pub fn requirement(&self) -> Option<&Requirement> {
        match &self.kind {
            Kind::Required(r) => Some(r),
            _ => None,
        }
    }

    /// The scopes (and permissions, and `role:<name>`s) each `security` entry lists.
    #[must_use]
    pub fn scopes(&self) -> Vec<String> {
        self.requirement()
            .map(Requirement::describe)
            .unwrap_or_default()
    }

    /// The operation's `security` value (`None` for a public route).
    pub(super) fn security(&self) -> Option<Vec<SecurityRequirement>> {
        let scopes = self.scopes();
        let each = self
            .schemes
            .iter()
            .map(|s| SecurityRequirement::new(s.name(), scopes.clone()));
        match self.kind {
            Kind::Public => None,
            Kind::Optional => Some(
                std::iter::once(SecurityRequirement::default())
                    .chain(each)
                    .collect(),
            ),
            Kind::Required(_) | Kind::Handler => Some(each.collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(access: &Access) -> serde_json::Value {
        serde_json::to_value(access.security()).unwrap()
    }

    #[test]
    fn public_routes_have_no_security() {
        assert_eq!(json(&Access::public()), serde_json::Value::Null);
        assert!(!Access::public().is_secured());
    }

    #[test]
    fn optional_routes_list_the_empty_requirement_first() {
        let a = Access::optional([Scheme::BEARER]);
        assert_eq!(json(&a), serde_json::json!([{}, {"bearer": []}]));
        assert!(!a.is_secured());
    }

    #[test]
    fn each_scheme_is_an_alternative_with_the_required_scopes() {
        let a = Access::require(
            Requirement::all([
                Requirement::scope("read:orders"),
                Requirement::role("admin"),
            ]),
            [Scheme::BEARER, Scheme::API_KEY],
        );
        assert_eq!(
            json(&a),
            serde_json::json!([
                {"bearer": ["read:orders", "role:admin"]},
                {"api_key": ["read:orders", "role:admin"]},
            ])
        );
        assert!(a.is_secured());
    }

    #[test]
    fn authenticated_lists_schemes_without_scopes() {
        let a = Access::authenticated([Scheme::BEARER, Scheme::SESSION_COOKIE]);
        assert_eq!(
            json(&a),
            serde_json::json!([{"bearer": []}, {"session_cookie": []}])
        );
        assert!(a.requirement().is_some());
    }

    #[test]
    fn handler_checked_credentials_are_secured_without_a_layer() {
        let a = Access::checked_by_handler([Scheme::named("refresh_cookie")]);
        assert!(a.is_secured());
        assert!(a.requirement().is_none());
        assert_eq!(json(&a), serde_json::json!([{"refresh_cookie": []}]));
    }
}

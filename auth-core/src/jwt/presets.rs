//! The [`ClaimMapping`] presets for identity providers: which claims each one reads.

use super::mapping::{ClaimMapping, ClaimPath, Shape};
use super::pointer::Pointer;
use crate::error::ConfigError;

/// A constant pointer of the presets (non-empty claim names, never reserved).
fn preset(tokens: &[&str], shape: Shape) -> ClaimPath {
    ClaimPath {
        pointer: Pointer::constant(tokens),
        shape,
    }
}

impl ClaimMapping {
    /// Keycloak access tokens. Reads exactly:
    ///
    /// - roles from `realm_access.roles` (array of strings: the realm roles) and from
    ///   `resource_access.<client_id>.roles` (array: the roles of that client, normally this
    ///   API's own client), merged;
    /// - scopes from `scope` (space-delimited).
    ///
    /// Roles of other clients under `resource_access` are not read (they are not this API's
    /// roles); add `.roles(ClaimPath::array("/resource_access/<other>/roles")?)` to read them.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidClaimMapping`] when `client_id` is empty.
    pub fn keycloak(client_id: &str) -> Result<Self, ConfigError> {
        if client_id.is_empty() {
            return Err(ConfigError::InvalidClaimMapping(
                "the keycloak client id must not be empty".into(),
            ));
        }
        let client = Pointer::from_tokens(["resource_access", client_id, "roles"])?;
        Ok(Self::new()
            .roles(preset(&["realm_access", "roles"], Shape::Array))
            .roles(ClaimPath {
                pointer: client,
                shape: Shape::Array,
            })
            .scopes(preset(&["scope"], Shape::SpaceDelimited)))
    }

    /// Auth0 access tokens. Reads exactly:
    ///
    /// - roles from the custom claim `<namespace>/roles` (array of strings), the claim an
    ///   Auth0 Action sets with `api.accessToken.setCustomClaim(namespace + '/roles',
    ///   event.authorization.roles)`; a `/` at the end of `namespace` is not doubled, so
    ///   `auth0("https://example.com")` and `auth0("https://example.com/")` both read
    ///   `https://example.com/roles`;
    /// - scopes from `scope` (space-delimited) and from `permissions` (array of strings: the
    ///   API's RBAC permissions, present when "Add Permissions in the Access Token" is on), so
    ///   [`Requirement::permission`](crate::scope::Requirement::permission) and
    ///   [`Requirement::scope`](crate::scope::Requirement::scope) see them.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidClaimMapping`] when `namespace` is empty.
    pub fn auth0(namespace: &str) -> Result<Self, ConfigError> {
        let namespace = namespace.trim_end_matches('/');
        if namespace.is_empty() {
            return Err(ConfigError::InvalidClaimMapping(
                "the auth0 claim namespace must not be empty".into(),
            ));
        }
        let roles = Pointer::from_tokens([format!("{namespace}/roles")])?;
        Ok(Self::new()
            .roles(ClaimPath::new(roles, Shape::Array)?)
            .scopes(preset(&["scope"], Shape::SpaceDelimited))
            .scopes(preset(&["permissions"], Shape::Array)))
    }

    /// Microsoft Entra ID (Azure AD) access tokens, v1.0 and v2.0. Reads exactly:
    ///
    /// - roles from `roles` (array of strings: app roles assigned to the user or, in app-only
    ///   tokens, to the calling application);
    /// - scopes from `scp` (one space-delimited string: the delegated permissions).
    ///
    /// `groups` (object ids) and `wids` (directory role template ids) are not read; map them
    /// in a [`custom`](Self::custom) closure if needed.
    pub fn entra() -> Self {
        Self::new()
            .roles(preset(&["roles"], Shape::Array))
            .scopes(preset(&["scp"], Shape::SpaceDelimited))
    }

    /// Okta access tokens (custom or org authorization server). Reads exactly:
    ///
    /// - roles from `groups` (array of strings), the claim a groups claim in the
    ///   authorization server adds;
    /// - scopes from `scp` (array of strings).
    pub fn okta() -> Self {
        Self::new()
            .roles(preset(&["groups"], Shape::Array))
            .scopes(preset(&["scp"], Shape::Array))
    }

    /// Google ID tokens (and other Google-signed JWTs). Google puts no roles in its tokens, so
    /// none are granted; scopes are read from `scope` (space-delimited) when present, which
    /// Google's ID tokens normally are not (authorize by subject or email in the application,
    /// or with a [`custom`](Self::custom) closure, instead).
    pub fn google() -> Self {
        Self::new().scopes(preset(&["scope"], Shape::SpaceDelimited))
    }
}

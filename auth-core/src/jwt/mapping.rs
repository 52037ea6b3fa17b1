//! [`ClaimMapping`]: where an identity provider's tokens carry roles and scopes.
//!
//! Every provider puts them somewhere else: Keycloak nests roles under `realm_access` and
//! `resource_access.<client>`, Auth0 uses namespaced custom claims and `permissions`, Microsoft
//! Entra ID has `roles` and a space-delimited `scp`, Okta has `groups` and an array `scp`, and
//! Google's tokens carry none. A mapping names, by RFC 6901 JSON pointer, the claims a
//! verifier reads roles and scopes from, optionally followed by a closure over all claims.
//! See [`ClaimMapping`] for the cost and how wrong types are treated.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::claims::{push_unique, push_words};
use super::pointer::{Miss, Pointer};
use crate::error::{ConfigError, InvalidToken};

/// Claims a mapping can never read: the parser consumes them itself (with their strict types).
const RESERVED: [&str; 8] = ["sub", "iss", "aud", "exp", "nbf", "iat", "jti", "sid"];

/// How the value a [`ClaimPath`] points at holds names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// A JSON array of strings.
    Array,
    /// One string of space-separated names (RFC 6749 section 3.3).
    SpaceDelimited,
    /// Either of the above.
    StringOrArray,
}

/// A claim (or a value nested in one) that holds role or scope names: an RFC 6901 JSON
/// pointer and the JSON shape the value must have.
///
/// The pointer's first reference token is the top-level claim. `~1` stands for `/` and `~0`
/// for `~`, so Auth0's URL-namespaced claim `https://example.com/roles` is
/// `/https:~1~1example.com~1roles`.
///
/// ```
/// use auth_core::jwt::ClaimPath;
///
/// let realm = ClaimPath::array("/realm_access/roles")?;
/// assert_eq!(realm.pointer(), "/realm_access/roles");
/// let auth0 = ClaimPath::array("/https:~1~1example.com~1roles")?;
/// assert!(ClaimPath::array("realm_access/roles").is_err()); // not a pointer
/// assert!(ClaimPath::array("/sub").is_err()); // a registered claim
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimPath {
    pub(super) pointer: Pointer,
    pub(super) shape: Shape,
}

impl ClaimPath {
    /// The value at `pointer` must be an array of strings, e.g. `["admin", "user"]`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidClaimMapping`] when `pointer` is not an RFC 6901 pointer to a
    /// claim (it must start with `/`, name a non-empty claim and escape `~` as `~0`), or starts
    /// at a registered claim (`sub`, `iss`, `aud`, `exp`, `nbf`, `iat`, `jti`, `sid`).
    pub fn array(pointer: &str) -> Result<Self, ConfigError> {
        Self::new(Pointer::parse(pointer)?, Shape::Array)
    }

    /// The value at `pointer` must be one string of space-separated names, like OAuth's
    /// `scope` (`"read:orders write:orders"`).
    ///
    /// # Errors
    ///
    /// As [`array`](Self::array).
    pub fn space_delimited(pointer: &str) -> Result<Self, ConfigError> {
        Self::new(Pointer::parse(pointer)?, Shape::SpaceDelimited)
    }

    /// The value at `pointer` may be either a space-delimited string or an array of strings
    /// (as the default `scp` claim is read).
    ///
    /// # Errors
    ///
    /// As [`array`](Self::array).
    pub fn string_or_array(pointer: &str) -> Result<Self, ConfigError> {
        Self::new(Pointer::parse(pointer)?, Shape::StringOrArray)
    }

    /// The pointer, as given (escaped).
    #[must_use]
    pub fn pointer(&self) -> &str {
        self.pointer.as_str()
    }

    pub(super) fn new(pointer: Pointer, shape: Shape) -> Result<Self, ConfigError> {
        if RESERVED.contains(&pointer.claim()) {
            return Err(ConfigError::InvalidClaimMapping(format!(
                "`{}` starts at the registered claim `{}`, which is never mapped",
                pointer.as_str().escape_debug(),
                pointer.claim()
            )));
        }
        Ok(Self { pointer, shape })
    }

    /// Adds the names at this path to `out`.
    fn collect(&self, claim: &Value, out: &mut Vec<String>) -> Result<(), InvalidToken> {
        let wrong = || InvalidToken::MappedClaimType(self.pointer.as_str().to_owned());
        let value = match self.pointer.resolve(claim) {
            Ok(v) => v,
            Err(Miss::Absent) => return Ok(()),
            Err(Miss::WrongType) => return Err(wrong()),
        };
        match (value, self.shape) {
            (Value::String(s), Shape::SpaceDelimited | Shape::StringOrArray) => push_words(out, s),
            (Value::Array(items), Shape::Array | Shape::StringOrArray) => {
                for item in items {
                    push_unique(out, item.as_str().ok_or_else(wrong)?);
                }
            }
            _ => return Err(wrong()),
        }
        Ok(())
    }
}

/// The roles and scopes a [`ClaimMapping`] grants, without duplicates or empty names.
/// A [`custom`](ClaimMapping::custom) closure receives the ones its paths found and may add.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    roles: Vec<String>,
    scopes: Vec<String>,
}

impl Grants {
    /// Grants a role (ignored when empty or already granted).
    pub fn add_role(&mut self, role: &str) {
        push_unique(&mut self.roles, role);
    }

    /// Grants a scope (ignored when empty or already granted).
    pub fn add_scope(&mut self, scope: &str) {
        push_unique(&mut self.scopes, scope);
    }

    /// The roles granted so far.
    #[must_use]
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// The scopes granted so far.
    #[must_use]
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    pub(crate) fn into_parts(self) -> (Vec<String>, Vec<String>) {
        (self.roles, self.scopes)
    }
}

type CustomFn = Arc<dyn Fn(&Map<String, Value>, &mut Grants) -> Result<(), String> + Send + Sync>;

/// Where a provider's tokens carry roles and scopes; set it verifier-wide with
/// [`JwtVerifierBuilder::claim_mapping`](super::JwtVerifierBuilder::claim_mapping) or per
/// provider with [`TrustedIssuer::claim_mapping`](super::TrustedIssuer::claim_mapping).
///
/// A mapping **replaces** the default claims (`scope`, `scp`, `roles`): the principal gets
/// exactly the roles and scopes found at the mapping's paths (each path's names in order,
/// without duplicates), plus what its [`custom`](Self::custom) closure adds.
///
/// # Cost
///
/// A verifier without a mapping reads the top-level `scope`, `scp` and `roles` claims in its
/// single pass over the payload, as before. With a mapping, that same pass keeps the values of
/// the claims the pointers start at (say `realm_access`, not the whole payload) and the
/// pointers are followed in those; only a [`custom`](ClaimMapping::custom) closure needs the
/// whole payload as a `serde_json` map, which is then parsed once more and kept in the
/// [`Principal`](crate::Principal) for [`claims`](crate::Principal::claims).
///
/// # Wrong types
///
/// As for the built-in `scope`/`roles` claims, a value of the wrong type is an
/// `INVALID_TOKEN`, never silently ignored (ignoring it would make a token the provider never
/// issues in that shape, or a misconfigured mapping, look like a caller without roles): a
/// string where an array is expected, a non-string element, `null`, a path that runs into a
/// number, string, boolean or `null`, or an array indexed by something other than a decimal
/// index. A member that is simply **absent**
/// anywhere on the path grants nothing, which is how providers leave out empty role lists.
/// The reason logged is [`InvalidToken::MappedClaimType`](crate::InvalidToken::MappedClaimType)
/// with the pointer.
///
/// # Example
///
/// ```
/// use auth_core::jwt::{Algorithm, ClaimMapping, ClaimPath, JwtVerifier, VerificationKey};
///
/// let secret = b"an example secret of at least thirty-two bytes";
/// let verifier = JwtVerifier::builder()
///     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
///     .audience("orders-api")
///     .claim_mapping(
///         ClaimMapping::new()
///             .roles(ClaimPath::array("/app_metadata/roles")?)
///             .scopes(ClaimPath::space_delimited("/scope")?),
///     )
///     .build()?;
///
/// let claims = serde_json::json!({"sub": "ann", "aud": "orders-api", "exp": u32::MAX,
///     "app_metadata": {"roles": ["manager"]}, "scope": "read:orders", "roles": ["ignored"]});
/// let token = jsonwebtoken::encode(&Default::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))?;
/// let principal = verifier.verify_sync(&token)?;
/// assert_eq!(principal.roles(), ["manager"]);
/// assert_eq!(principal.scopes(), ["read:orders"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ClaimMapping {
    roles: Vec<ClaimPath>,
    scopes: Vec<ClaimPath>,
    custom: Option<CustomFn>,
}

impl fmt::Debug for ClaimMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimMapping")
            .field("roles", &pointers(self.roles.iter()))
            .field("scopes", &pointers(self.scopes.iter()))
            .field("custom", &self.custom.is_some())
            .finish()
    }
}

fn pointers<'a>(paths: impl Iterator<Item = &'a ClaimPath>) -> Vec<&'a str> {
    paths.map(ClaimPath::pointer).collect()
}

impl ClaimMapping {
    /// A mapping that reads nothing yet: add [`roles`](Self::roles), [`scopes`](Self::scopes)
    /// or a [`custom`](Self::custom) closure. With none, tokens grant no roles and no scopes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also reads roles from `path`.
    pub fn roles(mut self, path: ClaimPath) -> Self {
        self.roles.push(path);
        self
    }

    /// Also reads scopes from `path`.
    pub fn scopes(mut self, path: ClaimPath) -> Self {
        self.scopes.push(path);
        self
    }

    /// Runs `f` after the paths, with all verified claims and the [`Grants`] found so far;
    /// `f` may add roles and scopes. Returning `Err(reason)` rejects the token as
    /// `INVALID_TOKEN` (the reason goes to logs only, as
    /// [`InvalidToken::Custom`](crate::InvalidToken::Custom)).
    ///
    /// It runs after the signature, time, issuer and audience checks, on every verification,
    /// and costs a second parse of the payload (then kept for
    /// [`Principal::claims`](crate::Principal::claims)). Prefer paths where they suffice.
    ///
    /// ```
    /// use auth_core::jwt::ClaimMapping;
    ///
    /// // Entra ID app roles, plus one role per group object id the application cares about.
    /// let mapping = ClaimMapping::entra().custom(|claims, grants| {
    ///     let groups = claims.get("groups").and_then(|g| g.as_array());
    ///     if groups.is_some_and(|g| g.iter().any(|id| id == "6f0ac1f6-2b4f-4f4b-9d6e-0d1c3b6a9e21")) {
    ///         grants.add_role("support");
    ///     }
    ///     Ok(())
    /// });
    /// ```
    pub fn custom<F>(mut self, f: F) -> Self
    where
        F: Fn(&Map<String, Value>, &mut Grants) -> Result<(), String> + Send + Sync + 'static,
    {
        self.custom = Some(Arc::new(f));
        self
    }

    /// The mapping, ready for per-request use.
    pub(crate) fn compile(self) -> CompiledMapping {
        let mut claims: Vec<String> = Vec::new();
        let mut index = |p: &ClaimPath| match claims.iter().position(|c| c == p.pointer.claim()) {
            Some(i) => i,
            None => {
                claims.push(p.pointer.claim().to_owned());
                claims.len() - 1
            }
        };
        let roles = self.roles.into_iter().map(|p| (index(&p), p)).collect();
        let scopes = self.scopes.into_iter().map(|p| (index(&p), p)).collect();
        CompiledMapping {
            claims: claims.into_boxed_slice(),
            roles,
            scopes,
            custom: self.custom,
        }
    }
}

/// A [`ClaimMapping`] with each path tied to the top-level claim the parser keeps for it.
#[derive(Clone)]
pub(crate) struct CompiledMapping {
    /// The distinct top-level claims the paths start at, kept by the parser's single pass.
    claims: Box<[String]>,
    roles: Box<[(usize, ClaimPath)]>,
    scopes: Box<[(usize, ClaimPath)]>,
    custom: Option<CustomFn>,
}

impl fmt::Debug for CompiledMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimMapping")
            .field("roles", &pointers(self.roles.iter().map(|(_, p)| p)))
            .field("scopes", &pointers(self.scopes.iter().map(|(_, p)| p)))
            .field("custom", &self.custom.is_some())
            .finish()
    }
}

impl CompiledMapping {
    /// The top-level claims the parser must keep (by index, see `Claims::kept`).
    pub(crate) fn claims(&self) -> &[String] {
        &self.claims
    }

    /// The roles and scopes of a token whose kept claims are `kept` (claim index, value) and
    /// whose whole payload is `payload`; with a custom closure, also the parsed payload.
    pub(crate) fn grants(
        &self,
        kept: &[(usize, Value)],
        payload: &str,
    ) -> Result<(Grants, Option<Map<String, Value>>), InvalidToken> {
        let claim = |i: usize| kept.iter().find(|(k, _)| *k == i).map(|(_, v)| v);
        let mut grants = Grants::default();
        for (i, path) in &self.roles {
            if let Some(value) = claim(*i) {
                path.collect(value, &mut grants.roles)?;
            }
        }
        for (i, path) in &self.scopes {
            if let Some(value) = claim(*i) {
                path.collect(value, &mut grants.scopes)?;
            }
        }
        let Some(custom) = &self.custom else {
            return Ok((grants, None));
        };
        let all: Map<String, Value> =
            serde_json::from_str(payload).map_err(|_| InvalidToken::BadJson)?;
        custom(&all, &mut grants).map_err(InvalidToken::Custom)?;
        Ok((grants, Some(all)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grants(m: ClaimMapping, payload: &Value) -> Result<Grants, InvalidToken> {
        let m = m.compile();
        let obj = payload.as_object().unwrap();
        let kept: Vec<(usize, Value)> = m
            .claims()
            .iter()
            .enumerate()
            .filter_map(|(i, c)| obj.get(c).map(|v| (i, v.clone())))
            .collect();
        m.grants(&kept, &payload.to_string()).map(|(g, _)| g)
    }

    #[test]
    fn paths_sharing_a_claim_keep_it_once() {
        let m = ClaimMapping::keycloak("api").unwrap().compile();
        assert_eq!(&*m.claims, ["realm_access", "resource_access", "scope"]);
        let m = ClaimMapping::new()
            .roles(ClaimPath::array("/a/x").unwrap())
            .scopes(ClaimPath::array("/a/y").unwrap())
            .compile();
        assert_eq!(&*m.claims, ["a"]);
    }

    #[test]
    fn each_shape_accepts_only_its_json_type() {
        let at = |path: Result<ClaimPath, ConfigError>, v: Value| {
            grants(ClaimMapping::new().roles(path.unwrap()), &json!({ "c": v }))
                .map(|g| g.roles().to_vec())
        };
        let wrong = Err(InvalidToken::MappedClaimType("/c".into()));
        assert_eq!(
            at(ClaimPath::array("/c"), json!(["a", "b", "a", ""])),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(at(ClaimPath::array("/c"), json!("a b")), wrong);
        assert_eq!(at(ClaimPath::array("/c"), json!(["a", 1])), wrong);
        assert_eq!(
            at(ClaimPath::space_delimited("/c"), json!("a  b")),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(at(ClaimPath::space_delimited("/c"), json!(["a"])), wrong);
        assert_eq!(
            at(ClaimPath::string_or_array("/c"), json!("a b")),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            at(ClaimPath::string_or_array("/c"), json!(["a"])),
            Ok(vec!["a".into()])
        );
        for v in [json!(null), json!(true), json!(5), json!({"a": 1})] {
            assert_eq!(
                at(ClaimPath::string_or_array("/c"), v.clone()),
                wrong,
                "{v}"
            );
        }
    }

    #[test]
    fn absent_members_grant_nothing_but_a_path_through_a_scalar_is_invalid() {
        let m = || ClaimMapping::keycloak("api").unwrap();
        let g = grants(
            m(),
            &json!({"resource_access": {"other": {"roles": ["x"]}}}),
        )
        .unwrap();
        assert!(g.roles().is_empty());
        assert_eq!(
            grants(m(), &json!({"resource_access": "api"})),
            Err(InvalidToken::MappedClaimType(
                "/resource_access/api/roles".into()
            ))
        );
        assert_eq!(
            grants(m(), &json!({"realm_access": null})),
            Err(InvalidToken::MappedClaimType("/realm_access/roles".into()))
        );
    }

    #[test]
    fn reserved_claims_cannot_be_mapped() {
        for claim in RESERVED {
            assert!(ClaimPath::array(&format!("/{claim}/x")).is_err(), "{claim}");
        }
        assert!(ClaimPath::array("/subject").is_ok());
    }

    #[test]
    fn presets_reject_empty_arguments_and_escape_names() {
        assert!(ClaimMapping::keycloak("").is_err());
        assert!(ClaimMapping::auth0("").is_err());
        assert!(ClaimMapping::auth0("/").is_err());
        let m = ClaimMapping::auth0("https://example.com/").unwrap();
        assert_eq!(m.roles[0].pointer(), "/https:~1~1example.com~1roles");
        let m = ClaimMapping::keycloak("a/b~c").unwrap();
        assert_eq!(m.roles[1].pointer(), "/resource_access/a~1b~0c/roles");
    }

    #[test]
    fn a_custom_closure_sees_all_claims_and_what_the_paths_found() {
        let m = ClaimMapping::new()
            .roles(ClaimPath::array("/roles").unwrap())
            .custom(|claims, g| {
                if g.roles().iter().any(|r| r == "admin")
                    && claims.get("tenant") == Some(&json!("acme"))
                {
                    g.add_scope("acme:admin");
                    return Ok(());
                }
                Err("not an acme admin".into())
            });
        let g = grants(m.clone(), &json!({"roles": ["admin"], "tenant": "acme"})).unwrap();
        assert_eq!(g.scopes(), ["acme:admin"]);
        assert_eq!(
            grants(m, &json!({"roles": ["admin"]})),
            Err(InvalidToken::Custom("not an acme admin".into()))
        );
    }

    #[test]
    fn debug_lists_pointers() {
        let d = format!("{:?}", ClaimMapping::okta());
        assert!(d.contains("/groups") && d.contains("/scp"), "{d}");
    }
}

//! [`BearerSettings`]: the bearer-token verifier (issuers, audiences, keys, algorithms, leeway,
//! `typ`) and the `BearerLayer` options.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{SettingsError, join};
use super::secret::{self, Base64Secret};
use super::{BuildContext, duration};
use crate::jwt::{
    Algorithm, JwtVerifier, JwtVerifierBuilder, KeyResolver, KeySet, MAX_LEEWAY, StaticKeys,
    TrustedIssuer, VerificationKey,
};

/// The bearer-token verifier: which issuers are trusted, with which keys, for which audiences;
/// plus how `BearerLayer` reads tokens (`realm`, `cookie`, `optional`).
///
/// Settings given here apply to every issuer that does not set its own (`audiences`, `typ`).
/// With one issuer the verifier checks `iss` after the signature; with several, the token's
/// `iss` picks the issuer's keys first (see
/// [`JwtVerifierBuilder::trusted_issuer`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerSettings {
    /// The trusted issuers (at least one).
    pub issuers: Vec<IssuerSettings>,
    /// Audiences for issuers that name none; a token's `aud` must contain one of them. Every
    /// issuer must end up with at least one (there is no "any audience" setting).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Clock-skew leeway for `exp`, `nbf` and `iat` (default 30 s, at most 5 min).
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub leeway: Option<Duration>,
    /// The header `typ` required of issuers that name none (e.g. `at+jwt`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Longest token accepted, in bytes (default 8 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_token_len: Option<usize>,
    /// `BearerLayer`: the realm named in `WWW-Authenticate` (default `api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// `BearerLayer`: also read the token from this cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    /// `BearerLayer`: requests without a token pass through without a principal.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
}

/// One trusted issuer and where its keys come from: exactly one of `keys`, `jwks_url`,
/// `discovery = true`, or a key resolver the application gives
/// ([`BuildContext::key_resolver`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerSettings {
    /// The exact `iss` of its tokens.
    pub issuer: String,
    /// Audiences its tokens must carry one of (default: the verifier-wide `audiences`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// The header `typ` its tokens must carry (default: the verifier-wide `typ`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// The algorithms accepted from this issuer. With `jwks_url` or `discovery`, only keys for
    /// these are used (default: every asymmetric algorithm; `HS*` is refused there); with
    /// `keys`, each key's `alg` must be one of them. `none` is not an algorithm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub algorithms: Vec<Algorithm>,
    /// Keys from a JWK Set at this URL (`https`, or `http` to loopback). Feature `jwks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// Keys by OpenID Connect discovery from `issuer` (`/.well-known/openid-configuration`,
    /// then its `jwks_uri`). Feature `jwks`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub discovery: bool,
    /// Fixed keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeySettings>,
}

/// One fixed verification key: exactly one of `secret_env` / `secret_base64` (HMAC), `pem` /
/// `pem_file` (a public key), or `jwk` (a public JWK).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    /// The algorithm the key is pinned to (required, except for a JWK that names its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<Algorithm>,
    /// Its key id (`kid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The environment variable holding the HMAC secret (raw text, or `base64:` + base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// The HMAC secret inline, as standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_base64: Option<Base64Secret>,
    /// A public key in PEM, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pem: Option<String>,
    /// A file holding a public key in PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pem_file: Option<PathBuf>,
    /// A public JWK (RFC 7517), as a JSON object (a table in TOML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<serde_json::Value>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` hands us `&bool`
fn is_false(b: &bool) -> bool {
    !*b
}

/// What [`BearerSettings::verifier_parts`] makes: the filled-in builder (add custom checks or
/// a claim mapping, then build), and the JWK Set sources it created (to prime at start-up with
/// [`JwksSource::refresh_now`](crate::jwks::JwksSource::refresh_now)).
#[derive(Debug)]
#[non_exhaustive]
pub struct VerifierParts {
    /// The builder, every setting applied.
    pub builder: JwtVerifierBuilder,
    /// The JWK Set sources made for `jwks_url` and `discovery` issuers, in issuer order.
    #[cfg(feature = "jwks")]
    pub jwks_sources: Vec<crate::jwks::JwksSource>,
}

/// The JWK Set sources made while building (nothing can be made without `jwks`).
#[cfg(feature = "jwks")]
type Sources = Vec<crate::jwks::JwksSource>;
#[cfg(not(feature = "jwks"))]
type Sources = Vec<std::convert::Infallible>;

/// One issuer's resolved rules.
struct Resolved {
    issuer: String,
    resolver: Arc<dyn KeyResolver>,
    audiences: Vec<String>,
    typ: Option<String>,
}

impl BearerSettings {
    /// Builds the verifier.
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] naming the field at fault: no issuers, an issuer without audience
    /// or with no (or more than one) key source, a key the builder refuses (a short secret, a
    /// PEM that does not parse, an algorithm that does not fit), a missing environment
    /// variable, a leeway over 5 minutes.
    pub fn verifier(&self, ctx: &BuildContext) -> Result<JwtVerifier, SettingsError> {
        self.verifier_parts(ctx)?
            .builder
            .build()
            .map_err(|e| SettingsError::config("", e))
    }

    /// The verifier's builder with every setting applied, and the key sources made on the
    /// way; see [`VerifierParts`].
    ///
    /// # Errors
    ///
    /// As [`verifier`](Self::verifier), except for the checks the builder makes itself.
    pub fn verifier_parts(&self, ctx: &BuildContext) -> Result<VerifierParts, SettingsError> {
        if self.issuers.is_empty() {
            return Err(SettingsError::invalid(
                "issuers",
                "at least one trusted issuer is required",
            ));
        }
        check_typ("typ", self.typ.as_deref())?;
        if self.audiences.iter().any(String::is_empty) {
            return Err(SettingsError::invalid("audiences", "an audience is empty"));
        }
        let mut jwks_sources: Sources = Vec::new();
        let mut resolved: Vec<Resolved> = Vec::with_capacity(self.issuers.len());
        for (i, issuer) in self.issuers.iter().enumerate() {
            let path = format!("issuers[{i}]");
            let one = self
                .resolve(issuer, ctx, &mut jwks_sources)
                .map_err(|e| e.within(&path))?;
            if resolved.iter().any(|r| r.issuer == one.issuer) {
                return Err(SettingsError::invalid(
                    join(&path, "issuer"),
                    format!("issuer `{}` is listed twice", one.issuer),
                ));
            }
            resolved.push(one);
        }
        let mut builder = JwtVerifier::builder();
        if let Some(leeway) = self.leeway {
            if leeway > MAX_LEEWAY {
                return Err(SettingsError::invalid(
                    "leeway",
                    format!("at most {} s", MAX_LEEWAY.as_secs()),
                ));
            }
            builder = builder.leeway(leeway);
        }
        if let Some(len) = self.max_token_len {
            if len == 0 {
                return Err(SettingsError::invalid("max_token_len", "must be positive"));
            }
            builder = builder.max_token_len(len);
        }
        if let Some(clock) = ctx.clock_ref() {
            builder = builder.clock(Arc::clone(clock));
        }
        if let [only] = resolved.as_mut_slice() {
            builder = builder
                .key_resolver(Arc::clone(&only.resolver))
                .issuer(only.issuer.clone());
            for aud in only.audiences.drain(..) {
                builder = builder.audience(aud);
            }
            if let Some(typ) = only.typ.take() {
                builder = builder.require_type(typ);
            }
        } else {
            for r in resolved {
                let mut t = TrustedIssuer::new(r.issuer, r.resolver);
                for aud in r.audiences {
                    t = t.audience(aud);
                }
                if let Some(typ) = r.typ {
                    t = t.require_type(typ);
                }
                builder = builder.trusted_issuer(t);
            }
        }
        #[cfg(not(feature = "jwks"))]
        let _: Sources = jwks_sources;
        Ok(VerifierParts {
            builder,
            #[cfg(feature = "jwks")]
            jwks_sources,
        })
    }

    /// One issuer's keys and rules, with paths relative to the issuer.
    fn resolve(
        &self,
        s: &IssuerSettings,
        ctx: &BuildContext,
        sources: &mut Sources,
    ) -> Result<Resolved, SettingsError> {
        if s.issuer.is_empty() {
            return Err(SettingsError::invalid("issuer", "must not be empty"));
        }
        check_typ("typ", s.typ.as_deref())?;
        let audiences = if s.audiences.is_empty() {
            self.audiences.clone()
        } else {
            s.audiences.clone()
        };
        if audiences.is_empty() {
            return Err(SettingsError::invalid(
                "audiences",
                "no audience: set `audiences` here or for the whole verifier (without one, \
                 tokens this issuer minted for any other service would be accepted)",
            ));
        }
        if audiences.iter().any(String::is_empty) {
            return Err(SettingsError::invalid("audiences", "an audience is empty"));
        }
        let app = ctx.resolver(&s.issuer);
        let given = usize::from(!s.keys.is_empty())
            + usize::from(s.jwks_url.is_some())
            + usize::from(s.discovery)
            + usize::from(app.is_some());
        if given != 1 {
            let why = if given == 0 {
                "no key source: give `keys`, `jwks_url` or `discovery = true`"
            } else if app.is_some() {
                "the application provides this issuer's keys; remove `keys`, `jwks_url` and \
                 `discovery`"
            } else {
                "give exactly one of `keys`, `jwks_url` and `discovery = true`"
            };
            return Err(SettingsError::invalid("", why));
        }
        let resolver: Arc<dyn KeyResolver> = if let Some(app) = app {
            app
        } else if !s.keys.is_empty() {
            let mut keys = Vec::with_capacity(s.keys.len());
            for (j, k) in s.keys.iter().enumerate() {
                let path = format!("keys[{j}]");
                let key = k.key(ctx).map_err(|e| e.within(&path))?;
                if !s.algorithms.is_empty() && !s.algorithms.contains(&key.algorithm()) {
                    return Err(SettingsError::invalid(
                        path,
                        format!(
                            "the key's algorithm {} is not among this issuer's `algorithms`",
                            key.algorithm()
                        ),
                    ));
                }
                keys.push(key);
            }
            let set = KeySet::new(keys).map_err(|e| SettingsError::config("keys", e))?;
            Arc::new(StaticKeys::new(set))
        } else {
            self.jwks(s, ctx, sources)?
        };
        Ok(Resolved {
            issuer: s.issuer.clone(),
            resolver,
            audiences,
            typ: s.typ.clone().or_else(|| self.typ.clone()),
        })
    }

    #[cfg(feature = "jwks")]
    #[allow(clippy::unused_self)]
    fn jwks(
        &self,
        s: &IssuerSettings,
        ctx: &BuildContext,
        sources: &mut Vec<crate::jwks::JwksSource>,
    ) -> Result<Arc<dyn KeyResolver>, SettingsError> {
        use crate::jwks::JwksSource;
        let (field, mut b) = match &s.jwks_url {
            Some(url) => ("jwks_url", JwksSource::from_jwks_uri(url.clone())),
            None => ("discovery", JwksSource::from_oidc_issuer(s.issuer.clone())),
        };
        if let Some(k) = s
            .algorithms
            .iter()
            .position(|a| a.as_str().starts_with("HS"))
        {
            return Err(SettingsError::invalid(
                format!("algorithms[{k}]"),
                "HMAC algorithms need a shared secret; a JWK Set only serves public keys",
            ));
        }
        if !s.algorithms.is_empty() {
            b = b.algorithms(s.algorithms.iter().copied());
        }
        if let Some(clock) = ctx.clock_ref() {
            b = b.clock(Arc::clone(clock));
        }
        let source = b.build().map_err(|e| SettingsError::config(field, e))?;
        sources.push(source.clone());
        Ok(Arc::new(source))
    }

    #[cfg(not(feature = "jwks"))]
    #[allow(clippy::unused_self)]
    fn jwks(
        &self,
        s: &IssuerSettings,
        _ctx: &BuildContext,
        _sources: &mut Sources,
    ) -> Result<Arc<dyn KeyResolver>, SettingsError> {
        let field = if s.jwks_url.is_some() {
            "jwks_url"
        } else {
            "discovery"
        };
        Err(SettingsError::invalid(
            field,
            "keys from a JWK Set need auth-core's `jwks` feature",
        ))
    }
}

impl KeySettings {
    /// The key, with paths relative to it.
    fn key(&self, ctx: &BuildContext) -> Result<VerificationKey, SettingsError> {
        let secret = secret::read(
            ctx,
            "",
            "secret",
            self.secret_env.as_deref(),
            self.secret_base64.as_ref(),
        )?;
        let given = usize::from(secret.is_some())
            + usize::from(self.pem.is_some())
            + usize::from(self.pem_file.is_some())
            + usize::from(self.jwk.is_some());
        if given != 1 {
            return Err(SettingsError::invalid(
                "",
                "give exactly one of `secret_env`, `secret_base64`, `pem`, `pem_file` and `jwk`",
            ));
        }
        let alg = || {
            self.alg
                .ok_or_else(|| SettingsError::invalid("alg", "required for this key"))
        };
        let key = if let Some(secret) = secret {
            let field = if self.secret_env.is_some() {
                "secret_env"
            } else {
                "secret_base64"
            };
            let alg = alg()?;
            VerificationKey::hmac(alg, secret).map_err(|e| match e {
                e @ crate::ConfigError::KeyAlgorithmMismatch { .. } => {
                    SettingsError::config("alg", e)
                }
                e => SettingsError::config(field, e),
            })?
        } else if let Some(pem) = &self.pem {
            VerificationKey::from_pem(alg()?, pem).map_err(|e| SettingsError::config("pem", e))?
        } else if let Some(file) = &self.pem_file {
            let alg = alg()?;
            let pem = std::fs::read(file).map_err(|e| {
                SettingsError::invalid("pem_file", format!("`{}`: {e}", file.display()))
            })?;
            VerificationKey::from_pem(alg, pem).map_err(|e| SettingsError::config("pem_file", e))?
        } else if let Some(jwk) = &self.jwk {
            VerificationKey::from_jwk_json(&jwk.to_string(), self.alg)
                .map_err(|e| SettingsError::config("jwk", e))?
        } else {
            return Err(SettingsError::invalid("", "no key material"));
        };
        Ok(match &self.kid {
            Some(kid) if kid.is_empty() => {
                return Err(SettingsError::invalid("kid", "must not be empty"));
            }
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }
}

/// A `typ` rule: a media type such as `at+jwt` (visible ASCII letters, digits, `+-./_`).
fn check_typ(field: &str, typ: Option<&str>) -> Result<(), SettingsError> {
    let Some(typ) = typ else { return Ok(()) };
    let ok = !typ.is_empty()
        && typ.len() <= 64
        && typ
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'/' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(SettingsError::invalid(
            field,
            "must be a media type such as `at+jwt` (leave it out to require none)",
        ))
    }
}

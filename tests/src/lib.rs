//! Shared fixtures for the workspace-level tests.
//!
//! - [`oidc`]: runs a real OpenID Provider (npm `oidc-provider`) on loopback for the JWKS and
//!   discovery tests.
//! - [`oidc_login`]: a second `oidc-provider` with authorization-code clients for the sign-in
//!   tests, and a cookie-keeping HTTP browser that signs in on its development pages.
//! - [`interop`]: runs the token signers in `tests/interop/` (npm `jose`, PyPI `pyjwt`) and
//!   turns what they print into verification keys and verifiers.

pub mod interop {
    //! Interop fixtures: tokens signed by other JWT libraries.
    //!
    //! Each signer script in `tests/interop/` generates fresh keys, signs one token per
    //! algorithm and prints a single JSON document ([`SignerOutput`]). The helpers here run a
    //! script, parse that document and build the matching [`VerificationKey`]s and
    //! [`JwtVerifier`]s. Nothing here asserts: every helper returns a [`Result`] whose error
    //! says what went wrong and, when a signer is not installed, how to install it.
    //!
    //! Install both signers with `bash tests/interop/install.sh`.

    use std::fmt;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use auth_core::ConfigError;
    use auth_core::clock::{ManualClock, UnixTime};
    use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
    use base64::Engine as _;
    use serde::Deserialize;

    /// The `iss` every signer puts in its tokens.
    pub const ISSUER: &str = "interop-issuer";
    /// The `aud` every signer puts in its tokens.
    pub const AUDIENCE: &str = "interop-aud";
    /// The scopes every signer grants, in the order of its space-delimited `scope` claim.
    pub const SCOPES: [&str; 2] = ["read:orders", "write:orders"];
    /// The roles every signer grants, in the order of its `roles` claim.
    pub const ROLES: [&str; 2] = ["user", "admin"];
    /// How long after `iat` every signer sets `exp`, in seconds.
    pub const LIFETIME_SECS: u64 = 600;
    /// The algorithms every signer covers, in the order it prints them.
    pub const ALGORITHMS: [Algorithm; 4] = [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ];

    /// The directory holding the signer scripts, `package.json` and `requirements.txt`.
    #[must_use]
    pub fn interop_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
    }

    /// A third-party JWT library with a signer script in `tests/interop/`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Signer {
        /// npm `jose`, run by `node sign_jose.mjs`.
        Jose,
        /// PyPI `pyjwt`, run by `python3 sign_pyjwt.py`.
        PyJwt,
    }

    impl Signer {
        /// The library's name as the script reports it.
        #[must_use]
        pub const fn name(self) -> &'static str {
            match self {
                Self::Jose => "jose",
                Self::PyJwt => "pyjwt",
            }
        }

        /// The command that installs this signer's dependencies, from the workspace root.
        #[must_use]
        pub const fn install_hint(self) -> &'static str {
            match self {
                Self::Jose => {
                    "run `npm ci --prefix tests/interop` (or `bash tests/interop/install.sh`) \
                     from the workspace root"
                }
                Self::PyJwt => {
                    "run `python3 -m pip install -r tests/interop/requirements.txt` \
                     (or `bash tests/interop/install.sh`) from the workspace root"
                }
            }
        }

        const fn program(self) -> &'static str {
            match self {
                Self::Jose => "node",
                Self::PyJwt => "python3",
            }
        }

        const fn script(self) -> &'static str {
            match self {
                Self::Jose => "sign_jose.mjs",
                Self::PyJwt => "sign_pyjwt.py",
            }
        }

        /// The exact library version pinned in `package.json` or `requirements.txt`.
        ///
        /// # Errors
        ///
        /// [`InteropError::Manifest`] when the manifest cannot be read or pins no exact version.
        pub fn pinned_version(self) -> Result<String, InteropError> {
            let (file, found) = match self {
                Self::Jose => {
                    let text = read_manifest("package.json")?;
                    let json: serde_json::Value = serde_json::from_str(&text)
                        .map_err(|e| InteropError::Manifest(format!("package.json: {e}")))?;
                    let version = json
                        .pointer("/dependencies/jose")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned);
                    ("package.json", version)
                }
                Self::PyJwt => {
                    let text = read_manifest("requirements.txt")?;
                    let version = text
                        .lines()
                        .find_map(|l| l.trim().strip_prefix("pyjwt[crypto]=="))
                        .map(|v| v.trim().to_owned());
                    ("requirements.txt", version)
                }
            };
            match found {
                Some(v) if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') => {
                    Ok(v)
                }
                _ => Err(InteropError::Manifest(format!(
                    "{file} does not pin an exact {} version",
                    self.name()
                ))),
            }
        }

        /// Fails with install instructions when the library is not installed.
        ///
        /// # Errors
        ///
        /// [`InteropError::NotInstalled`] when `node_modules/jose` is absent or `python3` cannot
        /// import `jwt` and `cryptography`; [`InteropError::Spawn`] when the interpreter is
        /// missing.
        pub fn ensure_installed(self) -> Result<(), InteropError> {
            match self {
                Self::Jose => {
                    let manifest = interop_dir().join("node_modules/jose/package.json");
                    if manifest.is_file() {
                        Ok(())
                    } else {
                        Err(InteropError::NotInstalled {
                            signer: self,
                            detail: format!("{} does not exist", manifest.display()),
                        })
                    }
                }
                Self::PyJwt => {
                    let output = Command::new(self.program())
                        .args(["-c", "import jwt, cryptography"])
                        .output()
                        .map_err(|source| InteropError::Spawn {
                            signer: self,
                            source,
                        })?;
                    if output.status.success() {
                        Ok(())
                    } else {
                        // The last line of the traceback names the missing module.
                        let stderr = String::from_utf8_lossy(&output.stderr);
                        let detail = stderr.lines().rev().find(|l| !l.trim().is_empty());
                        Err(InteropError::NotInstalled {
                            signer: self,
                            detail: detail.unwrap_or("import failed").trim().to_owned(),
                        })
                    }
                }
            }
        }

        /// Runs the signer script and parses the JSON document it prints.
        ///
        /// # Errors
        ///
        /// As [`Signer::ensure_installed`], plus [`InteropError::Failed`] when the script exits
        /// unsuccessfully and [`InteropError::Output`] when its stdout is not the expected JSON.
        pub fn run(self) -> Result<SignerOutput, InteropError> {
            self.ensure_installed()?;
            let dir = interop_dir();
            let output = Command::new(self.program())
                .arg(dir.join(self.script()))
                .current_dir(&dir)
                .output()
                .map_err(|source| InteropError::Spawn {
                    signer: self,
                    source,
                })?;
            if !output.status.success() {
                return Err(InteropError::Failed {
                    signer: self,
                    status: output.status.to_string(),
                    stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
                });
            }
            serde_json::from_slice(&output.stdout).map_err(|e| InteropError::Output {
                signer: self,
                reason: e.to_string(),
            })
        }
    }

    fn read_manifest(name: &str) -> Result<String, InteropError> {
        let path = interop_dir().join(name);
        std::fs::read_to_string(&path)
            .map_err(|e| InteropError::Manifest(format!("{}: {e}", path.display())))
    }

    /// The JSON document a signer script prints.
    #[derive(Debug, Deserialize)]
    #[non_exhaustive]
    pub struct SignerOutput {
        /// Which library signed, as the script saw it at run time.
        pub signer: SignerInfo,
        /// One token per algorithm.
        pub tokens: Vec<SignedToken>,
    }

    /// The signing library's name and installed version.
    #[derive(Debug, Deserialize)]
    #[non_exhaustive]
    pub struct SignerInfo {
        /// `jose` or `pyjwt`.
        pub name: String,
        /// The installed version, e.g. `6.2.17`.
        pub version: String,
    }

    /// One token and the public half (or secret) of the key that signed it.
    #[derive(Deserialize)]
    #[non_exhaustive]
    pub struct SignedToken {
        /// The JWS algorithm name, e.g. `RS256`.
        pub alg: String,
        /// The `kid` header the signer set.
        pub kid: String,
        /// The `sub` claim.
        pub sub: String,
        /// The `jti` claim.
        pub jti: String,
        /// The `iat` claim; `exp` is `iat + LIFETIME_SECS`.
        pub iat: u64,
        /// The compact JWS.
        pub token: String,
        /// The HMAC secret, standard base64 (HMAC algorithms only).
        pub secret_b64: Option<String>,
        /// The public key as SPKI PEM (asymmetric algorithms only).
        pub public_pem: Option<String>,
        /// The public key as a JWK with `kid`, `alg` and `use` (jose, asymmetric only).
        pub public_jwk: Option<serde_json::Value>,
    }

    impl fmt::Debug for SignedToken {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SignedToken")
                .field("alg", &self.alg)
                .field("kid", &self.kid)
                .field("sub", &self.sub)
                .field("jti", &self.jti)
                .field("iat", &self.iat)
                .field("token", &self.token)
                .field("secret_b64", &self.secret_b64.as_ref().map(|_| "REDACTED"))
                .field("public_pem", &self.public_pem.is_some())
                .field("public_jwk", &self.public_jwk.is_some())
                .finish()
        }
    }

    impl SignedToken {
        /// The token's algorithm.
        ///
        /// # Errors
        ///
        /// [`InteropError::Key`] when the name is not a supported algorithm.
        pub fn algorithm(&self) -> Result<Algorithm, InteropError> {
            self.alg.parse().map_err(|e| self.key_error(e))
        }

        /// The key the signer exported in its native form: the HMAC secret, or the PEM public
        /// key. The key has no `kid`, so it is selected by algorithm alone.
        ///
        /// # Errors
        ///
        /// [`InteropError::Key`] when the material is missing or refused by
        /// [`VerificationKey`].
        pub fn verification_key(&self) -> Result<VerificationKey, InteropError> {
            let alg = self.algorithm()?;
            if let Some(secret) = &self.secret_b64 {
                let secret = base64::engine::general_purpose::STANDARD
                    .decode(secret)
                    .map_err(|e| self.key_error(format!("secret_b64: {e}")))?;
                return VerificationKey::hmac(alg, secret).map_err(|e| self.key_error(e));
            }
            let pem = self
                .public_pem
                .as_deref()
                .ok_or_else(|| self.key_error("neither secret_b64 nor public_pem is present"))?;
            VerificationKey::from_pem(alg, pem).map_err(|e| self.key_error(e))
        }

        /// The public key from the signer's JWK export, named by the JWK's `kid` and pinned by
        /// its `alg`.
        ///
        /// # Errors
        ///
        /// [`InteropError::Key`] when there is no JWK or [`VerificationKey`] refuses it.
        pub fn jwk_verification_key(&self) -> Result<VerificationKey, InteropError> {
            let jwk = self
                .public_jwk
                .as_ref()
                .ok_or_else(|| self.key_error("no public_jwk is present"))?;
            VerificationKey::from_jwk_json(&jwk.to_string(), Some(self.algorithm()?))
                .map_err(|e| self.key_error(e))
        }

        fn key_error(&self, reason: impl fmt::Display) -> InteropError {
            InteropError::Key {
                alg: self.alg.clone(),
                reason: reason.to_string(),
            }
        }
    }

    /// A verifier for the interop issuer and audience that trusts only `key`, with a manual
    /// clock standing at `now_secs`.
    ///
    /// # Errors
    ///
    /// [`InteropError::Config`] when the builder refuses the configuration.
    pub fn verifier_at(key: VerificationKey, now_secs: u64) -> Result<JwtVerifier, InteropError> {
        JwtVerifier::builder()
            .key(key)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .clock(ManualClock::new(UnixTime::from_secs(now_secs)))
            .build()
            .map_err(InteropError::Config)
    }

    /// `token` with one character in the middle of its payload segment replaced by another
    /// base64url character, so the payload decodes to different bytes under the same
    /// signature.
    ///
    /// # Errors
    ///
    /// [`InteropError::Token`] when `token` has no payload segment or is not ASCII.
    pub fn with_changed_payload_character(token: &str) -> Result<String, InteropError> {
        let mut segments = token.split('.');
        let header_len = segments.next().map_or(0, str::len);
        let payload = segments
            .next()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| InteropError::Token("token has no payload segment".into()))?;
        // Byte offset of the middle payload character.
        let at = header_len + 1 + payload.len() / 2;
        let old = token
            .get(at..=at)
            .ok_or_else(|| InteropError::Token("token is not ascii".into()))?;
        let new = if old == "A" { "B" } else { "A" };
        let mut changed = token.to_owned();
        // `get` above proved `at..=at` is a one-byte range on char boundaries.
        changed.replace_range(at..=at, new);
        Ok(changed)
    }

    /// Why an interop fixture could not be produced.
    #[derive(Debug)]
    #[non_exhaustive]
    pub enum InteropError {
        /// The signer's library is not installed; the message says how to install it.
        NotInstalled {
            /// Which signer.
            signer: Signer,
            /// What was found missing.
            detail: String,
        },
        /// The interpreter (`node` or `python3`) could not be started.
        Spawn {
            /// Which signer.
            signer: Signer,
            /// The operating-system error.
            source: std::io::Error,
        },
        /// The signer script exited unsuccessfully.
        Failed {
            /// Which signer.
            signer: Signer,
            /// The exit status.
            status: String,
            /// What the script wrote to stderr.
            stderr: String,
        },
        /// The script's stdout is not the expected JSON document.
        Output {
            /// Which signer.
            signer: Signer,
            /// The JSON parse error.
            reason: String,
        },
        /// `package.json` or `requirements.txt` is unreadable or pins no exact version.
        Manifest(String),
        /// Key material from the signer was missing or refused.
        Key {
            /// The token's algorithm name.
            alg: String,
            /// Why.
            reason: String,
        },
        /// A token could not be manipulated as asked.
        Token(String),
        /// The verifier builder refused the configuration.
        Config(ConfigError),
    }

    impl fmt::Display for InteropError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Self::NotInstalled { signer, detail } => write!(
                    f,
                    "the {} interop signer is not installed ({detail}); {}",
                    signer.name(),
                    signer.install_hint()
                ),
                Self::Spawn { signer, source } => write!(
                    f,
                    "could not start `{}` for the {} interop signer ({source}); install it and \
                     make sure it is on PATH, then {}",
                    signer.program(),
                    signer.name(),
                    signer.install_hint()
                ),
                Self::Failed {
                    signer,
                    status,
                    stderr,
                } => write!(
                    f,
                    "the {} interop signer failed ({status}): {stderr}\nif a module is missing, {}",
                    signer.name(),
                    signer.install_hint()
                ),
                Self::Output { signer, reason } => write!(
                    f,
                    "the {} interop signer printed unexpected output: {reason}",
                    signer.name()
                ),
                Self::Manifest(m) => write!(f, "interop manifest: {m}"),
                Self::Key { alg, reason } => write!(f, "{alg} key from the signer: {reason}"),
                Self::Token(m) => write!(f, "token manipulation: {m}"),
                Self::Config(e) => write!(f, "verifier configuration: {e}"),
            }
        }
    }

    impl std::error::Error for InteropError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            match self {
                Self::Spawn { source, .. } => Some(source),
                Self::Config(e) => Some(e),
                _ => None,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn changed_payload_character_touches_only_the_payload() {
            let token = "aGVhZA.cGF5bG9hZA.c2ln";
            let changed = with_changed_payload_character(token).unwrap();
            assert_eq!(changed.len(), token.len());
            let diffs: Vec<usize> = token
                .bytes()
                .zip(changed.bytes())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(diffs.len(), 1);
            assert!((7..17).contains(&diffs[0]), "{diffs:?}");
        }

        #[test]
        fn a_token_without_payload_cannot_be_changed() {
            assert!(with_changed_payload_character("onlyheader").is_err());
            assert!(with_changed_payload_character("head..sig").is_err());
        }

        #[test]
        fn pinned_versions_are_exact() {
            for signer in [Signer::Jose, Signer::PyJwt] {
                let v = signer.pinned_version().unwrap();
                assert!(v.split('.').count() == 3, "{signer:?}: {v}");
            }
        }

        #[test]
        fn secrets_do_not_reach_debug_output() {
            let t = SignedToken {
                alg: "HS256".into(),
                kid: "k".into(),
                sub: "s".into(),
                jti: "j".into(),
                iat: 1,
                token: "a.b.c".into(),
                secret_b64: Some("c2VjcmV0LXZhbHVl".into()),
                public_pem: None,
                public_jwk: None,
            };
            let s = format!("{t:?}");
            assert!(s.contains("REDACTED"));
            assert!(!s.contains("c2VjcmV0LXZhbHVl"));
        }
    }
}

/// Signing keys generated at run time (RSA, ECDSA, Ed25519, HMAC) and a JWS signing helper.
pub mod keys;

pub mod oidc;

pub mod oidc_login;

//! A real OpenID Provider for the JWKS/OIDC tests: npm `oidc-provider`, pinned in
//! `tests/oidc/package.json`, run by `tests/oidc/provider.mjs` on 127.0.0.1.
//!
//! [`OidcProvider::start`] spawns it with a signing-key file (created by the script when
//! missing, so a restart with a new file rotates the key) on a given port (0 for a free one),
//! waits (bounded, by reading its `READY` line, never sleeping) until it listens, and kills it
//! when dropped. [`OidcProvider::jwks_requests`] reads how many times its JWKS endpoint was
//! fetched; [`OidcProvider::client_credentials_token`] gets a JWT access token for
//! [`RESOURCE`].
//!
//! Nothing here panics; without Node.js or without `npm ci` in `tests/oidc`, every helper
//! returns an [`OidcError`] saying how to install it.

use std::fmt;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// The client allowed the client-credentials grant.
pub const CLIENT_ID: &str = "test-client";
/// Its secret (client_secret_basic).
pub const CLIENT_SECRET: &str = "test-secret";
/// A `client_secret_basic` client whose secret holds `+`, `:`, `%`, `&`, `=`, `?` and a space
/// (so RFC 6749 section 2.3.1's encoding is exercised against the provider; RFC 6749 appendix A
/// allows no characters beyond visible ASCII and space in a secret).
pub const BASIC_CLIENT_ID: &str = "basic-client";
/// Its secret (`BASIC_SECRET` in `provider.mjs`).
pub const BASIC_CLIENT_SECRET: &str = "b+a:s%i c/&=?~";
/// A `client_secret_post` client.
pub const POST_CLIENT_ID: &str = "post-client";
/// Its secret (`POST_SECRET` in `provider.mjs`).
pub const POST_CLIENT_SECRET: &str = "p+o:s%t &=";
/// The `private_key_jwt` client, registered when the provider is started with
/// [`OidcProvider::start_with_client_jwks`].
pub const JWT_CLIENT_ID: &str = "jwt-client";
/// The resource indicator (RFC 8707) tokens are requested for; it becomes their `aud`.
pub const RESOURCE: &str = "urn:auth-tests:api";

/// How long the provider may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Socket timeout for the helper's own HTTP calls.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The directory holding `provider.mjs`, `package.json` and `package-lock.json`.
#[must_use]
pub fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

const INSTALL_HINT: &str = "run `bash tests/interop/install.sh` (or `npm ci --prefix tests/oidc`) \
                            from the workspace root";

/// Fails with install instructions when `oidc-provider` is not installed.
///
/// # Errors
///
/// [`OidcError::NotInstalled`] when `tests/oidc/node_modules/oidc-provider` is absent.
pub fn ensure_installed() -> Result<(), OidcError> {
    let manifest = oidc_dir().join("node_modules/oidc-provider/package.json");
    if manifest.is_file() {
        Ok(())
    } else {
        Err(OidcError::NotInstalled(format!(
            "{} does not exist",
            manifest.display()
        )))
    }
}

/// The exact `oidc-provider` version pinned in `tests/oidc/package.json`.
///
/// # Errors
///
/// [`OidcError::Manifest`] when the manifest is unreadable or pins no exact version.
pub fn pinned_version() -> Result<String, OidcError> {
    let path = oidc_dir().join("package.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| OidcError::Manifest(format!("{}: {e}", path.display())))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| OidcError::Manifest(format!("package.json: {e}")))?;
    json.pointer("/dependencies/oidc-provider")
        .and_then(serde_json::Value::as_str)
        .filter(|v| v.split('.').count() == 3 && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .map(str::to_owned)
        .ok_or_else(|| OidcError::Manifest("package.json does not pin oidc-provider".into()))
}

/// A path for a signing-key file in the temporary directory, removed (with the private key the
/// provider wrote into it) when dropped.
#[derive(Debug)]
pub struct KeyFile(PathBuf);

impl KeyFile {
    /// A fresh, not yet existing path; the provider generates a key there on start.
    #[must_use]
    pub fn fresh(label: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = N.fetch_add(1, Ordering::SeqCst);
        Self(std::env::temp_dir().join(format!(
            "auth-oidc-{}-{nanos}-{n}-{label}.json",
            std::process::id()
        )))
    }

    /// The path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A running `oidc-provider`, killed when dropped.
pub struct OidcProvider {
    child: Child,
    // Held open: the script exits when its stdin closes (so it dies with the test process).
    _stdin: Option<ChildStdin>,
    issuer: String,
    port: u16,
    kid: String,
    stderr: Arc<Mutex<String>>,
}

impl fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct Ready {
    issuer: String,
    port: u16,
    kid: String,
}

impl OidcProvider {
    /// Starts the provider on `127.0.0.1:port` (0: a free port) signing with the key in
    /// `key_file` (generated there if the file does not exist), and waits until it listens.
    ///
    /// # Errors
    ///
    /// [`OidcError::NotInstalled`], [`OidcError::Spawn`] when `node` cannot start,
    /// [`OidcError::Start`] when the script exits or does not report ready in time.
    pub fn start(key_file: &KeyFile, port: u16) -> Result<Self, OidcError> {
        Self::start_with(key_file, port, None, false)
    }

    /// As [`start`](Self::start), with opaque access tokens for [`RESOURCE`], the introspection
    /// endpoint (RFC 7662, `/token/introspection`, counted: see
    /// [`introspection_requests`](Self::introspection_requests)) and the revocation endpoint
    /// (RFC 7009, see [`revoke`](Self::revoke)).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_opaque(key_file: &KeyFile, port: u16) -> Result<Self, OidcError> {
        Self::start_with(key_file, port, None, true)
    }

    /// As [`start`](Self::start), and registers the `private_key_jwt` client [`JWT_CLIENT_ID`]
    /// with the public JWK Set in `client_jwks` (a file holding `{"keys": [...]}`).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with_client_jwks(
        key_file: &KeyFile,
        port: u16,
        client_jwks: &Path,
    ) -> Result<Self, OidcError> {
        Self::start_with(key_file, port, Some(client_jwks), false)
    }

    fn start_with(
        key_file: &KeyFile,
        port: u16,
        client_jwks: Option<&Path>,
        opaque: bool,
    ) -> Result<Self, OidcError> {
        ensure_installed()?;
        let dir = oidc_dir();
        let mut command = Command::new("node");
        command
            .arg(dir.join("provider.mjs"))
            .arg("--key-file")
            .arg(key_file.path())
            .arg("--port")
            .arg(port.to_string());
        if let Some(jwks) = client_jwks {
            command.arg("--client-jwks").arg(jwks);
        }
        if opaque {
            command.arg("--opaque");
        }
        let mut child = command
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(OidcError::Spawn)?;
        let stdin = child.stdin.take();
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let (Ok(mut s), Some(bytes)) = (sink.lock(), buf.get(..n)) {
                        s.push_str(&String::from_utf8_lossy(bytes));
                    }
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut this = Self {
            child,
            _stdin: stdin,
            issuer: String::new(),
            port: 0,
            kid: String::new(),
            stderr,
        };
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(json) = line.strip_prefix("READY ") {
                        let ready: Ready = serde_json::from_str(json)
                            .map_err(|e| this.start_error(&format!("bad READY line: {e}")))?;
                        this.issuer = ready.issuer;
                        this.port = ready.port;
                        this.kid = ready.kid;
                        return Ok(this);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(this.start_error("not ready within 30 s"));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = this.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(this.start_error(&format!("exited ({status})")));
                }
            }
        }
    }

    fn start_error(&self, what: &str) -> OidcError {
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        OidcError::Start(format!("{what}; stderr:\n{stderr}"))
    }

    /// The issuer, `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `kid` of its signing key.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// How many requests its JWKS endpoint has served since it started.
    ///
    /// # Errors
    ///
    /// [`OidcError::Http`] when the counter cannot be read.
    pub fn jwks_requests(&self) -> Result<usize, OidcError> {
        let (status, body) = http(self.port, "GET", "/test/jwks-count", &[], "")?;
        let json: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| OidcError::Http(format!("jwks-count {status}: {e}")))?;
        json.get("count")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| OidcError::Http(format!("jwks-count {status}: {body}")))
    }

    /// How many introspection requests the provider has answered since it started (started
    /// with [`start_opaque`](Self::start_opaque)).
    ///
    /// # Errors
    ///
    /// [`OidcError::Http`] when the counter cannot be read.
    pub fn introspection_requests(&self) -> Result<usize, OidcError> {
        let (status, body) = http(self.port, "GET", "/test/introspection-count", &[], "")?;
        let json: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| OidcError::Http(format!("introspection-count {status}: {e}")))?;
        json.get("count")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| OidcError::Http(format!("introspection-count {status}: {body}")))
    }

    /// Revokes `token` at the revocation endpoint (RFC 7009) as [`CLIENT_ID`].
    ///
    /// # Errors
    ///
    /// [`OidcError::Http`] when the endpoint does not answer 200.
    pub fn revoke(&self, token: &str) -> Result<(), OidcError> {
        let body = format!("token={token}&token_type_hint=access_token");
        let (status, text) = http(
            self.port,
            "POST",
            "/token/revocation",
            &[
                ("authorization", &format!("Basic {}", basic_credentials())),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )?;
        if status == 200 {
            Ok(())
        } else {
            Err(OidcError::Http(format!("revocation {status}: {text}")))
        }
    }

    /// An access token for [`RESOURCE`] with `scope`, from the client-credentials grant (a JWT,
    /// or opaque with [`start_opaque`](Self::start_opaque)).
    ///
    /// # Errors
    ///
    /// [`OidcError::Http`] when the token endpoint refuses or answers something unexpected.
    pub fn client_credentials_token(&self, scope: &str) -> Result<String, OidcError> {
        let basic = basic_credentials();
        let body = format!(
            "grant_type=client_credentials&scope={}&resource={}",
            scope.replace(' ', "+"),
            RESOURCE.replace(':', "%3A")
        );
        let (status, text) = http(
            self.port,
            "POST",
            "/token",
            &[
                ("authorization", &format!("Basic {basic}")),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| OidcError::Http(format!("token endpoint {status}: {e}: {text}")))?;
        json.get("access_token")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| OidcError::Http(format!("token endpoint {status}: {text}")))
    }

    /// Kills the provider and waits for it to exit; its port is free afterwards.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `base64(CLIENT_ID:CLIENT_SECRET)` (neither needs form-encoding).
fn basic_credentials() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
}

/// One HTTP/1.0 exchange with 127.0.0.1:`port` (the connection closes after the response).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), OidcError> {
    let err = |e: std::io::Error| OidcError::Http(format!("{method} {path}: {e}"));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(err)?;
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(err)?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(err)?;
    let mut req = format!(
        "{method} {path} HTTP/1.0\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).map_err(err)?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(err)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| OidcError::Http(format!("{method} {path}: no header end")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| OidcError::Http(format!("{method} {path}: bad status line")))?;
    Ok((status, body.to_owned()))
}

/// Why the provider could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum OidcError {
    /// `oidc-provider` is not installed; the message says how to install it.
    NotInstalled(String),
    /// `node` could not be started.
    Spawn(std::io::Error),
    /// The provider exited or did not become ready.
    Start(String),
    /// A request to the provider failed.
    Http(String),
    /// `package.json` is unreadable or pins no exact version.
    Manifest(String),
}

impl fmt::Display for OidcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled(d) => {
                write!(
                    f,
                    "npm oidc-provider is not installed ({d}); {INSTALL_HINT}"
                )
            }
            Self::Spawn(e) => write!(
                f,
                "could not start `node` for oidc-provider ({e}); install Node.js, then {INSTALL_HINT}"
            ),
            Self::Start(m) => write!(f, "oidc-provider did not start: {m}"),
            Self::Http(m) => write!(f, "oidc-provider request failed: {m}"),
            Self::Manifest(m) => write!(f, "tests/oidc manifest: {m}"),
        }
    }
}

impl std::error::Error for OidcError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

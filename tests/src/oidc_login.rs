//! A real OpenID Provider for the sign-in tests (authorization code with PKCE), and a small
//! cookie-keeping HTTP "browser" that goes through its development login and consent pages.
//!
//! - [`LoginProvider::start`] runs `tests/oidc/login_provider.mjs` (npm `oidc-provider`, the
//!   version pinned in `tests/oidc/package.json`) on 127.0.0.1 with the redirect URIs the
//!   relying party will use; [`LoginProvider::token_requests`] counts what reached its token
//!   endpoint, so a test can assert that a refused callback never got there.
//! - [`Browser`] follows no redirect by itself and keeps cookies by name and path (every
//!   server here is on 127.0.0.1, and browsers do not separate cookies by port), so the same
//!   browser can go through a relying party (the demo server) and the provider.
//! - [`sign_in_at_provider`] and [`abort_at_provider`] start at an authorization URL (or at a
//!   relying party's begin route), answer the provider's pages, and stop at the first redirect
//!   to the callback, returning its URL without requesting it.
//!
//! Nothing here panics; without Node.js or `npm ci` in `tests/oidc`, starting the provider
//! returns an [`OidcError`] saying how to install it.

use std::fmt;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::oidc::{KeyFile, OidcError, ensure_installed, oidc_dir};

/// The public client (PKCE only, `token_endpoint_auth_method: none`).
pub const PUBLIC_CLIENT: &str = "login-public";
/// The confidential client (`client_secret_basic`).
pub const CONFIDENTIAL_CLIENT: &str = "login-confidential";
/// Its secret.
pub const CONFIDENTIAL_SECRET: &str = "login-secret";

const START_TIMEOUT: Duration = Duration::from_secs(30);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// The most redirects and pages one sign-in goes through.
const MAX_STEPS: usize = 20;

/// A running `login_provider.mjs`, killed when dropped.
pub struct LoginProvider {
    child: Child,
    // Held open: the script exits when its stdin closes (so it dies with the test process).
    _stdin: Option<ChildStdin>,
    issuer: String,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl fmt::Debug for LoginProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginProvider")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct Ready {
    issuer: String,
    port: u16,
}

impl LoginProvider {
    /// Starts the provider on a free port of 127.0.0.1, signing with the key in `key_file`
    /// (generated there if missing), with both clients allowed `redirect_uris`; waits (bounded,
    /// by reading its `READY` line) until it listens.
    ///
    /// # Errors
    ///
    /// [`OidcError::NotInstalled`], [`OidcError::Spawn`], or [`OidcError::Start`] when the
    /// script exits or is not ready within 30 s.
    pub fn start(key_file: &KeyFile, redirect_uris: &[&str]) -> Result<Self, OidcError> {
        ensure_installed()?;
        let dir = oidc_dir();
        let mut command = Command::new("node");
        command
            .arg(dir.join("login_provider.mjs"))
            .arg("--key-file")
            .arg(key_file.path())
            .arg("--port")
            .arg("0");
        for uri in redirect_uris {
            command.arg("--redirect-uri").arg(uri);
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
                // Keep draining after READY: oidc-provider logs notices to stdout later, and a
                // closed pipe would kill it (EPIPE).
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    let _ = tx.send(line);
                }
            });
        }
        let mut this = Self {
            child,
            _stdin: stdin,
            issuer: String::new(),
            port: 0,
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

    /// What the provider wrote to stderr so far (for failure messages).
    #[must_use]
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// How many requests its token endpoint has received since it started.
    ///
    /// # Errors
    ///
    /// [`OidcError::Http`] when the counter cannot be read.
    pub async fn token_requests(&self) -> Result<usize, OidcError> {
        let url = format!("{}/test/token-count", self.issuer);
        let page = Browser::new()?.get(&url).await?;
        let json: serde_json::Value = serde_json::from_str(&page.body)
            .map_err(|e| OidcError::Http(format!("token-count {}: {e}", page.status)))?;
        json.get("count")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| OidcError::Http(format!("token-count: {}", page.body)))
    }
}

impl Drop for LoginProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer, as the browser saw it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Page {
    /// The URL requested.
    pub url: String,
    /// The status code.
    pub status: u16,
    /// The `Location` header resolved against [`url`](Self::url), for redirects.
    pub location: Option<String>,
    /// Every `Set-Cookie` header value.
    pub set_cookies: Vec<String>,
    /// The body as text.
    pub body: String,
}

impl Page {
    /// Whether this is a redirect with a `Location`.
    #[must_use]
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status) && self.location.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct StoredCookie {
    name: String,
    path: String,
    value: String,
}

/// A cookie-keeping HTTP client that follows nothing by itself.
#[derive(Debug)]
pub struct Browser {
    client: reqwest::Client,
    jar: Mutex<Vec<StoredCookie>>,
}

/// `scheme://host[:port]` of an absolute URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url
        .get(after_scheme..)
        .and_then(|rest| rest.find('/'))
        .map_or(url.len(), |i| after_scheme + i);
    url.get(..end).unwrap_or(url)
}

/// The path of an absolute URL (without query).
fn path_of(url: &str) -> &str {
    let o = origin(url).len();
    let rest = url.get(o..).unwrap_or("");
    let path = rest.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() { "/" } else { path }
}

/// `reference` resolved against `base` (absolute, or path-absolute).
fn resolve(base: &str, reference: &str) -> String {
    if reference.contains("://") {
        reference.to_owned()
    } else {
        format!("{}{reference}", origin(base))
    }
}

/// `value` form-urlencoded.
fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

impl Browser {
    /// A browser with an empty cookie jar.
    ///
    /// # Errors
    ///
    /// [`OidcError::Http`] when the HTTP client cannot be built.
    pub fn new() -> Result<Self, OidcError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| OidcError::Http(format!("http client: {e}")))?;
        Ok(Self {
            client,
            jar: Mutex::new(Vec::new()),
        })
    }

    /// The `Cookie` header this browser sends to `url`, if any (every cookie whose path is a
    /// prefix of the URL's path).
    #[must_use]
    pub fn cookie_header(&self, url: &str) -> Option<String> {
        let path = path_of(url);
        let jar = self.jar.lock().ok()?;
        let pairs: Vec<String> = jar
            .iter()
            .filter(|c| {
                path == c.path
                    || path.starts_with(&format!("{}/", c.path.trim_end_matches('/')))
                    || c.path == "/"
            })
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// The value of cookie `name` (any path), if held.
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<String> {
        let jar = self.jar.lock().ok()?;
        jar.iter().find(|c| c.name == name).map(|c| c.value.clone())
    }

    /// The names of every cookie held.
    #[must_use]
    pub fn cookie_names(&self) -> Vec<String> {
        self.jar
            .lock()
            .map(|j| j.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    }

    /// Stores what a `Set-Cookie` header (received from `url`) says: a new value, or a removal
    /// (`Max-Age=0`, an `Expires` in the past, or an empty value).
    pub fn store(&self, url: &str, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
            return;
        };
        let mut path = path_of(url)
            .rsplit_once('/')
            .map_or("/", |(p, _)| p)
            .to_owned();
        if path.is_empty() {
            path = "/".to_owned();
        }
        let mut removal = value.is_empty();
        for attr in parts {
            let (k, v) = attr.trim().split_once('=').unwrap_or((attr.trim(), ""));
            if k.eq_ignore_ascii_case("path") && v.starts_with('/') {
                v.clone_into(&mut path);
            } else {
                let expired_now = k.eq_ignore_ascii_case("max-age")
                    && v.trim().parse::<i64>().is_ok_and(|n| n <= 0);
                let expired_before = k.eq_ignore_ascii_case("expires") && v.contains("1970");
                removal |= expired_now || expired_before;
            }
        }
        if let Ok(mut jar) = self.jar.lock() {
            jar.retain(|c| !(c.name == name && c.path == path));
            if !removal {
                jar.push(StoredCookie {
                    name: name.to_owned(),
                    path,
                    value: value.to_owned(),
                });
            }
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder, url: &str) -> Result<Page, OidcError> {
        let mut request = request;
        if let Some(cookies) = self.cookie_header(url) {
            request = request.header("cookie", cookies);
        }
        let response = request
            .send()
            .await
            .map_err(|e| OidcError::Http(format!("{url}: {e:?}")))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| resolve(url, l));
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        for c in &set_cookies {
            self.store(url, c);
        }
        let body = response
            .text()
            .await
            .map_err(|e| OidcError::Http(format!("{url}: body: {e}")))?;
        Ok(Page {
            url: url.to_owned(),
            status,
            location,
            set_cookies,
            body,
        })
    }

    /// `GET url` with the cookies for it.
    ///
    /// # Errors
    ///
    /// [`OidcError::Http`] when the request fails.
    pub async fn get(&self, url: &str) -> Result<Page, OidcError> {
        self.send(self.client.get(url), url).await
    }

    /// `POST url` with a form body.
    ///
    /// # Errors
    ///
    /// [`OidcError::Http`] when the request fails.
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Result<Page, OidcError> {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect();
        let request = self
            .client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
        self.send(request, url).await
    }
}

/// What to do on the provider's login page.
#[derive(Clone, Copy, Debug)]
enum AtLogin<'a> {
    SignIn(&'a str),
    Abort,
}

/// The `action` of the form whose hidden `prompt` is `prompt`, if the page has one.
fn form_action(body: &str, prompt: &str) -> Option<String> {
    let marker = format!("name=\"prompt\" value=\"{prompt}\"");
    let at = body.find(&marker)?;
    let form_start = body.get(..at)?.rfind("<form")?;
    let form = body.get(form_start..at)?;
    let action = form.split("action=\"").nth(1)?.split('"').next()?;
    Some(action.replace("&amp;", "&"))
}

/// The abort link of a login page.
fn abort_link(body: &str) -> Option<String> {
    let at = body.find("/abort\"")?;
    let start = body.get(..at)?.rfind("href=\"")? + "href=\"".len();
    Some(format!("{}/abort", body.get(start..at)?))
}

async fn drive(
    browser: &Browser,
    start: &str,
    at_login: AtLogin<'_>,
    stop_at: &str,
) -> Result<String, OidcError> {
    let mut page = browser.get(start).await?;
    for _ in 0..MAX_STEPS {
        if let Some(next) = page.location.clone().filter(|_| page.is_redirect()) {
            if next.starts_with(stop_at) {
                return Ok(next);
            }
            page = browser.get(&next).await?;
            continue;
        }
        if page.status != 200 {
            return Err(OidcError::Http(format!(
                "{} answered {}: {}",
                page.url, page.status, page.body
            )));
        }
        let here = page.url.clone();
        if let Some(action) = form_action(&page.body, "login") {
            page = match at_login {
                AtLogin::SignIn(login) => {
                    let fields = [("prompt", "login"), ("login", login), ("password", "any")];
                    browser.post_form(&resolve(&here, &action), &fields).await?
                }
                AtLogin::Abort => {
                    let link = abort_link(&page.body)
                        .ok_or_else(|| OidcError::Http("login page has no abort link".into()))?;
                    browser.get(&resolve(&here, &link)).await?
                }
            };
        } else if let Some(action) = form_action(&page.body, "consent") {
            page = browser
                .post_form(&resolve(&here, &action), &[("prompt", "consent")])
                .await?;
        } else {
            return Err(OidcError::Http(format!(
                "{here}: neither a redirect nor a login or consent page"
            )));
        }
    }
    Err(OidcError::Http(format!(
        "no redirect to {stop_at} within {MAX_STEPS} steps"
    )))
}

/// Goes from `start` (an authorization URL, or a relying party's begin route that redirects to
/// one) through the provider's login page (as `login`, any password) and consent page, and
/// returns the URL of the first redirect that starts with `stop_at` (the callback, not
/// requested). A second sign-in in the same browser skips the login page (the provider's
/// session cookie), and consent once given is not asked again.
///
/// # Errors
///
/// [`OidcError::Http`] when a request fails or a page is not what the provider's development
/// pages look like.
pub async fn sign_in_at_provider(
    browser: &Browser,
    start: &str,
    login: &str,
    stop_at: &str,
) -> Result<String, OidcError> {
    drive(browser, start, AtLogin::SignIn(login), stop_at).await
}

/// As [`sign_in_at_provider`], but cancels on the login page, so the provider redirects back
/// with `error=access_denied`.
///
/// # Errors
///
/// As [`sign_in_at_provider`].
pub async fn abort_at_provider(
    browser: &Browser,
    start: &str,
    stop_at: &str,
) -> Result<String, OidcError> {
    drive(browser, start, AtLogin::Abort, stop_at).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_and_resolved() {
        assert_eq!(origin("http://127.0.0.1:9/a/b?c"), "http://127.0.0.1:9");
        assert_eq!(path_of("http://127.0.0.1:9/a/b?c"), "/a/b");
        assert_eq!(path_of("http://127.0.0.1:9"), "/");
        assert_eq!(resolve("http://h:1/x/y", "/z?q"), "http://h:1/z?q");
        assert_eq!(resolve("http://h:1/x", "http://o:2/p"), "http://o:2/p");
    }

    #[test]
    fn cookies_are_kept_by_name_and_path_and_removed() {
        let b = Browser::new().unwrap();
        b.store("http://h/auth/x", "a=1; path=/interaction/u1; httponly");
        b.store("http://h/auth/x", "a=2; path=/interaction/u2");
        b.store("http://h/auth/x", "s=3; Path=/");
        assert_eq!(
            b.cookie_header("http://h/interaction/u1").as_deref(),
            Some("a=1; s=3")
        );
        assert_eq!(
            b.cookie_header("http://h/interaction/u2/abort").as_deref(),
            Some("a=2; s=3")
        );
        assert_eq!(b.cookie_header("http://h/other").as_deref(), Some("s=3"));
        b.store("http://h/", "s=; Path=/; Max-Age=0");
        assert_eq!(b.cookie_header("http://h/other"), None);
    }

    #[test]
    fn the_providers_forms_are_found() {
        let page = r#"<form autocomplete="off" action="http://127.0.0.1:5/interaction/abc" method="post">
  <input type="hidden" name="prompt" value="login"/></form>
  <a href="http://127.0.0.1:5/interaction/abc/abort">[ Cancel ]</a>"#;
        assert_eq!(
            form_action(page, "login").as_deref(),
            Some("http://127.0.0.1:5/interaction/abc")
        );
        assert_eq!(form_action(page, "consent"), None);
        assert_eq!(
            abort_link(page).as_deref(),
            Some("http://127.0.0.1:5/interaction/abc/abort")
        );
    }
}

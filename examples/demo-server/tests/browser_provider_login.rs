//! "Sign in with a provider" in a real browser (issue 14): the demo on a loopback listener with
//! one login provider, a real OpenID Provider (npm `oidc-provider`, `tests/oidc/login_provider.mjs`)
//! and headless Chromium (Debian's `/usr/bin/chromium`) driven by npm `playwright-core` through
//! `tests/browser/provider_login.mjs`: the page's "Sign in with acme" link, the provider's
//! development login and consent pages, back to the demo's page with a cookie session.
//!
//! The companion of `browser_session.rs` (the password session in Chromium), in a file of its
//! own because it also runs the provider. Needs `bash tests/interop/install.sh` (chromium,
//! `npm ci` in `tests/browser` and `tests/oidc`); without them it fails and says so.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

use auth_core::clock::SystemClock;
use demo_server::config::Config;
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";
const FIX: &str = "run `bash tests/interop/install.sh` from the workspace root (as root: it \
                   apt-get installs Debian's chromium and runs `npm ci` in tests/browser and \
                   tests/oidc)";

fn workspace_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(sub)
}

fn require_installed() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "no Chromium at {CHROMIUM}: {FIX}"
    );
    for (dir, package) in [
        ("tests/browser", "playwright-core"),
        ("tests/oidc", "oidc-provider"),
    ] {
        assert!(
            workspace_dir(dir)
                .join(format!("node_modules/{package}/package.json"))
                .exists(),
            "npm {package} is not installed in {dir}: {FIX}"
        );
    }
}

/// `tests/oidc/login_provider.mjs` on a free port, killed when dropped.
struct Provider {
    child: Child,
    _stdin: Option<ChildStdin>,
    issuer: String,
    key_file: PathBuf,
}

impl Provider {
    fn start(redirect_uri: &str) -> Self {
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).unwrap();
        let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let key_file = std::env::temp_dir().join(format!("demo-browser-login-{hex}.jwk"));
        let mut child = Command::new("node")
            .arg("login_provider.mjs")
            .arg("--key-file")
            .arg(&key_file)
            .arg("--port")
            .arg("0")
            .arg("--redirect-uri")
            .arg(redirect_uri)
            .current_dir(workspace_dir("tests/oidc"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("`node` did not start ({e}): {FIX}"));
        // The script exits when its stdin closes: held open until drop.
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut issuer = None;
        for _ in 0..50 {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if let Some(json) = line.trim().strip_prefix("READY ") {
                let ready: Value = serde_json::from_str(json).unwrap();
                issuer = Some(ready["issuer"].as_str().unwrap().to_owned());
                break;
            }
        }
        let issuer = issuer.unwrap_or_else(|| panic!("login_provider.mjs never said READY"));
        // Keep draining: a closed pipe would kill it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self {
            child,
            _stdin: stdin,
            issuer,
            key_file,
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.key_file);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_sign_in_from_the_page_works_in_chromium() {
    require_installed();
    // The demo's port first: it is in the redirect URI the provider must know.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let origin = format!("http://{addr}");
    let provider = Provider::start(&format!("{origin}/auth/login/acme/callback"));
    let vars = [
        ("AUTH_DEMO_ADDR", addr.to_string()),
        (
            "AUTH_JWT_SECRET",
            "browser provider test secret, 32+ bytes".to_owned(),
        ),
        ("AUTH_LOGIN_PROVIDERS", "acme".to_owned()),
        ("AUTH_LOGIN_ACME_ISSUER", provider.issuer.clone()),
        ("AUTH_LOGIN_ACME_CLIENT_ID", "login-public".to_owned()),
    ];
    let config =
        Config::from_env(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
    let (demo, _) =
        demo_server::Demo::from_config_with_clock(&config, Arc::new(SystemClock)).unwrap();
    let app = demo_server::app_with(demo).unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let demo_origin = origin.clone();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("provider_login.mjs")
            .arg(&demo_origin)
            .arg("acme")
            .arg("chromium-user")
            .current_dir(workspace_dir("tests/browser"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    server.abort();
    drop(provider);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "provider_login.mjs failed: {stderr}");
    let out: Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("provider_login.mjs printed no JSON ({e}): {stderr}"));
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
    assert!(out.get("error").is_none(), "{out}");

    assert_eq!(out["linkText"], "Sign in with acme");
    assert!(
        out["providerLoginPage"]
            .as_str()
            .unwrap()
            .contains("/interaction/"),
        "{out}"
    );
    assert_eq!(out["landedOn"], format!("{origin}/"));
    // The session of POST /auth/session/login, and no login transaction left behind.
    let cookies = out["cookies"].as_object().unwrap();
    assert_eq!(
        cookies["access_token"],
        serde_json::json!({"httpOnly": true, "secure": true, "sameSite": "Lax", "path": "/"})
    );
    assert!(cookies.contains_key("refresh_token") && cookies.contains_key("csrf_token"));
    assert!(
        !cookies.keys().any(|k| k.contains("auth_login_")),
        "{cookies:?}"
    );
    assert_eq!(out["whoami"]["status"], "200", "{out}");
    let me: Value = serde_json::from_str(out["whoami"]["body"].as_str().unwrap()).unwrap();
    assert!(me["sub"].as_str().unwrap().starts_with("usr_"), "{me}");
    assert_eq!(me["amr"], serde_json::json!(["ext"]));
    assert_eq!(me["identities"][0]["sub"], "chromium-user", "{me}");
    assert_eq!(me["identities"][0]["iss"], provider_issuer(&out));
}

/// The issuer, as the page the browser signed in on shows it (`http://127.0.0.1:<port>`).
fn provider_issuer(out: &Value) -> String {
    let page = out["providerLoginPage"].as_str().unwrap();
    let after = page.find("://").unwrap() + 3;
    let end = page[after..].find('/').map_or(page.len(), |i| after + i);
    page[..end].to_owned()
}

//! The cookie session in a real browser: the demo binary on a free loopback port, a page on a
//! second loopback origin that attacks it, and headless Chromium (Debian's `/usr/bin/chromium`)
//! driven by npm `playwright-core` through `tests/browser/session.mjs`. It ends with two-factor
//! authentication: enrolment on the page (the secret read from the page, the TOTP codes computed
//! by the script from RFC 6238), logout, and a login with password + code.
//!
//! Needs `bash tests/interop/install.sh` (it installs `chromium` with apt-get and runs `npm ci`
//! in `tests/browser`); without them this test fails and says so, it never passes silently.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use axum::response::Html;
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";
const PASSWORD: &str = "browser test password";

fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

/// Fails with instructions when something the test needs is not installed.
fn require_installed() {
    let fix = "run `bash tests/interop/install.sh` from the workspace root (as root: it \
               apt-get installs Debian's chromium and runs `npm ci` in tests/browser)";
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium is not installed at {CHROMIUM}: {fix}"
    );
    assert!(
        harness_dir()
            .join("node_modules/playwright-core/package.json")
            .exists(),
        "npm playwright-core is not installed in tests/browser: {fix}"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "`node` is not on PATH: install Node.js (Debian package `nodejs`), then {fix}"
    );
}

/// The demo binary, killed when dropped.
struct Demo {
    child: Child,
    origin: String,
}

impl Demo {
    fn start() -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_demo-server"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AUTH_")) {
            cmd.env_remove(k);
        }
        let mut child = cmd
            // In memory whatever the environment says: this test owns its state.
            .env_remove("REDIS_URL")
            .env_remove("DATABASE_URL")
            .env("AUTH_DEMO_ADDR", "127.0.0.1:0")
            .env("AUTH_DEMO_PASSWORD", PASSWORD)
            .env(
                "AUTH_JWT_SECRET",
                "browser test secret, at least 32 bytes long",
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // Keep reading what the demo prints, so its later lines never hit a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let origin = first
            .trim()
            .strip_prefix("demo-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the demo: {first:?}"))
            .to_owned();
        Self { child, origin }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_session_works_in_chromium_and_resists_another_origin() {
    require_installed();
    let demo = Demo::start();

    // The other origin: same host, another port, serving the attacker page.
    let attacker_page = std::fs::read_to_string(harness_dir().join("attacker.html"))
        .unwrap()
        .replace("DEMO_ORIGIN", &demo.origin);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let attacker = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || {
                let page = attacker_page.clone();
                async move { Html(page) }
            }),
        );
        axum::serve(listener, app).await.unwrap();
    });

    let (origin, other) = (demo.origin.clone(), attacker.clone());
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("session.mjs")
            .arg(&origin)
            .arg(&other)
            .arg("demo@example.com")
            .arg(PASSWORD)
            .current_dir(harness_dir())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    server.abort();
    drop(demo);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "session.mjs failed: {stderr}");
    let out: Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("session.mjs printed no JSON ({e}): {stderr}"));
    println!("{}", serde_json::to_string_pretty(&out).unwrap());

    // Logging in sets the cookies; Chromium keeps `Secure` cookies from http://127.0.0.1.
    assert_eq!(out["login"]["status"], "200", "{out}");
    let cookies = &out["cookiesAfterLogin"];
    assert_eq!(
        cookies["access_token"],
        serde_json::json!({"httpOnly": true, "secure": true, "sameSite": "Lax", "path": "/"})
    );
    assert_eq!(
        cookies["refresh_token"],
        serde_json::json!({"httpOnly": true, "secure": true, "sameSite": "Strict",
            "path": "/auth/session"})
    );
    assert_eq!(
        cookies["csrf_token"],
        serde_json::json!({"httpOnly": false, "secure": true, "sameSite": "Lax", "path": "/"})
    );

    // Page script cannot read the HttpOnly cookies, only the CSRF token.
    let visible = out["pageScriptSees"].as_str().unwrap();
    assert!(visible.contains("csrf_token="), "{visible}");
    assert!(
        !visible.contains("access_token") && !visible.contains("refresh_token"),
        "{visible}"
    );

    // The session authenticates; the protected POST needs the CSRF header.
    assert_eq!(out["whoami"]["status"], "200");
    assert!(
        out["whoami"]["body"]
            .as_str()
            .unwrap()
            .contains("demo-user")
    );
    assert_eq!(out["protectedPost"]["status"], "201", "{out}");
    assert_eq!(out["protectedPostWithoutCsrf"]["status"], "403");
    assert!(
        out["protectedPostWithoutCsrf"]["body"]
            .as_str()
            .unwrap()
            .contains("CSRF_REJECTED")
    );

    // The other origin cannot make an authenticated unsafe request.
    let attack = &out["attackerScript"];
    assert!(
        attack["preflightedFetch"]
            .as_str()
            .unwrap()
            .starts_with("blocked"),
        "{attack}"
    );
    let seen = attack["seenCookies"].as_str().unwrap();
    assert!(!seen.contains("access_token"), "{seen}");
    let simple: Vec<&Value> = out["attackerRequestsSeenByTheBrowser"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST")
        .collect();
    assert!(
        !simple.is_empty(),
        "the browser sent the simple POSTs: {out}"
    );
    for r in simple {
        assert_eq!(r["status"], 403, "{r}");
    }
    assert_eq!(out["attackerForm"]["status"], 403);
    assert!(
        out["attackerForm"]["body"]
            .as_str()
            .unwrap()
            .contains("CSRF_REJECTED")
    );
    // ...and the session survived every attempt to log it out everywhere.
    assert_eq!(out["whoamiAfterAttack"]["status"], "200", "{out}");

    // Refresh through the path-scoped cookie.
    assert_eq!(out["refresh"]["status"], "200", "{out}");
    assert_eq!(out["whoamiAfterRefresh"]["status"], "200");
    // Issue 12, item 4: with the access cookie gone, logout still ends the session: Chromium
    // sends the refresh cookie (scoped to /auth/session) to the logout route, which revokes
    // its family; the cookies are cleared.
    assert_eq!(out["logout"]["status"], "204", "{out}");
    let sent: Vec<&str> = out["logoutSentCookies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        sent.contains(&"refresh_token") && sent.contains(&"csrf_token"),
        "{sent:?}"
    );
    assert!(!sent.contains(&"access_token"), "{sent:?}");
    assert_eq!(out["cookiesAfterLogout"], serde_json::json!({}), "{out}");
    assert_eq!(out["whoamiAfterLogout"]["status"], "401");
    assert_eq!(out["refreshAfterLogout"]["status"], "401", "{out}");
    assert!(
        out["refreshAfterLogout"]["body"]
            .as_str()
            .unwrap()
            .contains("INVALID_REFRESH_TOKEN"),
        "{out}"
    );

    // Issue 15: enrolment on the page (QR code as a picture, the secret as text), confirmation
    // with the app's code, the recovery codes; after logout, password + code log in.
    assert_eq!(out["mfaPasswordLogin"]["status"], "200", "{out}");
    assert_eq!(out["mfaEnroll"]["status"], "200", "{out}");
    let secret = out["mfaSecret"].as_str().unwrap();
    assert!(
        secret.len() == 32
            && secret
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
        "a base32 secret of 20 bytes: {secret:?}"
    );
    assert_eq!(
        out["mfaQr"],
        serde_json::json!({"complete": true, "naturalWidth": out["mfaQr"]["naturalWidth"],
            "visible": true, "src": "data:image/svg+xml"}),
        "{out}"
    );
    assert!(
        out["mfaQr"]["naturalWidth"].as_u64().unwrap() > 0,
        "the QR code rendered (the page's CSP allows data: images): {out}"
    );
    assert_eq!(out["mfaConfirm"]["status"], "200", "{out}");
    assert_eq!(out["mfaRecoveryCodes"], 10, "{out}");
    assert_eq!(
        out["mfaSecretAfterConfirm"], "",
        "the secret leaves the page"
    );
    assert_eq!(out["mfaLogout"]["status"], "204", "{out}");

    assert_eq!(out["mfaLoginStep1"]["status"], "401", "{out}");
    assert!(
        out["mfaLoginStep1"]["body"]
            .as_str()
            .unwrap()
            .contains("MFA_REQUIRED"),
        "{out}"
    );
    assert_eq!(out["mfaFormVisible"], true, "{out}");
    assert!(
        out["cookiesAfterStep1"].get("access_token").is_none(),
        "no session before the second factor: {out}"
    );
    assert_eq!(out["mfaVerify"]["status"], "200", "{out}");
    assert_eq!(out["mfaFormVisibleAfterVerify"], false, "{out}");
    assert!(
        out["cookiesAfterMfa"].get("access_token").is_some(),
        "{out}"
    );
    assert_eq!(out["whoamiAfterMfa"]["status"], "200", "{out}");
    let me: Value = serde_json::from_str(out["whoamiAfterMfa"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(me["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{me}");
    assert_eq!(me["mfa"], serde_json::json!({"totp": true}), "{me}");
}

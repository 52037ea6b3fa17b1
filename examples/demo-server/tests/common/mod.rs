//! Shared helpers of the demo's integration tests: a demo on a `ManualClock`, built from
//! environment variables as the binary builds it, and requests that carry a peer address (the
//! login routes' brute-force layer needs one).

// Each test binary uses a different part of this module.
#![allow(dead_code, missing_debug_implementations)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use auth_core::clock::{ManualClock, UnixTime};
use axum::body::Body;
use axum::extract::ConnectInfo;
use base64::Engine as _;
use demo_server::Demo;
use demo_server::config::Config;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

pub(crate) const SECRET: &str = "demo flow tests secret, at least 32 bytes";
pub(crate) const T0: u64 = 1_900_000_000;

/// A demo and its router on a manual clock.
pub(crate) struct Env {
    pub(crate) app: axum::Router,
    pub(crate) demo: Demo,
    pub(crate) clock: ManualClock,
    next_ip: Arc<AtomicU32>,
}

/// A demo configured by `vars` (plus `AUTH_JWT_SECRET` unless a key is configured, and a
/// 10-second `AUTH_PASSWORD_MAX_WAIT_MS` unless set).
pub(crate) fn env(vars: &[(&str, &str)]) -> Env {
    let mut vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let keyed = vars.iter().any(|(k, _)| {
        matches!(
            k.as_str(),
            "AUTH_JWT_SECRET" | "AUTH_JWT_PRIVATE_KEY_FILE" | "AUTH_JWT_PUBLIC_KEY_FILE"
        )
    });
    if !keyed {
        vars.push(("AUTH_JWT_SECRET".into(), SECRET.into()));
    }
    // Tests that hash concurrently are not about the wait for a hashing slot (the default,
    // 200 ms, could run out on a loaded machine); tests about it set their own.
    if !vars.iter().any(|(k, _)| k == "AUTH_PASSWORD_MAX_WAIT_MS") {
        vars.push(("AUTH_PASSWORD_MAX_WAIT_MS".into(), "10000".into()));
    }
    let config =
        Config::from_env(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).unwrap();
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let (demo, _) = Demo::from_config_with_clock(&config, Arc::new(clock.clone())).unwrap();
    with_demo(demo, clock)
}

/// The router around an already built demo.
pub(crate) fn with_demo(demo: Demo, clock: ManualClock) -> Env {
    Env {
        app: demo_server::app_with(demo.clone()).unwrap(),
        demo,
        clock,
        next_ip: Arc::new(AtomicU32::new(1)),
    }
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub(crate) fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field} in {}", self.body))
            .to_owned()
    }

    /// Every `Set-Cookie` value.
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The `Set-Cookie` value of cookie `name`.
    pub(crate) fn set_cookie(&self, name: &str) -> String {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no Set-Cookie for {name}: {:?}", self.set_cookies()))
    }

    /// The value a `Set-Cookie` gives cookie `name`.
    pub(crate) fn cookie_value(&self, name: &str) -> String {
        let set = self.set_cookie(name);
        let first = set.split(';').next().unwrap();
        first.split_once('=').unwrap().1.to_owned()
    }
}

/// How a request authenticates.
pub(crate) enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// A `Cookie` header, and `X-CSRF-Token` when given.
    Cookies(&'a str, Option<&'a str>),
    /// An `X-API-Key` header.
    ApiKey(&'a str),
}

impl Env {
    /// Sends `req` from a fresh client address (so brute-force limits never interfere unless a
    /// test wants them to).
    pub(crate) async fn send(&self, req: http::Request<Body>) -> Reply {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        let addr = SocketAddr::from(([10, (n >> 16) as u8, (n >> 8) as u8, n as u8], 40000));
        self.send_from(addr, req).await
    }

    /// Sends `req` from the client address `addr`.
    pub(crate) async fn send_from(&self, addr: SocketAddr, mut req: http::Request<Body>) -> Reply {
        req.extensions_mut().insert(ConnectInfo(addr));
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub(crate) async fn call(
        &self,
        method: &str,
        uri: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = http::Request::builder().method(method).uri(uri);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header("authorization", format!("Bearer {t}")),
            Auth::Cookies(c, csrf) => {
                req = req.header("cookie", c);
                if let Some(t) = csrf {
                    req = req.header("x-csrf-token", t);
                }
            }
            Auth::ApiKey(k) => req = req.header("x-api-key", k),
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    pub(crate) async fn register(&self, email: &str, password: &str) -> Reply {
        self.call(
            "POST",
            "/auth/register",
            Auth::None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub(crate) async fn login(&self, email: &str, password: &str) -> Reply {
        self.call(
            "POST",
            "/auth/login",
            Auth::None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// Registers and logs in; returns the login reply (asserted 200).
    pub(crate) async fn user(&self, email: &str) -> Reply {
        let r = self.register(email, "a good password").await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = self.login(email, "a good password").await;
        assert_eq!(r.status, 200, "{}", r.body);
        r
    }

    pub(crate) async fn refresh(&self, token: &str) -> Reply {
        self.call(
            "POST",
            "/auth/refresh",
            Auth::None,
            Some(json!({"refresh_token": token})),
        )
        .await
    }

    pub(crate) async fn me(&self, token: &str) -> Reply {
        self.call("GET", "/api/me", Auth::Bearer(token), None).await
    }
}

/// The decoded header and claims of a JWT.
pub(crate) fn jwt_parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let decode = |s: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    let header = decode(it.next().unwrap());
    let claims = decode(it.next().unwrap());
    (header, claims)
}

/// A temporary file that is removed on drop.
pub(crate) struct TempFile(pub(crate) std::path::PathBuf);

impl TempFile {
    pub(crate) fn new(name: &str, contents: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "demo-server-test-{}-{name}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    pub(crate) fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn rand_suffix() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// PEM armour.
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A fresh Ed25519 key pair: (PKCS#8 private key PEM, SPKI public key PEM).
pub(crate) fn ed25519_pems() -> (String, String) {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    let pair = Ed25519KeyPair::generate().unwrap();
    let pkcs8 = pair.to_pkcs8().unwrap();
    // SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed prefix, then the 32-byte key.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(pair.public_key().as_ref());
    (pem("PRIVATE KEY", pkcs8.as_ref()), pem("PUBLIC KEY", &spki))
}

/// The demo binary started on a free loopback port, killed when dropped. Its environment is
/// cleared of `AUTH_*` and `REDIS_URL` (the test owns its state) before `vars` are set.
pub(crate) struct DemoProcess {
    pub(crate) child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) origin: String,
    /// Everything the demo printed on stdout after its first line, up to the end of its
    /// start-up text (the "Browser session" line).
    pub(crate) startup: Vec<String>,
}

impl DemoProcess {
    pub(crate) fn start(vars: &[(&str, &str)]) -> Self {
        use std::io::BufRead as _;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_demo-server"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AUTH_")) {
            cmd.env_remove(k);
        }
        cmd.env_remove("REDIS_URL")
            .env_remove("DATABASE_URL")
            .env("AUTH_DEMO_ADDR", "127.0.0.1:0")
            .env("AUTH_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let origin = first
            .trim()
            .strip_prefix("demo-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the demo: {first:?}"))
            .to_owned();
        let mut startup = Vec::new();
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let last = line.starts_with("Browser session");
            startup.push(line.trim_end().to_owned());
            if last {
                break;
            }
        }
        // Keep reading what the demo prints, so its later lines never hit a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self {
            child,
            origin,
            startup,
        }
    }

    /// The process id (to read `/proc/<pid>/status`).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The TOTP code of `secret` (base32, as the enrolment shows it) at the demo's clock.
pub(crate) fn totp_code(demo: &Demo, secret: &str) -> String {
    use auth_core::clock::Clock as _;
    let secret = auth_core::mfa::TotpSecret::from_base32(secret).unwrap();
    let p = demo.mfa.totp_params();
    p.format(p.code_at(secret.as_bytes(), p.step_at(demo.clock.now())))
}

/// A TOTP account: its email, password, secret and recovery codes.
pub(crate) struct TotpUser {
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) secret: String,
    pub(crate) recovery_codes: Vec<String>,
}

impl Env {
    /// Registers `email`, logs in, enrols and confirms TOTP; then moves the clock one TOTP step
    /// on, so the confirmation code is behind.
    pub(crate) async fn totp_user(&self, email: &str) -> TotpUser {
        let login = self.user(email).await;
        let access = login.str("access_token");
        let enrol = self
            .call("POST", "/auth/mfa/totp/enroll", Auth::Bearer(&access), None)
            .await;
        assert_eq!(enrol.status, 200, "{}", enrol.body);
        let secret = enrol.str("secret");
        let code = totp_code(&self.demo, &secret);
        let confirm = self
            .call(
                "POST",
                "/auth/mfa/totp/confirm",
                Auth::Bearer(&access),
                Some(json!({ "code": code })),
            )
            .await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        let recovery_codes = confirm.body["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        self.next_step();
        TotpUser {
            email: email.to_owned(),
            password: "a good password".to_owned(),
            secret,
            recovery_codes,
        }
    }

    /// Moves the clock to the next TOTP step (30 s).
    pub(crate) fn next_step(&self) {
        self.clock.advance(std::time::Duration::from_secs(30));
    }

    /// `POST /auth/mfa/verify` with `body`.
    pub(crate) async fn mfa_verify(&self, body: Value) -> Reply {
        self.call("POST", "/auth/mfa/verify", Auth::None, Some(body))
            .await
    }

    /// Logs `user` in with password and the current TOTP code; returns the token pair reply.
    pub(crate) async fn login_with_totp(&self, user: &TotpUser) -> Reply {
        let first = self.login(&user.email, &user.password).await;
        assert_eq!(first.status, 401, "{}", first.body);
        assert_eq!(first.code(), "MFA_REQUIRED");
        let code = totp_code(&self.demo, &user.secret);
        let done = self
            .mfa_verify(json!({"mfa_token": first.str("mfa_token"), "code": code}))
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        done
    }
}

//! `GET /` and `GET /app.js`: a minimal page for the cookie session.
//!
//! A login form (`POST /auth/session/login`) with its second step when the account has TOTP
//! (`POST /auth/mfa/verify` with a code or a recovery code), a "who am I" button (`GET /api/me`
//! with the access cookie), a protected `POST` (`POST /api/keys`, creating an API key) sent
//! with the `X-CSRF-Token` header and once without it (to see the 403), refresh and logout;
//! and two-factor set-up: enrolment with the QR code shown as a picture and the secret as text,
//! confirmation, the recovery codes (shown once), new recovery codes and turning TOTP off (both
//! need a second factor entered in the last five minutes). The script is served from `/app.js`
//! so the page's `Content-Security-Policy` can forbid inline script; images are allowed only
//! as `data:` URLs (the QR code, an SVG document from the server).
//!
//! With login providers (`AUTH_LOGIN_PROVIDERS`), the page also has a "Sign in with `<name>`"
//! link per provider (`GET /auth/login/<name>`, a top-level navigation, which the CSP does not
//! restrict) and a "Link `<name>` to this account" link (`?link=true`). When a provider sign-in
//! needs the second factor, the page finds the `mfa_token` in the `mfa_login` cookie, removes
//! the cookie and shows the second step.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::Demo;

/// The page's `Content-Security-Policy`: scripts and requests only to this origin, no
/// framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>auth demo: browser session</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
  fieldset { margin-bottom: 1rem; }
  label { display: block; margin: .25rem 0; }
  button { margin: .25rem .25rem .25rem 0; }
  pre { background: #f4f4f4; padding: .75rem; white-space: pre-wrap; word-break: break-all; }
</style>
</head>
<body>
<h1>auth demo: browser session</h1>
<p>The access and refresh tokens travel in <code>HttpOnly</code> cookies this page cannot read;
unsafe requests echo the readable <code>csrf_token</code> cookie in <code>X-CSRF-Token</code>.</p>
<form id="login">
  <fieldset>
    <legend>Log in</legend>
    <label>Email <input id="email" name="email" type="email" autocomplete="username" value="demo@example.com" required></label>
    <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
    <button id="login-button" type="submit">Log in</button>
  </fieldset>
</form>
<form id="mfa-login" hidden>
  <fieldset>
    <legend>Second step: the code from your authenticator app</legend>
    <label>Code <input id="mfa-code" name="code" autocomplete="one-time-code" required></label>
    <label><input id="mfa-use-recovery" type="checkbox"> This is one of my recovery codes</label>
    <button id="mfa-verify-button" type="submit">Verify</button>
  </fieldset>
</form>
<!-- providers -->
<fieldset>
  <legend>Session</legend>
  <button id="whoami" type="button">Who am I? (GET /api/me)</button>
  <button id="protected-post" type="button">Protected POST with CSRF header (POST /api/keys)</button>
  <button id="protected-post-no-csrf" type="button">Same POST without the header</button>
  <button id="refresh" type="button">Refresh the session</button>
  <button id="logout" type="button">Log out</button>
</fieldset>
<fieldset>
  <legend>Two-factor authentication (TOTP)</legend>
  <button id="mfa-enroll" type="button">Set up an authenticator app</button>
  <div id="mfa-enrolment" hidden>
    <p>Scan the QR code with your authenticator app (or type in the secret), then enter the code
    it shows.</p>
    <img id="mfa-qr" alt="QR code of the authenticator set-up URI" width="220" height="220">
    <p>Secret: <code id="mfa-secret"></code></p>
    <form id="mfa-confirm">
      <label>Code <input id="mfa-confirm-code" name="code" autocomplete="one-time-code" required></label>
      <button id="mfa-confirm-button" type="submit">Confirm</button>
    </form>
  </div>
  <div id="mfa-recovery" hidden>
    <p>Recovery codes, shown once: keep them safe; each one logs in once without the app.</p>
    <ul id="mfa-recovery-codes"></ul>
  </div>
  <button id="mfa-regenerate" type="button">New recovery codes</button>
  <button id="mfa-disable" type="button">Turn off</button>
</fieldset>
<p>Last answer: <strong id="status">none yet</strong></p>
<pre id="output"></pre>
<script src="/app.js"></script>
</body>
</html>
"#;

const SCRIPT: &str = r#"'use strict';
// The readable CSRF cookie; the session cookies are HttpOnly and never visible here.
function csrfToken() {
  const entry = document.cookie.split('; ').find((c) => c.startsWith('csrf_token='));
  return entry ? entry.slice('csrf_token='.length) : '';
}

// Shows an answer and hands its status and JSON body to `then`; `data-answers` on <body>
// counts the answers (tests wait on it), after `then` has updated the page.
async function show(promise, then) {
  const status = document.getElementById('status');
  const output = document.getElementById('output');
  try {
    const res = await promise;
    const text = await res.text();
    status.textContent = String(res.status);
    output.textContent = text;
    if (then) {
      let body = null;
      try { body = JSON.parse(text); } catch (_) { /* not JSON */ }
      then(res.status, body);
    }
  } catch (e) {
    status.textContent = 'network error';
    output.textContent = String(e);
  }
  document.body.dataset.answers = String(Number(document.body.dataset.answers || 0) + 1);
}

const byId = (id) => document.getElementById(id);

// The pending two-step login's token, between the password and the code.
let mfaToken = '';

// A provider sign-in that needs the second factor hands its token over in a cookie: take it
// (and remove the cookie), then ask for the code.
(function providerSecondStep() {
  const entry = document.cookie.split('; ').find((c) => c.startsWith('mfa_login='));
  if (!entry) return;
  document.cookie = 'mfa_login=; Path=/; Max-Age=0; SameSite=Lax; Secure';
  mfaToken = entry.slice('mfa_login='.length);
  byId('mfa-login').hidden = false;
})();

// A password login for an account with TOTP answers 401 MFA_REQUIRED: ask for the code.
function loginAnswered(status, body) {
  if (status === 401 && body && body.error && body.error.code === 'MFA_REQUIRED') {
    mfaToken = body.mfa_token;
    byId('mfa-login').hidden = false;
    byId('mfa-code').focus();
  }
}

function showRecoveryCodes(status, body) {
  if (status !== 200 || !body || !Array.isArray(body.recovery_codes)) return;
  const list = byId('mfa-recovery-codes');
  list.replaceChildren(...body.recovery_codes.map((c) => {
    const li = document.createElement('li');
    li.textContent = c;
    return li;
  }));
  byId('mfa-recovery').hidden = false;
}

function post(path, body, withCsrf) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (withCsrf) headers['X-CSRF-Token'] = csrfToken();
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

document.getElementById('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const email = document.getElementById('email').value;
  const password = document.getElementById('password').value;
  show(post('/auth/session/login', { email, password }, false), loginAnswered);
});
byId('mfa-login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const code = byId('mfa-code').value.trim();
  const body = byId('mfa-use-recovery').checked
    ? { mfa_token: mfaToken, recovery_code: code }
    : { mfa_token: mfaToken, code };
  show(post('/auth/mfa/verify', body, false), (status, answer) => {
    if (status === 200 || (answer && answer.error && answer.error.code === 'INVALID_MFA_TOKEN')) {
      mfaToken = '';
      byId('mfa-login').hidden = true;
      byId('mfa-code').value = '';
    }
  });
});
byId('mfa-enroll').addEventListener('click', () =>
  show(post('/auth/mfa/totp/enroll', undefined, true), (status, body) => {
    if (status !== 200 || !body) return;
    // The QR code is an SVG document from the server, shown as an image (no script runs in it).
    byId('mfa-qr').src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(body.qr_svg);
    byId('mfa-secret').textContent = body.secret;
    byId('mfa-recovery').hidden = true;
    byId('mfa-enrolment').hidden = false;
  }));
byId('mfa-confirm').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const code = byId('mfa-confirm-code').value.trim();
  show(post('/auth/mfa/totp/confirm', { code }, true), (status, body) => {
    if (status !== 200) return;
    byId('mfa-enrolment').hidden = true;
    byId('mfa-secret').textContent = '';
    byId('mfa-qr').removeAttribute('src');
    showRecoveryCodes(status, body);
  });
});
byId('mfa-regenerate').addEventListener('click', () =>
  show(post('/auth/mfa/recovery-codes', undefined, true), showRecoveryCodes));
byId('mfa-disable').addEventListener('click', () =>
  show(post('/auth/mfa/totp/disable', undefined, true)));
document.getElementById('whoami').addEventListener('click', () =>
  show(fetch('/api/me', { credentials: 'same-origin' })));
document.getElementById('protected-post').addEventListener('click', () =>
  show(post('/api/keys', { name: 'from the browser', scopes: ['read:orders'], expires_in: 3600 }, true)));
document.getElementById('protected-post-no-csrf').addEventListener('click', () =>
  show(post('/api/keys', { name: 'without csrf', scopes: ['read:orders'], expires_in: 3600 }, false)));
document.getElementById('refresh').addEventListener('click', () =>
  show(post('/auth/session/refresh', undefined, true)));
document.getElementById('logout').addEventListener('click', () =>
  show(post('/auth/session/logout', undefined, true)));
"#;

fn hardened(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the page (without provider buttons).
pub async fn index() -> Response {
    hardened("text/html; charset=utf-8", page_with_providers(&[]))
}

/// The page with a "Sign in with `<name>`" and a "Link `<name>`" link per provider name.
#[must_use]
pub fn page_with_providers(names: &[&str]) -> String {
    let mut links = String::new();
    if !names.is_empty() {
        links.push_str("<fieldset>\n  <legend>Sign in with a provider</legend>\n");
        for name in names {
            let n = escape(name);
            links.push_str(&format!(
                "  <p><a id=\"provider-{n}\" href=\"/auth/login/{n}?return_to=/\">Sign in with {n}</a> \
                 &middot; <a id=\"link-{n}\" href=\"/auth/login/{n}?link=true&amp;return_to=/\">Link {n} \
                 to this account</a></p>\n"
            ));
        }
        links.push_str("</fieldset>");
    }
    INDEX.replace("<!-- providers -->", &links)
}

/// `GET /` for `demo`: the page with its configured providers' links.
pub fn index_route(demo: &Demo) -> auth_axum_extractors::openapi::Endpoint {
    let names: Vec<&str> = demo
        .provider_login
        .as_ref()
        .map(|l| l.provider_names().collect())
        .unwrap_or_default();
    let page = page_with_providers(&names);
    auth_axum_extractors::openapi::get(move || {
        let page = page.clone();
        std::future::ready(hardened("text/html; charset=utf-8", page))
    })
}

/// `s` safe in HTML text and attribute values (provider names are `[a-z0-9_-]` already).
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `GET /app.js`: the page's script.
pub async fn script() -> Response {
    hardened("text/javascript; charset=utf-8", SCRIPT)
}

//! `GET /` and `GET /app.js`: a minimal page for the cookie session.
//!
//! A login form (`POST /auth/session/login`), a "who am I" button (`GET /api/me` with the
//! access cookie), a protected `POST` (`POST /api/keys`, creating an API key) sent with the
//! `X-CSRF-Token` header and once without it (to see the 403), refresh and logout. The script
//! is served from `/app.js` so the page's `Content-Security-Policy` can forbid inline script.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page's `Content-Security-Policy`: scripts and requests only to this origin, no
/// framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

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
<fieldset>
  <legend>Session</legend>
  <button id="whoami" type="button">Who am I? (GET /api/me)</button>
  <button id="protected-post" type="button">Protected POST with CSRF header (POST /api/keys)</button>
  <button id="protected-post-no-csrf" type="button">Same POST without the header</button>
  <button id="refresh" type="button">Refresh the session</button>
  <button id="logout" type="button">Log out</button>
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

// Shows an answer; `data-answers` on <body> counts them (tests wait on it).
async function show(promise) {
  const status = document.getElementById('status');
  const output = document.getElementById('output');
  try {
    const res = await promise;
    const text = await res.text();
    status.textContent = String(res.status);
    output.textContent = text;
  } catch (e) {
    status.textContent = 'network error';
    output.textContent = String(e);
  }
  document.body.dataset.answers = String(Number(document.body.dataset.answers || 0) + 1);
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
  show(post('/auth/session/login', { email, password }, false));
});
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

fn hardened(content_type: &'static str, body: &'static str) -> Response {
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

/// `GET /`: the page.
pub async fn index() -> Response {
    hardened("text/html; charset=utf-8", INDEX)
}

/// `GET /app.js`: the page's script.
pub async fn script() -> Response {
    hardened("text/javascript; charset=utf-8", SCRIPT)
}

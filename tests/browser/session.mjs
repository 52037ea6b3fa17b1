// Drives the demo's cookie session in headless Chromium (Debian's /usr/bin/chromium) and
// prints what it saw as one JSON document; examples/demo-server/tests/browser_session.rs makes
// the assertions.
//
//   node session.mjs <demo origin> <attacker origin> <email> <password>
//
// Install: `bash tests/interop/install.sh` (apt-get install chromium; npm ci here). Never
// `npx playwright install`: the browser is Debian's.
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret at `unixSeconds`: what an
// authenticator app shows. Written here from the RFCs, so the test does not trust the server's
// own implementation.
function totp(base32, unixSeconds) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of base32.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error('not base32: ' + ch);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

const [demo, attacker, email, password] = process.argv.slice(2);
if (!demo || !attacker || !email || !password) {
  console.error('usage: node session.mjs <demo origin> <attacker origin> <email> <password>');
  process.exit(2);
}
// Never hang a test run.
setTimeout(() => {
  console.error('browser session script timed out after 120 s');
  process.exit(3);
}, 120_000).unref();

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  timeout: 60_000,
});

const out = { browser: browser.version() };
try {
  const context = await browser.newContext();
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();

  // Clicks a button of the demo page and waits for the page to show the answer.
  const press = async (selector) => {
    const before = await page.evaluate(() => Number(document.body.dataset.answers || 0));
    await page.click(selector);
    await page.waitForFunction(
      (n) => Number(document.body.dataset.answers || 0) > n,
      before,
    );
    return {
      status: await page.textContent('#status'),
      body: await page.textContent('#output'),
    };
  };
  const cookies = async () => {
    const all = await context.cookies();
    return Object.fromEntries(
      all.map((c) => [
        c.name,
        { httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite, path: c.path },
      ]),
    );
  };

  await page.goto(demo + '/');
  await page.fill('#email', email);
  await page.fill('#password', password);
  out.login = await press('#login-button');
  out.cookiesAfterLogin = await cookies();
  out.pageScriptSees = await page.evaluate(() => document.cookie);
  out.whoami = await press('#whoami');
  out.protectedPost = await press('#protected-post');
  out.protectedPostWithoutCsrf = await press('#protected-post-no-csrf');

  // Another origin (same host, another port) tries to use the session.
  const evil = await context.newPage();
  const seen = [];
  evil.on('response', (r) => {
    if (r.url().startsWith(demo)) seen.push({ method: r.request().method(), url: r.url(), status: r.status() });
  });
  await evil.goto(attacker + '/');
  out.attackerScript = await evil.evaluate(() => window.attack);
  const [formAnswer] = await Promise.all([
    evil.waitForNavigation(),
    evil.click('#attack-form-submit'),
  ]);
  out.attackerForm = { status: formAnswer.status(), body: await formAnswer.text() };
  out.attackerRequestsSeenByTheBrowser = seen;
  await evil.close();

  out.whoamiAfterAttack = await press('#whoami');
  out.refresh = await press('#refresh');
  out.whoamiAfterRefresh = await press('#whoami');

  // The access cookie runs out long before the session (the browser drops it at its Max-Age;
  // here it is dropped by hand). Logout must still end the session, through the refresh
  // cookie, which the browser sends to the session routes.
  const sessionCookies = (await context.cookies()).filter(
    (c) => c.name === 'refresh_token' || c.name === 'csrf_token',
  );
  await context.clearCookies({ name: 'access_token' });
  const logoutRequests = [];
  page.on('request', (r) => {
    if (r.url() === demo + '/auth/session/logout') logoutRequests.push(r);
  });
  out.logout = await press('#logout');
  // Cookie names only, never their values.
  out.logoutSentCookies = [];
  for (const r of logoutRequests) {
    const sent = (await r.allHeaders()).cookie || '';
    out.logoutSentCookies.push(...sent.split('; ').filter(Boolean).map((c) => c.split('=')[0]));
  }
  out.cookiesAfterLogout = await cookies();
  out.whoamiAfterLogout = await press('#whoami');
  // The ended session's refresh token (and its CSRF token), put back into the browser, no
  // longer works.
  await context.addCookies(sessionCookies);
  out.refreshAfterLogout = await press('#refresh');

  // Issue 15: two-factor authentication. Log in, enrol (the secret read from the page, the QR
  // code shown as a picture), confirm with the code an authenticator app would show, log out,
  // and log in again with the password and a code.
  out.mfaPasswordLogin = await press('#login-button');
  out.mfaEnroll = await press('#mfa-enroll');
  out.mfaSecret = (await page.textContent('#mfa-secret')).trim();
  out.mfaQr = await page.$eval('#mfa-qr', (img) => ({
    complete: img.complete,
    naturalWidth: img.naturalWidth,
    visible: !img.closest('[hidden]'),
    src: img.src.slice(0, 'data:image/svg+xml'.length),
  }));
  await page.fill('#mfa-confirm-code', totp(out.mfaSecret, Date.now() / 1000));
  out.mfaConfirm = await press('#mfa-confirm-button');
  out.mfaRecoveryCodes = await page.$$eval('#mfa-recovery-codes li', (items) => items.length);
  out.mfaSecretAfterConfirm = (await page.textContent('#mfa-secret')).trim();
  out.mfaLogout = await press('#logout');
  out.mfaLoginStep1 = await press('#login-button');
  out.mfaFormVisible = await page.isVisible('#mfa-login');
  out.cookiesAfterStep1 = await cookies();
  // The confirmation used up the current step; an app's code for the next step (inside the
  // accepted window) logs in now, without waiting for the clock.
  await page.fill('#mfa-code', totp(out.mfaSecret, Date.now() / 1000 + 30));
  out.mfaVerify = await press('#mfa-verify-button');
  out.mfaFormVisibleAfterVerify = await page.isVisible('#mfa-login');
  out.cookiesAfterMfa = await cookies();
  out.whoamiAfterMfa = await press('#whoami');
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));

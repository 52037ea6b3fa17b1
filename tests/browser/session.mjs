// Drives the demo's cookie session in headless Chromium (Debian's /usr/bin/chromium) and
// prints what it saw as one JSON document; examples/demo-server/tests/browser_session.rs makes
// the assertions.
//
//   node session.mjs <demo origin> <attacker origin> <email> <password>
//
// Install: `bash tests/interop/install.sh` (apt-get install chromium; npm ci here). Never
// `npx playwright install`: the browser is Debian's.
import { chromium } from 'playwright-core';

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
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));

// Drives one "Sign in with <provider>" in headless Chromium (Debian's /usr/bin/chromium): the
// demo's page, its provider link, the provider's development login and consent pages (npm
// oidc-provider, tests/oidc/login_provider.mjs), back to the demo with a cookie session. Prints
// what it saw as one JSON document; examples/demo-server/tests/browser_provider_login.rs makes
// the assertions.
//
//   node provider_login.mjs <demo origin> <provider name> <login at the provider>
//
// Install: `bash tests/interop/install.sh`. Never `npx playwright install`.
import { chromium } from 'playwright-core';

const [demo, provider, login] = process.argv.slice(2);
if (!demo || !provider || !login) {
  console.error('usage: node provider_login.mjs <demo origin> <provider name> <login>');
  process.exit(2);
}
setTimeout(() => {
  console.error('provider login script timed out after 120 s');
  process.exit(3);
}, 120_000).unref();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
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

const out = {};
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  // Every URL the tab landed on, in order.
  out.visited = [];
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) out.visited.push(f.url());
  });

  await page.goto(`${demo}/`);
  const link = page.locator(`#provider-${provider}`);
  out.linkText = (await link.textContent()).trim();
  await Promise.all([page.waitForURL((u) => !u.href.startsWith(`${demo}/`)), link.click()]);
  out.providerLoginPage = page.url();

  // The provider's login page: any login name, any password.
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(`${demo}/`) || u.href.includes('/interaction/')),
    page.click('form:has(input[name="prompt"][value="login"]) button[type="submit"]'),
  ]);
  // The consent page (first sign-in of this user to this client), then back to the demo.
  const consent = page.locator('form:has(input[name="prompt"][value="consent"]) button[type="submit"]');
  await consent.waitFor({ timeout: 10_000 }).catch(() => {});
  if (await consent.count()) {
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${demo}/`)), consent.click()]);
  }
  await page.waitForURL(`${demo}/`);
  out.landedOn = page.url();

  const cookies = {};
  // Every cookie sent to the page or to the session routes (cookies are per host, not port:
  // the provider's show up too).
  for (const c of await context.cookies([`${demo}/`, `${demo}/auth/session/refresh`])) {
    cookies[c.name] = { httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite, path: c.path };
  }
  out.cookies = cookies;

  // "Who am I?" on the page, with the session the sign-in started.
  await page.click('#whoami');
  await page.waitForFunction(() => document.body.dataset.answers === '1');
  out.whoami = {
    status: await page.textContent('#status'),
    body: await page.textContent('#output'),
  };
} catch (e) {
  out.error = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));

// A real OpenID Provider (npm oidc-provider, pinned in package.json) on loopback for the
// sign-in tests (authorization code flow with PKCE): tests/tests/oidc_login.rs, and the demo
// server's login tests through tests/src/oidc_login.rs.
//
//   node login_provider.mjs --key-file PATH [--port N] --redirect-uri URI [--redirect-uri URI ...]
//
// - Listens on 127.0.0.1 only; port 0 (the default) picks a free one. The issuer is
//   http://127.0.0.1:<port>. When ready it prints exactly one line to stdout:
//     READY {"issuer":"http://127.0.0.1:<port>","port":<port>,"kid":"<signing kid>"}
// - The RS256 signing key is read from --key-file, or generated there (mode 0600) when the file
//   does not exist, as in provider.mjs.
// - Two authorization-code clients, both allowed every --redirect-uri and both required to use
//   PKCE with S256 (plain is refused):
//     `login-public`: a public client (token_endpoint_auth_method none);
//     `login-confidential` / `login-secret`: client_secret_basic.
// - The development login and consent pages (devInteractions) accept any login name with any
//   password; the account id (the ID token's `sub`) is the login name, its email
//   `<login>@example.test` (email_verified true) and its name the login name. ID tokens carry the
//   scope's claims (conformIdTokenClaims off, as most providers do). The login page's "abort"
//   (GET /interaction/<uid>/abort) answers the client with error=access_denied.
// - Every request to the token endpoint is counted: GET /test/token-count answers {"count":N}.
// Kept apart from provider.mjs (the client-credentials provider) so the two evolve separately.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

export const PUBLIC_CLIENT = 'login-public';
export const CONFIDENTIAL_CLIENT = 'login-confidential';
export const CONFIDENTIAL_SECRET = 'login-secret';

const { values: args } = parseArgs({
  options: {
    'key-file': { type: 'string' },
    port: { type: 'string', default: '0' },
    'redirect-uri': { type: 'string', multiple: true },
  },
});
if (!args['key-file'] || !args['redirect-uri']) {
  console.error('usage: node login_provider.mjs --key-file PATH [--port N] --redirect-uri URI ...');
  process.exit(2);
}

function signingKey(path) {
  if (existsSync(path)) {
    return JSON.parse(readFileSync(path, 'utf8'));
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `rsa-${randomBytes(6).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };
  writeFileSync(path, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

const key = signingKey(args['key-file']);

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const codeClient = (fields) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: args['redirect-uri'],
  ...fields,
});

const provider = new Provider(issuer, {
  clients: [
    codeClient({ client_id: PUBLIC_CLIENT, token_endpoint_auth_method: 'none' }),
    codeClient({
      client_id: CONFIDENTIAL_CLIENT,
      client_secret: CONFIDENTIAL_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  ],
  jwks: { keys: [key] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  conformIdTokenClaims: false,
  pkce: { methods: ['S256'], required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@example.test`, email_verified: true, name: id };
      },
    };
  },
});

let tokenRequests = 0;
const handle = provider.callback();
server.on('request', (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (path === '/test/token-count') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count: tokenRequests }));
    return;
  }
  if (path === '/token') {
    tokenRequests += 1;
  }
  handle(req, res);
});

const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The test harness holds our stdin; when it goes away (test process died), exit too.
process.stdin.on('end', shutdown);
process.stdin.resume();

console.log(`READY ${JSON.stringify({ issuer, port, kid: key.kid })}`);

// A real OpenID Provider (npm oidc-provider, pinned in package.json) on loopback, for the
// JWKS/OIDC tests in tests/tests/oidc_provider.rs.
//
//   node provider.mjs --key-file PATH [--port N] [--client-jwks PATH]
//
// - Listens on 127.0.0.1 only; port 0 (the default) picks a free one. The issuer is
//   http://127.0.0.1:<port>. When ready it prints exactly one line to stdout:
//     READY {"issuer":"http://127.0.0.1:<port>","port":<port>,"kid":"<signing kid>"}
// - The signing key (an RS256 private JWK with a kid) is read from --key-file; if that file does
//   not exist, a fresh RSA-2048 key is generated and written there (mode 0600). Restarting with
//   another file rotates the signing key; with the same file, keeps it.
// - Clients allowed the client_credentials grant: `test-client` / `test-secret`
//   (client_secret_basic); `basic-client` and `post-client`, whose secrets (BASIC_SECRET,
//   POST_SECRET) hold `+`, `:`, `%`, `&`, `=` and spaces (client_secret_basic and
//   client_secret_post; RFC 6749 appendix A allows only visible ASCII and space in secrets, and
//   oidc-provider enforces that); and, with --client-jwks (a file holding a public JWK Set), `jwt-client`
//   (private_key_jwt with those keys). With resource indicators, a token requested for the resource
//   `urn:auth-tests:api` is a JWT access token (RFC 9068, `typ: at+jwt`) with that audience
//   and the granted scopes (`read:orders`, `write:orders`).
// - With --opaque, the provider serves introspection (RFC 7662, `/token/introspection`) and
//   revocation (RFC 7009, `/token/revocation`), and tokens for the resource are opaque instead
//   of JWTs. Every introspection request is counted: GET /test/introspection-count answers
//   {"count":N}.
// - Every request to the JWKS endpoint is counted: GET /test/jwks-count answers {"count":N},
//   and each JWKS request is also logged to stderr as `JWKS_REQUEST <n>`.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

export const RESOURCE = 'urn:auth-tests:api';
export const SCOPES = 'read:orders write:orders';
export const BASIC_SECRET = 'b+a:s%i c/&=?~';
export const POST_SECRET = 'p+o:s%t &=';

const { values: args } = parseArgs({
  options: {
    'key-file': { type: 'string' },
    port: { type: 'string', default: '0' },
    'client-jwks': { type: 'string' },
    opaque: { type: 'boolean', default: false },
  },
});
if (!args['key-file']) {
  console.error('usage: node provider.mjs --key-file PATH [--port N]');
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

const clientCredentialsClient = (fields) => ({
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  ...fields,
});
const clients = [
  clientCredentialsClient({
    client_id: 'test-client',
    client_secret: 'test-secret',
    token_endpoint_auth_method: 'client_secret_basic',
  }),
  clientCredentialsClient({
    client_id: 'basic-client',
    client_secret: BASIC_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
  }),
  clientCredentialsClient({
    client_id: 'post-client',
    client_secret: POST_SECRET,
    token_endpoint_auth_method: 'client_secret_post',
  }),
];
if (args['client-jwks']) {
  clients.push(clientCredentialsClient({
    client_id: 'jwt-client',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: JSON.parse(readFileSync(args['client-jwks'], 'utf8')),
  }));
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [key] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  routes: { jwks: '/jwks' },
  scopes: ['read:orders', 'write:orders'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: args.opaque },
    revocation: { enabled: args.opaque },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope: SCOPES,
          audience: RESOURCE,
          accessTokenTTL: 600,
          accessTokenFormat: args.opaque ? 'opaque' : 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});

let jwksRequests = 0;
let introspectionRequests = 0;
const jwksPath = '/jwks';

const handle = provider.callback();
server.on('request', (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (path === '/test/jwks-count') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count: jwksRequests }));
    return;
  }
  if (path === '/test/introspection-count') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count: introspectionRequests }));
    return;
  }
  if (path === '/token/introspection') {
    introspectionRequests += 1;
  }
  if (path === jwksPath) {
    jwksRequests += 1;
    console.error(`JWKS_REQUEST ${jwksRequests}`);
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

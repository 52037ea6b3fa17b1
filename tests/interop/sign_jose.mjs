// Signs one fresh JWT per algorithm with npm `jose` and prints one JSON document on stdout:
//   {"signer":{"name":"jose","version":"..."},"tokens":[{"alg","kid","sub","jti","iat","token",
//    "secret_b64" (HMAC) | "public_pem" + "public_jwk" (asymmetric)}]}
// Keys are generated on every run and never written to disk.
// Run by tests/tests/interop_jose.rs; install with `npm ci --prefix tests/interop`.

import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';

const joseVersion = JSON.parse(
  readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8'),
).version;

const now = Math.floor(Date.now() / 1000);

// Signs the shared claim set with `key`, naming the key `kid` in the header.
async function sign(alg, kid, key) {
  const sub = `jose-${alg.toLowerCase()}-user`;
  const jti = randomUUID();
  const token = await new SignJWT({
    scope: 'read:orders write:orders',
    roles: ['user', 'admin'],
  })
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer('interop-issuer')
    .setAudience('interop-aud')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(jti)
    .sign(key);
  return { alg, kid, sub, jti, iat: now, token };
}

// Asymmetric: fresh key pair, public half exported both as SPKI PEM and as a JWK.
async function signAsymmetric(alg, options) {
  const kid = `jose-${alg.toLowerCase()}-${randomUUID()}`;
  const { publicKey, privateKey } = await generateKeyPair(alg, options);
  const entry = await sign(alg, kid, privateKey);
  entry.public_pem = await exportSPKI(publicKey);
  entry.public_jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return entry;
}

// HMAC: 32 random bytes, the minimum RFC 7518 allows for HS256.
const secret = randomBytes(32);
const hs256 = await sign('HS256', `jose-hs256-${randomUUID()}`, new Uint8Array(secret));
hs256.secret_b64 = secret.toString('base64');

const tokens = [
  hs256,
  await signAsymmetric('RS256', { modulusLength: 2048 }),
  await signAsymmetric('ES256'),
  await signAsymmetric('EdDSA', { crv: 'Ed25519' }),
];

process.stdout.write(
  `${JSON.stringify({ signer: { name: 'jose', version: joseVersion }, tokens })}\n`,
);

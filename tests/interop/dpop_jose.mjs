// Makes DPoP proofs (RFC 9449) with npm `jose`, in two steps over stdin/stdout (JSON lines):
//   1. prints {"version","keys":[{"alg","jkt"}]}: a fresh key pair per algorithm and jose's own
//      RFC 7638 thumbprint of each public key (the `cnf.jkt` a token bound to it carries);
//   2. reads {"htm","htu","tokens":[..]} (one access token per key, in order) and prints
//      {"proofs":[..]}: one proof per key for that request and token (`ath` included).
// Keys live in this process only. Run by tests/tests/interop_dpop_jose.rs; install with
// `npm ci --prefix tests/interop`.

import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

const version = JSON.parse(
  readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8'),
).version;

const specs = [
  ['ES256', {}],
  ['ES384', {}],
  ['EdDSA', { crv: 'Ed25519' }],
  ['RS256', { modulusLength: 2048 }],
  ['PS256', { modulusLength: 2048 }],
];

const keys = [];
for (const [alg, options] of specs) {
  const { publicKey, privateKey } = await generateKeyPair(alg, options);
  const jwk = await exportJWK(publicKey);
  keys.push({ alg, jwk, privateKey, jkt: await calculateJwkThumbprint(jwk, 'sha256') });
}
process.stdout.write(`${JSON.stringify({ version, keys: keys.map(({ alg, jkt }) => ({ alg, jkt })) })}\n`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const { htm, htu, tokens } = JSON.parse(line);
  const proofs = [];
  for (const [i, key] of keys.entries()) {
    // ath: base64url(SHA-256(ASCII(access token))), RFC 9449 section 4.2.
    const ath = createHash('sha256').update(tokens[i], 'ascii').digest('base64url');
    proofs.push(
      await new SignJWT({ htm, htu, ath })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk })
        .setJti(randomUUID())
        .setIssuedAt()
        .sign(key.privateKey),
    );
  }
  process.stdout.write(`${JSON.stringify({ proofs })}\n`);
  break;
}

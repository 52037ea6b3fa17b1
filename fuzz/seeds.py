#!/usr/bin/env python3
"""Writes the seed corpora (fuzz/seeds/<target>/) from the conformance vectors in
tests/vectors/ and a few hand-written documents. Run from the repository root:
`python3 fuzz/seeds.py`. The seeds are committed; the growing corpora (fuzz/corpus/) are not."""
import json, os, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
vec = root / "tests" / "vectors"
out = root / "fuzz" / "seeds"
PRIVATE = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

def write(target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())

def load(name):
    return json.loads((vec / name).read_text())

jws = []
jwks = []
for f, key in [("rfc7515_appendix_a.json", "vectors"), ("rfc7520_section4.json", "vectors"), ("rfc8037_appendix_a.json", "jws")]:
    for v in load(f)[key]:
        if "." in v["jws"] and not v["jws"].startswith("{"):
            jws.append((v["id"], v["jws"]))
        if v.get("jwk"):
            jwks.append((v["id"], v["jwk"]))
for k in load("rfc8037_appendix_a.json")["keys"]:
    if k.get("jwk"):
        jwks.append((k["id"], k["jwk"]))

# jwt_verify: mode byte, then the token / payload / header / (offset, byte).
for i, t in jws:
    write("jwt_verify", f"token-{i}", b"\x00" + t.encode())
claims = {"iss": "https://issuer.fuzz.invalid", "aud": "fuzz-api", "sub": "alice",
          "iat": 1799999990, "exp": 1800000600, "scope": "read write", "roles": ["admin"]}
write("jwt_verify", "payload-valid", b"\x01" + json.dumps(claims).encode())
write("jwt_verify", "payload-nbf", b"\x01" + json.dumps({**claims, "nbf": 1800000000}).encode())
write("jwt_verify", "header-kid-typ", b"\x02" + b'{"alg":"HS256","typ":"at+jwt","kid":"k1"}')
write("jwt_verify", "header-crit", b"\x02" + b'{"alg":"HS256","crit":["b64"],"b64":false}')
write("jwt_verify", "mutate", b"\x03\x00\x10A")

# jwk: single JWKs (public halves) and whole sets.
for i, k in jwks:
    public = {m: v for m, v in k.items() if m not in PRIVATE or k.get("kty") == "oct"}
    write("jwk", f"jwk-{i}", json.dumps(public))
for s in load("rfc7517_appendix_a.json")["sets"]:
    write("jwk", f"set-{s['id']}", json.dumps(s["jwks"]))
write("jwk", "set-all", json.dumps({"keys": [k for _, k in jwks]}))

# oidc_discovery: documents for https://idp.fuzz.invalid.
iss = "https://idp.fuzz.invalid"
doc = {"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
       "jwks_uri": iss + "/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
       "id_token_signing_alg_values_supported": ["RS256", "ES256"], "code_challenge_methods_supported": ["S256"],
       "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
       "authorization_response_iss_parameter_supported": True}
write("oidc_discovery", "full", json.dumps(doc))
write("oidc_discovery", "plain-http", json.dumps({**doc, "jwks_uri": "http://idp.fuzz.invalid/jwks"}))
write("oidc_discovery", "other-issuer", json.dumps({**doc, "issuer": "https://evil.invalid"}))
write("oidc_discovery", "no-s256", json.dumps({**doc, "code_challenge_methods_supported": ["plain"]}))

# api_key: a well-formed-looking key and mutation positions.
write("api_key", "shape", "fuzz_live_" + "A" * 43 + "000000")
write("api_key", "mutate", b"\x00\x0bZ")

# auth_headers: method byte, then header lines (`@` is replaced by a valid token).
write("auth_headers", "bearer", b"\x00authorization: Bearer @")
write("auth_headers", "cookie-post", b"\x01cookie: access_token=@; csrf_token=abc\nx-csrf-token: abc\norigin: https://app.fuzz.invalid")
write("auth_headers", "basic-and-cookie", b"\x02authorization: Basic dXNlcjpwYXNz\ncookie: access_token=@\norigin: https://evil.invalid")
write("auth_headers", "two-cookies", b"\x01cookie: csrf_token=a\ncookie: csrf_token=b\nx-csrf-token: a")

# forwarded: selector (bit 0: Forwarded; the rest: which peer), then header lines.
write("forwarded", "xff", b"\x00203.0.113.7, 10.0.0.1, 192.168.1.1")
write("forwarded", "xff-v6", b"\x062001:db8::7, fd00::2")
write("forwarded", "rfc7239", b'\x01for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"')
write("forwarded", "rfc7239-obfuscated", b'\x03for=_hidden, for="_SEVKISEK", for=unknown')

# redis_codecs: NUL-separated strings.
record = ["id", "k1", "hash", "ab" * 32, "name", 'ci: "nightly"', "owner", "alice@example.com",
          "scopes", '["read:orders"]', "roles", "[]", "created_at", "01700000000123456789",
          "expires_at", "01800000000000000000"]
write("redis_codecs", "api-key-record", "\0".join(record))
write("redis_codecs", "cutoff", "01700000000000000000 01700000600000000000")
write("redis_codecs", "identity", "\0".join(["https://idp.example", "user-1", "acme", "account-9", "01700000000000000000"]))
totp = ["id", "c1", "secret", "AAAA", "alg", "SHA1", "digits", "6", "period", "30",
        "created", "01700000000000000000", "state", "active", "step", "56666666"]
write("redis_codecs", "totp", "\0".join(totp))

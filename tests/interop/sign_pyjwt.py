"""Signs one fresh JWT per algorithm with PyPI `pyjwt` and prints one JSON document on stdout.

    {"signer": {"name": "pyjwt", "version": "..."}, "tokens": [{"alg", "kid", "sub", "jti",
     "iat", "token", "secret_b64" (HMAC) | "public_pem" (asymmetric)}]}

Keys are generated on every run and never written to disk.
Run by tests/tests/interop_pyjwt.rs; install with `pip install -r tests/interop/requirements.txt`.
"""

import base64
import json
import secrets
import sys
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

NOW = int(time.time())


def sign(alg, signing_key):
    """Signs the shared claim set with `signing_key` and returns the token's description."""
    kid = f"pyjwt-{alg.lower()}-{uuid.uuid4()}"
    sub = f"pyjwt-{alg.lower()}-user"
    jti = str(uuid.uuid4())
    claims = {
        "sub": sub,
        "iss": "interop-issuer",
        "aud": "interop-aud",
        "exp": NOW + 600,
        "iat": NOW,
        "jti": jti,
        "scope": "read:orders write:orders",
        "roles": ["user", "admin"],
    }
    token = jwt.encode(claims, signing_key, algorithm=alg, headers={"kid": kid})
    return {"alg": alg, "kid": kid, "sub": sub, "jti": jti, "iat": NOW, "token": token}


def sign_asymmetric(alg, private_key):
    """Signs with `private_key` and adds its public half as SPKI PEM."""
    entry = sign(alg, private_key)
    entry["public_pem"] = (
        private_key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode("ascii")
    )
    return entry


# HMAC: 32 random bytes, the minimum RFC 7518 allows for HS256.
secret = secrets.token_bytes(32)
hs256 = sign("HS256", secret)
hs256["secret_b64"] = base64.b64encode(secret).decode("ascii")

tokens = [
    hs256,
    sign_asymmetric("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    sign_asymmetric("ES256", ec.generate_private_key(ec.SECP256R1())),
    sign_asymmetric("EdDSA", ed25519.Ed25519PrivateKey.generate()),
]

json.dump({"signer": {"name": "pyjwt", "version": jwt.__version__}, "tokens": tokens}, sys.stdout)
sys.stdout.write("\n")

#!/usr/bin/env bash
# Installs the interop signers used by tests/tests/interop_{jose,pyjwt}.rs, the OpenID
# Provider used by tests/tests/oidc_provider.rs, and the browser used by
# examples/demo-server/tests/browser_session.rs. Idempotent: each part is skipped when what is
# installed already matches the pins.
#
#   bash tests/interop/install.sh        # from anywhere; CI calls it before `cargo test`
#
# - npm `jose`: `npm ci` (exactly package-lock.json) when node_modules is absent or older than
#   package.json / package-lock.json.
# - npm `oidc-provider` (tests/oidc): `npm ci` there, on the same rule.
# - PyPI `pyjwt[crypto]`: `python3 -m pip install -r requirements.txt` when `python3` cannot
#   import `jwt` and `cryptography`, or the installed pyjwt is not the pinned version.
# - Debian's `chromium` (/usr/bin/chromium): `apt-get update && apt-get install -y chromium`
#   when it is missing (needs root and apt-get; otherwise this script fails and says why).
#   The browser is never downloaded by Playwright.
# - npm `playwright-core` (tests/browser): `npm ci` there, on the same rule as above.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# npm writes node_modules/.package-lock.json on every install; if it is missing or older than
# the manifests, node_modules is absent or stale.
installed=node_modules/.package-lock.json
if [[ ! -f $installed || package.json -nt $installed || package-lock.json -nt $installed ]]; then
    echo "interop: npm ci (jose)"
    npm ci --no-audit --no-fund
else
    echo "interop: jose is up to date"
fi

# The OpenID Provider lives in its own package (tests/oidc) so its dependency tree stays apart
# from the signers'.
oidc_installed=../oidc/node_modules/.package-lock.json
if [[ ! -f $oidc_installed || ../oidc/package.json -nt $oidc_installed || ../oidc/package-lock.json -nt $oidc_installed ]]; then
    echo "interop: npm ci (oidc-provider)"
    (cd ../oidc && npm ci --no-audit --no-fund)
else
    echo "interop: oidc-provider is up to date"
fi

pyjwt_pin=$(sed -n 's/^pyjwt\[crypto\]==\([0-9.]*\).*$/\1/p' requirements.txt)
if [[ -z $pyjwt_pin ]]; then
    echo "interop: requirements.txt does not pin pyjwt[crypto]==<version>" >&2
    exit 1
fi
if python3 - "$pyjwt_pin" 2>/dev/null <<'EOF'
import sys
import cryptography  # noqa: F401  (the backend RS/ES/EdDSA need)
import jwt
sys.exit(0 if jwt.__version__ == sys.argv[1] else 1)
EOF
then
    echo "interop: pyjwt $pyjwt_pin is up to date"
else
    echo "interop: pip install -r requirements.txt (pyjwt $pyjwt_pin)"
    python3 -m pip install -q -r requirements.txt
fi

# The browser for the cookie-session test: Debian's chromium, driven by playwright-core.
chromium=/usr/bin/chromium
if [[ -x $chromium ]]; then
    echo "browser: chromium is installed ($chromium)"
else
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "browser: $chromium is missing and apt-get is not available; install Debian's" \
            "chromium package (or a Chromium at $chromium) by hand" >&2
        exit 1
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "browser: $chromium is missing; installing it needs root:" \
            "sudo apt-get update && sudo apt-get install -y chromium" >&2
        exit 1
    fi
    echo "browser: apt-get install chromium"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    if [[ ! -x $chromium ]]; then
        echo "browser: apt-get installed chromium but $chromium is still missing" >&2
        exit 1
    fi
fi

browser_installed=../browser/node_modules/.package-lock.json
if [[ ! -f $browser_installed || ../browser/package.json -nt $browser_installed || ../browser/package-lock.json -nt $browser_installed ]]; then
    echo "browser: npm ci (playwright-core)"
    (cd ../browser && npm ci --no-audit --no-fund)
else
    echo "browser: playwright-core is up to date"
fi

#!/usr/bin/env python3
"""Verifies a CloudDocs access token the way a third-party Python service would: PyJWT,
the public keys from the JWKS URL, EdDSA only, and the issuer, audience and registered
claims checked.

Usage: verify_with_jwks.py JWKS_URL TOKEN ISSUER AUDIENCE

Exit status 0 and the claims as JSON on stdout when the token verifies; 1 and the reason on
stderr when it does not; 2 on a usage error or when PyJWT is missing
(pip install -r tests/interop/requirements.txt).
"""

import json
import sys

REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    _, jwks_url, token, issuer, audience = argv
    try:
        import jwt
    except ImportError:
        print("PyJWT is not installed: pip install -r tests/interop/requirements.txt", file=sys.stderr)
        return 2

    try:
        signing_key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["EdDSA"],
            audience=audience,
            issuer=issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as err:
        print(f"rejected: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(claims, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

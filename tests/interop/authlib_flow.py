#!/usr/bin/env python3
"""A real third-party relying party: authlib runs the OpenID Connect code flow against
CloudDocs, the way a Python web app doing "Log in with CloudDocs" would.

Usage: authlib_flow.py BASE CLIENT_ID CLIENT_SECRET REDIRECT_URI EMAIL PASSWORD
(needs AUTHLIB_INSECURE_TRANSPORT=1 for the plain-HTTP loopback test server)

It discovers the provider, builds the authorization URL with PKCE S256, state and nonce,
plays the browser (sign-in form, consent form) with requests, exchanges the code with
client_secret_basic, validates the ID token the way authlib's own OpenIDMixin does
(joserfc signature check against the JWKS, then CodeIDToken: iss, aud, exp, iat, nonce,
at_hash), calls userinfo, and prints a JSON summary. Exit 1 on any failure.
"""

import json
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry


class HiddenInputs(HTMLParser):
    """Collects the hidden inputs of a page's form"""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")


def form_fields(html):
    parser = HiddenInputs()
    parser.feed(html)
    return parser.fields


def browse(base, session, url, email, password, redirect_uri):
    """Follows the provider's pages like a user would, until sent back to the client"""
    for _ in range(8):
        if url.startswith(redirect_uri):
            return url
        response = session.get(urljoin(base, url), allow_redirects=False)
        if response.status_code in (302, 303):
            url = response.headers["Location"]
            continue
        response.raise_for_status()
        fields = form_fields(response.text)
        if "/login" in response.url:
            fields.update(email=email, password=password)
            action = "/login"
        else:
            fields["decision"] = "allow"
            action = "/consent"
        posted = session.post(urljoin(base, action), data=fields, allow_redirects=False)
        if posted.status_code != 303:
            raise RuntimeError(f"POST {action} answered {posted.status_code}")
        url = posted.headers["Location"]
    raise RuntimeError("never sent back to the client")


def main():
    base, client_id, secret, redirect_uri, email, password = sys.argv[1:7]
    metadata = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == base, metadata["issuer"]

    client = OAuth2Session(
        client_id,
        secret,
        scope="openid profile email",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = generate_token(64)
    nonce = generate_token(24)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )

    callback = browse(base, requests.Session(), url, email, password, redirect_uri)
    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
    )

    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(
        token["id_token"],
        key=keys,
        registry=JWSRegistry(algorithms=metadata["id_token_signing_alg_values_supported"]),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"values": [metadata["issuer"]]}},
        {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=60)
    if "at_hash" not in claims:
        raise RuntimeError("the ID token has no at_hash")

    userinfo = client.get(metadata["userinfo_endpoint"]).json()
    if userinfo.get("sub") != claims["sub"]:
        raise RuntimeError("userinfo names another subject")
    print(
        json.dumps(
            {
                "nonce": nonce,
                "alg": decoded.header["alg"],
                "id_token": dict(claims),
                "userinfo": userinfo,
                "scope": token.get("scope"),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # noqa: BLE001 - any failure is a failed interop run
        print(f"authlib flow failed: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)

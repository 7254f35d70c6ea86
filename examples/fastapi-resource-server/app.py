"""A FastAPI course platform that uses CloudDocs as its identity provider and decision point.

It does what the FastAPI tutorials' `get_current_user` and `require_roles` do, with nothing
home-made:
- tokens verified with PyJWT's PyJWKClient against CloudDocs' JWKS, with `iss`, `aud` and
  the key's own algorithm pinned;
- scopes checked with FastAPI's SecurityScopes;
- revocation: every request asks CloudDocs' introspection endpoint (RFC 7662), so a token
  revoked at CloudDocs (logout, password change, admin disable) is refused at once rather
  than when it expires (15 minutes); one HTTP call per request is the price;
- object decisions asked of POST /authz/check in the app's own Cedar namespace (`Courses`),
  whose schema and policy live in `policies/` and are uploaded with PUT /admin/policies;
- `OAuth2AuthorizationCodeBearer` in `/docs`: "Authorize" signs in through CloudDocs with
  code + PKCE.

Configuration (environment): CLOUDDOCS_URL, CLIENT_ID and CLIENT_SECRET (a confidential
client allowed to introspect), and ENROLLED (comma-separated user ids enrolled in the demo
course `algebra`).
"""

import os
import time

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException, Security, status
from fastapi.security import OAuth2AuthorizationCodeBearer, SecurityScopes

CLOUDDOCS = os.environ.get("CLOUDDOCS_URL", "http://127.0.0.1:8080").rstrip("/")
AUDIENCE = "clouddocs"
CLIENT_ID = os.environ.get("CLIENT_ID", "")
CLIENT_SECRET = os.environ.get("CLIENT_SECRET", "")
COURSES = {"algebra": {"enrolled": [u for u in os.environ.get("ENROLLED", "").split(",") if u]}}

oauth2 = OAuth2AuthorizationCodeBearer(
    authorizationUrl=f"{CLOUDDOCS}/oauth/authorize",
    tokenUrl=f"{CLOUDDOCS}/oauth/token",
    scopes={"documents:read": "read course material", "profile": "your name"},
)
jwks = jwt.PyJWKClient(f"{CLOUDDOCS}/.well-known/jwks.json", cache_keys=True)
REFETCH_INTERVAL = 10.0  # seconds between JWKS fetches caused by unknown kids
_last_refetch = [0.0]


def signing_key(token: str) -> jwt.PyJWK:
    """The JWKS key the token's kid names. An unknown kid refetches the JWKS (key
    rotation), at most once per REFETCH_INTERVAL: made-up kids cost CloudDocs one fetch per
    interval, not one per request."""
    kid = jwt.get_unverified_header(token).get("kid")
    for key in jwks.get_signing_keys():
        if key.key_id == kid:
            return key
    now = time.monotonic()
    if now - _last_refetch[0] >= REFETCH_INTERVAL:
        _last_refetch[0] = now
        for key in jwks.get_signing_keys(refresh=True):
            if key.key_id == kid:
                return key
    raise jwt.PyJWKClientError(f"unknown signing key {kid!r}")
app = FastAPI(
    title="Courses",
    swagger_ui_init_oauth={"clientId": os.environ.get("PUBLIC_CLIENT_ID", ""), "usePkceWithAuthorizationCodeGrant": True},
)


def refused(code: int, detail: str, scopes: SecurityScopes | None = None) -> HTTPException:
    challenge = "Bearer"
    if scopes is not None and scopes.scopes:
        challenge = f'Bearer scope="{scopes.scope_str}"'
    return HTTPException(status_code=code, detail=detail, headers={"WWW-Authenticate": challenge})


async def current_user(security_scopes: SecurityScopes, token: str = Depends(oauth2)) -> dict:
    try:
        key = signing_key(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            audience=AUDIENCE,
            issuer=CLOUDDOCS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as err:
        raise refused(status.HTTP_401_UNAUTHORIZED, f"invalid token: {err}") from err
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.post(
            f"{CLOUDDOCS}/oauth/introspect", data={"token": token}, auth=(CLIENT_ID, CLIENT_SECRET)
        )
    if answer.status_code != 200 or not answer.json().get("active"):
        raise refused(status.HTTP_401_UNAUTHORIZED, "token is no longer active")
    granted = set(claims.get("scope", "").split())
    missing = [s for s in security_scopes.scopes if s not in granted]
    if missing:
        raise refused(status.HTTP_403_FORBIDDEN, f"missing scope {' '.join(missing)}", security_scopes)
    claims["token"] = token
    return claims


@app.get("/courses")
async def courses(user: dict = Security(current_user, scopes=["documents:read"])):
    return {"user": user["sub"], "courses": sorted(COURSES)}


@app.get("/courses/{course_id}/materials")
async def materials(course_id: str, user: dict = Security(current_user, scopes=["documents:read"])):
    course = COURSES.get(course_id)
    if course is None:
        raise HTTPException(status_code=404, detail="no such course")
    question = {
        "principal": {"type": "Courses::User", "id": user["sub"]},
        "action": {"type": "Courses::Action", "id": "view_materials"},
        "resource": {"type": "Courses::Course", "id": course_id},
        "entities": [
            {"uid": {"type": "Courses::User", "id": user["sub"]}, "attrs": {}, "parents": []},
            {
                "uid": {"type": "Courses::Course", "id": course_id},
                "attrs": {"enrolled": [{"__entity": {"type": "Courses::User", "id": u}} for u in course["enrolled"]]},
                "parents": [],
            },
        ],
    }
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.post(
            f"{CLOUDDOCS}/authz/check", json=question, headers={"Authorization": f"Bearer {user['token']}"}
        )
    if answer.status_code != 200:
        raise HTTPException(status_code=502, detail=f"decision point answered {answer.status_code}")
    decision = answer.json()
    if decision.get("decision") != "allow":
        raise HTTPException(status_code=403, detail={"error": "forbidden", "reasons": decision.get("reasons", [])})
    return {"course": course_id, "materials": ["week 1", "week 2"], "allowed_by": decision.get("policies", [])}

"""Tessera access-token validation for FastAPI, with PyJWT's PyJWKClient.

Rules (the same as tessera/verifier):
- keys come only from the JWKS of the issuer's own discovery document, cached by kid;
  an unknown kid refetches at most once per cooldown, and the last good key set keeps
  working while the JWKS endpoint is down;
- the issuer is chosen by the token's (unverified) ``iss`` among the configured ones only;
- algorithm allowlist (never ``none``, never HMAC); ``typ`` must be ``at+jwt``;
  ``crit`` and embedded keys (``jwk``, ``jku``, ``x5u``, ``x5c``) are refused;
- ``iss``, ``aud``, ``exp``, ``nbf`` with a small leeway, RFC 9068 claims required.
"""
from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
from typing import Any, Callable, Dict, Iterable, List, Optional

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt import PyJWK, PyJWKClient

ALGORITHMS = ("ES256", "RS256", "EdDSA")
LEEWAY_SECONDS = 5
KID_REFETCH_COOLDOWN_SECONDS = 30.0
HTTP_TIMEOUT_SECONDS = 5.0
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c", "crit")


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched and none are cached."""


class _TimeoutJWKClient(PyJWKClient):
    """PyJWKClient whose fetch has a timeout and never caches a failed answer."""

    def fetch_data(self) -> Any:
        try:
            with urllib.request.urlopen(self.uri, timeout=HTTP_TIMEOUT_SECONDS) as response:
                return json.load(response)
        except (OSError, ValueError) as err:
            raise jwt.PyJWKClientError(f"cannot fetch {self.uri}: {err}") from err


class IssuerKeys:
    """The signing keys of one issuer, discovered from its metadata."""

    def __init__(self, issuer: str, cooldown: float = KID_REFETCH_COOLDOWN_SECONDS) -> None:
        self.issuer = issuer
        self.cooldown = cooldown
        self._client: Optional[PyJWKClient] = None
        self._jwks: Dict[str, dict] = {}
        self._imported: Dict[tuple, PyJWK] = {}
        self._last_fetch = -math.inf
        self._lock = threading.Lock()

    def _jwk_client(self) -> PyJWKClient:
        if self._client is None:
            url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
                metadata = json.load(response)
            if metadata.get("issuer") != self.issuer or not isinstance(metadata.get("jwks_uri"), str):
                raise KeysUnavailable(f"metadata of {self.issuer} does not name it")
            self._client = _TimeoutJWKClient(metadata["jwks_uri"], cache_jwk_set=False)
        return self._client

    def _refresh(self) -> None:
        """Fetch the JWKS, at most once per cooldown; keep the old keys when it fails."""
        if time.monotonic() - self._last_fetch < self.cooldown:
            return
        self._last_fetch = time.monotonic()
        try:
            data = self._jwk_client().fetch_data()
        except (jwt.PyJWKClientError, KeysUnavailable, OSError, ValueError):
            self._client = None  # rediscover next time
            if not self._jwks:
                raise KeysUnavailable(self.issuer)
            return
        keys = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(keys, list):
            return
        self._jwks = {
            k["kid"]: k
            for k in keys
            if isinstance(k, dict) and isinstance(k.get("kid"), str) and k.get("kty") != "oct" and k.get("use", "sig") == "sig"
        }
        self._imported.clear()

    def key_for(self, kid: str, alg: str) -> PyJWK:
        """The key published under ``kid``, usable with ``alg``; raises LookupError otherwise."""
        cached = self._imported.get((kid, alg))
        if cached is not None:
            return cached
        with self._lock:
            if kid not in self._jwks:
                self._refresh()
            jwk_data = self._jwks.get(kid)
            if jwk_data is None:
                raise LookupError("unknown kid")
            if jwk_data.get("alg") not in (None, alg):
                raise LookupError("the key is not for this alg")
            try:
                key = PyJWK(jwk_data, algorithm=alg)
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as err:
                raise LookupError("the key cannot be used with this alg") from err
            self._imported[(kid, alg)] = key
            return key


def _challenge(error: Optional[str], description: str, scope: Optional[str] = None) -> Dict[str, str]:
    params = []
    if error:
        safe = description.replace('"', "'").replace("\\", "/")
        params += [f'error="{error}"', f'error_description="{safe}"']
        if scope:
            params.append(f'scope="{scope}"')
    return {"WWW-Authenticate": "Bearer " + ", ".join(params) if params else "Bearer"}


def invalid_token(description: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=description, headers=_challenge("invalid_token", description))


def insufficient_scope(description: str, scope: Optional[str] = None) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=description, headers=_challenge("insufficient_scope", description, scope))


class TesseraAuth:
    """Validates Tessera access tokens for the configured issuers and audience."""

    def __init__(self, issuers: Iterable[str], audience: str) -> None:
        self.keys = {issuer: IssuerKeys(issuer) for issuer in issuers}
        self.audience = audience
        if not self.keys or not audience:
            raise ValueError("issuers and audience are required")

    def verify(self, token: str) -> Dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise invalid_token("the token is malformed")
        if any(name in header for name in FORBIDDEN_HEADERS):
            raise invalid_token("embedded keys and crit headers are refused")
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise invalid_token('not an access token ("typ" must be "at+jwt")')
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise invalid_token('the "alg" is not allowed')
        issuer = unverified.get("iss")
        keys = self.keys.get(issuer) if isinstance(issuer, str) else None
        if keys is None:
            raise invalid_token("the token is not from an accepted issuer")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise invalid_token('the token has no "kid"')
        try:
            key = keys.key_for(kid, alg)
        except LookupError as err:
            raise invalid_token(str(err))
        except KeysUnavailable:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="the issuer's keys are unavailable")
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise invalid_token("the token has expired")
        except jwt.PyJWTError as err:
            raise invalid_token(f"the token is invalid ({type(err).__name__})")


bearer = HTTPBearer(auto_error=False)


def get_current_user_dependency(auth: TesseraAuth) -> Callable[..., Dict[str, Any]]:
    """Builds ``get_current_user``: the verified claims of the request's bearer token."""

    def get_current_user(credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> Dict[str, Any]:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        return auth.verify(credentials.credentials)

    return get_current_user


def scopes_of(user: Dict[str, Any]) -> List[str]:
    scope = user.get("scope")
    return scope.split() if isinstance(scope, str) else []


def roles_of(user: Dict[str, Any]) -> List[str]:
    roles = user.get("roles")
    return [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []

"""Authenticating the EHR on every call: a JWT it signed with its private key.

Source: CDS Hooks 2.0.1 "Trusting CDS Clients" and "JWT Signing Algorithm";
cds-hooks/docs best-practices.md (service-side checklist). The checks, in order:

1. ``Authorization: Bearer <JWT>``, at most 8 KB.
2. Header: ``alg`` one of RS/ES/PS 256/384/512 (never ``none``, never HMAC), ``typ`` JWT,
   ``kid`` present, no ``crit`` extensions.
3. ``iss`` is a configured client; ``jku``, when given, is on that client's allowlist.
4. The key: by ``kid`` from the inline JWKS or the allowlisted JWK Set (fetched, cached,
   refetched at most once a minute for an unknown kid); it must suit ``alg`` (RSA for
   RS/PS, EC on the matching curve for ES) and a key's own ``alg`` must equal it.
5. Signature, then claims: ``iss``, ``aud``, ``exp``, ``iat``, ``jti`` required; ``aud`` is
   exactly the configured URL of the endpoint called (a string or a one-element array);
   ``exp`` not passed, ``iat``/``nbf`` not in the future (60 s leeway for clock skew);
   lifetime ``exp - iat`` at most one hour; ``tenant`` allowlisted when configured.
6. ``jti`` never seen before from this issuer (a unique row, kept until ``exp``):
   `remember`, which the views call exactly once per accepted token, as the first write
   of the call's one write transaction when it has one (so that a call pays for one
   transaction, not two), else on its own. A replay is refused (401) whatever the call
   did meanwhile; nothing it computed is sent.

Any failure is `Refused`, which the views turn into a bare 401. The reason is logged
with the issuer and jti only: never the token.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import jwt
import orjson
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from limbguard.cdshooks import conf
from limbguard.cdshooks.models import UsedToken
from limbguard.registry import rows

logger = logging.getLogger(__name__)

MAX_TOKEN_BYTES: Final = 8192
LEEWAY_SECONDS: Final = 60
# best-practices.md: keep jti "for at least the maximum token lifetime", at most an hour.
MAX_LIFETIME_SECONDS: Final = 3600
JWKS_TTL_SECONDS: Final = 600
JWKS_REFETCH_SECONDS: Final = 60
JWKS_TIMEOUT_SECONDS: Final = 1.0
_EC_CURVES: Final = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_REQUIRED_CLAIMS: Final = ["iss", "aud", "exp", "iat", "jti"]


class Refused(Exception):
    """Authentication failed. The message is for the log, never for the client."""


@dataclass
class Token:
    """A verified token's replay key, to be recorded once (`remember`)."""

    key: str  # sha256(iss NUL jti)
    expires_at: datetime
    recorded: bool = False  # set by the view once the write holding the key committed


@dataclass(frozen=True)
class Caller:
    """An authenticated call: which client, and the token's id and tenant."""

    client: conf.Client
    jti: str
    tenant: str | None
    token: Token


# --- JWK Sets fetched from allowlisted jku URLs --------------------------------------


@dataclass
class _FetchedSet:
    keys: dict[str, conf.PublicKey]
    fetched_at: float


_jwks_lock = threading.Lock()
_jwks_cache: dict[str, _FetchedSet] = {}
# Tests swap in an httpx.MockTransport; production uses the default transport.
jwks_transport: httpx.BaseTransport | None = None


def _fetch_jwks(url: str) -> dict[str, conf.PublicKey]:
    with httpx.Client(
        transport=jwks_transport, timeout=JWKS_TIMEOUT_SECONDS, follow_redirects=False
    ) as client:
        response = client.get(url, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise Refused(f"jku {url} answered {response.status_code}")
    data = response.json()
    keys: dict[str, conf.PublicKey] = {}
    for key in data.get("keys", []) if isinstance(data, dict) else []:
        try:
            keys[key["kid"]] = conf.check_public_jwk(key)
        except (ValueError, KeyError, TypeError):
            continue  # one unusable key does not spoil the others
    return keys


def _jku_key(url: str, kid: str) -> conf.PublicKey:
    now = time.monotonic()
    with _jwks_lock:
        cached = _jwks_cache.get(url)
    fresh = cached is not None and now - cached.fetched_at < JWKS_TTL_SECONDS
    if cached is not None and fresh and kid in cached.keys:
        return cached.keys[kid]
    # Unknown kid or stale set: refetch, but not more than once a minute per URL.
    if cached is None or not fresh or now - cached.fetched_at >= JWKS_REFETCH_SECONDS:
        try:
            keys = _fetch_jwks(url)
        except (httpx.HTTPError, ValueError) as error:
            raise Refused(f"jku {url} unreachable: {type(error).__name__}") from None
        cached = _FetchedSet(keys=keys, fetched_at=now)
        with _jwks_lock:
            _jwks_cache[url] = cached
    if kid not in cached.keys:
        raise Refused("unknown kid")
    return cached.keys[kid]


def forget_fetched_keys() -> None:
    with _jwks_lock:
        _jwks_cache.clear()


# --- the checks ----------------------------------------------------------------------


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Refused("no bearer token")
    if len(token) > MAX_TOKEN_BYTES:
        raise Refused("token too long")
    return token


def _key_for(client: conf.Client, header: dict[str, Any]) -> conf.PublicKey:
    kid = header["kid"]
    jku = header.get("jku")
    if jku is not None:
        if not isinstance(jku, str) or jku.rstrip("/") not in client.config.jku:
            raise Refused("jku not on the allowlist")
        return _jku_key(jku.rstrip("/"), kid)
    if kid in client.keys:
        return client.keys[kid]
    if len(client.config.jku) == 1:
        # No jku in the header: the JWK Set was agreed out of band (2.0.1).
        return _jku_key(client.config.jku[0], kid)
    raise Refused("unknown kid")


def _check_key_suits(key: conf.PublicKey, alg: str) -> None:
    declared = key.data.get("alg")
    if declared is not None and declared != alg:
        raise Refused("alg differs from the key's alg")
    kty = key.data.get("kty")
    if alg.startswith(("RS", "PS")) and kty != "RSA":
        raise Refused("alg needs an RSA key")
    if alg.startswith("ES") and (kty != "EC" or key.data.get("crv") != _EC_CURVES[alg]):
        raise Refused("alg needs an EC key on its curve")


def _check_audience(aud: object, expected: str) -> None:
    if aud == expected or aud == [expected]:
        return
    raise Refused("wrong aud")


def _token(iss: str, jti: str, exp: int) -> Token:
    key = hashlib.sha256(f"{iss}\0{jti}".encode()).hexdigest()
    return Token(key=key, expires_at=datetime.fromtimestamp(exp + LEEWAY_SECONDS, tz=UTC))


def _remember_jti(token: Token, *, savepoint: bool) -> None:
    try:
        with transaction.atomic(savepoint=savepoint):
            rows.insert_values(UsedToken, [{"key": token.key, "expires_at": token.expires_at}])
    except IntegrityError:
        raise Refused("jti replayed") from None


def remember(token: Token, *, first_write: bool = False) -> None:
    """Record the token's jti, or `Refused` when it was seen before (a replay).

    `first_write`: the caller's transaction has written nothing yet and is given up
    whole on `Refused`, so the insert needs no savepoint of its own. Inside that
    transaction, the row commits or rolls back with its other writes; the caller marks
    `token.recorded` once it committed."""
    _remember_jti(token, savepoint=not first_write)
    _maybe_purge()


_purge_lock = threading.Lock()
_last_purge = 0.0
PURGE_EVERY_SECONDS: Final = 60.0


def _maybe_purge() -> None:
    """Drop expired token ids about once a minute per process (they can never replay:
    a token past `exp` is refused before its jti is looked at)."""
    global _last_purge
    now = time.monotonic()
    with _purge_lock:
        if now - _last_purge < PURGE_EVERY_SECONDS:
            return
        _last_purge = now
    UsedToken.objects.filter(expires_at__lt=datetime.now(tz=UTC)).delete()


def _segment(text: str) -> dict[str, Any]:
    data = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token's header and claims, unverified: only to find its client and key.

    A cheap read (about 5 us; PyJWT's own takes 40 us, and `jwt.decode` parses the
    token again anyway). It may be laxer than PyJWT's (stray characters are skipped),
    which is harmless: `jwt.decode` then parses the same token strictly, refuses what
    this let through, and checks the signature over these very bytes, the header's
    ``alg`` against the one read here and ``iss`` against the client's."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Refused("not a JWT")
    try:
        return _segment(parts[0]), _segment(parts[1])
    except ValueError:  # binascii.Error and orjson.JSONDecodeError are ValueErrors
        raise Refused("not a JWT") from None


def authenticate(request: HttpRequest, audience: str) -> Caller:
    """The calling client, or `Refused`. `audience` is the exact URL of this endpoint.

    Every check but the replay one, which needs a write: see `remember`."""
    token = _bearer(request)
    header, unverified = _unverified(token)
    alg = header.get("alg")
    if alg not in conf.ALLOWED_ALGORITHMS:
        raise Refused("alg not allowed")
    if str(header.get("typ", "")).upper() != "JWT":
        raise Refused("typ is not JWT")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise Refused("no kid")
    if "crit" in header:
        raise Refused("crit header not supported")
    iss = unverified.get("iss")
    client = conf.clients().by_iss.get(iss) if isinstance(iss, str) else None
    if client is None:
        raise Refused("unknown iss")
    key = _key_for(client, header)
    _check_key_suits(key, alg)
    try:
        claims = jwt.decode(
            token,
            key=key.jwk.key,
            algorithms=[alg],
            issuer=client.config.iss,
            leeway=LEEWAY_SECONDS,
            options={"require": _REQUIRED_CLAIMS, "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise Refused(f"token rejected: {type(error).__name__}") from None
    _check_audience(claims["aud"], audience)
    exp, iat, jti = claims["exp"], claims["iat"], claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise Refused("bad jti")
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise Refused("token lifetime over an hour")
    tenant = claims.get("tenant")
    if client.config.tenants and tenant not in client.config.tenants:
        raise Refused("tenant not allowed")
    return Caller(
        client=client,
        jti=jti,
        tenant=tenant if isinstance(tenant, str) else None,
        token=_token(client.config.iss, jti, int(exp)),
    )

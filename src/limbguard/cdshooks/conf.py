"""CDS Hooks configuration: the trusted EHR clients and the service's public URLs.

Settings (config/settings.py): ``LIMBGUARD_BASE_URL`` (the address EHRs call),
``LIMBGUARD_CDS_CLIENTS`` (path of the clients file below; unset = no client is trusted,
every call gets 401), ``LIMBGUARD_CDS_DEADLINE_MS`` (2000), ``LIMBGUARD_CDS_FHIR_TIMEOUT_MS``
(1500), ``LIMBGUARD_CDS_EVALUATION_DAYS`` (30), ``LIMBGUARD_CDS_MAX_BODY_BYTES`` (2 MB).

The clients file is JSON::

    {"clients": [{
        "name": "harbor-ehr",                      # slug; audit actor "cds-client:harbor-ehr"
        "iss": "https://ehr.harbor.example/",      # the JWT `iss`, compared exactly
        "jwks": {"keys": [ ...public JWKs... ]},   # inline keys, and/or
        "jku": ["https://ehr.harbor.example/jwks.json"],   # allowlisted JWK Set URLs
        "tenants": ["..."],                        # optional: accepted `tenant` claims
        "centers": ["harbor"],                     # or "*": whose patients it may hear about
        "patient_identifier_systems": ["urn:oid:1.2.3.4"],  # Patient.identifier systems
                                                   # whose value is the LimbGuard MRN
        "fhir_servers": ["https://ehr.harbor.example/fhir/r4"],  # fhirServer values that
                                                   # LimbGuard may call (anything else: never)
        "cors_origins": ["https://ehr.harbor.example"],
        "smart_launch_url": "https://...",         # optional: a SMART app link on cards
        "vascular_consult": {"system": "...", "code": "...", "display": "..."}  # optional:
                                                   # the EHR's orderable for a consult
    }]}

The public CDS Hooks sandbox (a browser-based mock EHR) signs ES256 tokens with
`iss` "https://sandbox.cds-hooks.org" and `jku`
"https://sandbox.cds-hooks.org/.well-known/jwks.json" (cds-hooks/sandbox,
src/retrieve-data-helpers/jwt-generator.js); to try LimbGuard from it, add a client with
that `iss`, that `jku` allowlisted, and "https://sandbox.cds-hooks.org" in `cors_origins`.

Only public keys are accepted (a key with private members is refused), only RSA and EC
key types (never a symmetric "oct" key), only the RS/ES/PS algorithms. The file is read
at start-up (a bad file stops the process) and re-read when it changes, so that keys can
rotate without a restart; a bad edit at run time is logged and trusts no one until fixed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

logger = logging.getLogger(__name__)

# RFC 7518 asymmetric signatures; CDS Hooks 2.0.1 forbids `none` and every symmetric
# algorithm and recommends ES384 and RS384 ("JWT Signing Algorithm").
ALLOWED_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}
)
_PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})
MIN_RSA_BITS: Final = 2048  # NIST SP 800-131A: RSA below 2048 bits is disallowed


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in _LOOPBACK


def _secure_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if not parts.hostname or parts.scheme not in {"http", "https"}:
        raise ValueError(f"{what} must be an absolute URL: {value!r}")
    if parts.scheme != "https" and not is_loopback(value):
        raise ValueError(f"{what} must use https (plain http only on loopback): {value!r}")
    if parts.username or parts.password or parts.fragment:
        raise ValueError(f"{what} must not hold credentials or a fragment: {value!r}")
    return value.rstrip("/")


class CodingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str = Field(min_length=1)


class ClientConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    iss: str = Field(min_length=1, max_length=500)
    jwks: dict[str, Any] | None = None
    jku: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    centers: Literal["*"] | tuple[str, ...] = ()
    patient_identifier_systems: tuple[str, ...] = ()
    fhir_servers: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    smart_launch_url: str | None = None
    vascular_consult: CodingConfig | None = None

    @field_validator("jku", "fhir_servers")
    @classmethod
    def _urls(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_secure_url(v, "a jku / fhir_servers URL") for v in values)

    @field_validator("smart_launch_url")
    @classmethod
    def _launch(cls, value: str | None) -> str | None:
        return None if value is None else _secure_url(value, "smart_launch_url")

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for origin in values:
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path:
                raise ValueError(f"a CORS origin is scheme://host[:port], not {origin!r}")
        return values

    @field_validator("jwks")
    @classmethod
    def _public_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        keys = value.get("keys")
        if not isinstance(keys, list) or not keys:
            raise ValueError("jwks must be a JWK Set with a non-empty 'keys' array")
        kids: set[str] = set()
        for key in keys:
            check_public_jwk(key)
            kids.add(key["kid"])
        if len(kids) != len(keys):
            raise ValueError("each key in jwks needs a distinct 'kid'")
        return value


@dataclass(frozen=True)
class PublicKey:
    """A verified public JWK: its members and the key object PyJWT verifies with."""

    data: Mapping[str, Any]
    jwk: jwt.PyJWK


def check_public_jwk(key: object) -> PublicKey:
    """Refuse anything but a public RSA (>= 2048 bits) or EC signing key with a kid."""
    if not isinstance(key, dict):
        raise ValueError("a JWK must be an object")
    if key.get("kty") not in {"RSA", "EC"}:
        raise ValueError("only RSA and EC keys are accepted (no symmetric keys)")
    if _PRIVATE_JWK_MEMBERS & key.keys():
        raise ValueError("a JWK here must be public: it holds private key members")
    if not isinstance(key.get("kid"), str) or not key["kid"]:
        raise ValueError("each JWK needs a 'kid'")
    if key.get("use", "sig") != "sig":
        raise ValueError("a JWK used here must be a signing key (use: sig)")
    if "alg" in key and key["alg"] not in ALLOWED_ALGORITHMS:
        raise ValueError(f"JWK alg {key['alg']!r} is not RS/ES/PS")
    try:
        parsed = jwt.PyJWK(key)
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as error:
        raise ValueError(f"unusable JWK {key.get('kid')!r}: {error}") from None
    size = getattr(parsed.key, "key_size", None)
    if key["kty"] == "RSA" and (size is None or size < MIN_RSA_BITS):
        raise ValueError(f"RSA key {key['kid']!r} is shorter than {MIN_RSA_BITS} bits")
    return PublicKey(data=MappingProxyType(dict(key)), jwk=parsed)


class ClientsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    clients: tuple[ClientConfig, ...]


@dataclass(frozen=True)
class Client:
    """A trusted CDS client (an EHR), as the rest of the app sees it."""

    config: ClientConfig
    keys: Mapping[str, PublicKey]  # inline keys by kid

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def all_centers(self) -> bool:
        return self.config.centers == "*"

    @property
    def center_slugs(self) -> tuple[str, ...]:
        centers = self.config.centers
        return () if centers == "*" else centers

    def allows_fhir_server(self, url: str) -> bool:
        return url.rstrip("/") in self.config.fhir_servers


@dataclass(frozen=True)
class Registry:
    by_iss: dict[str, Client]

    @property
    def cors_origins(self) -> frozenset[str]:
        return frozenset(o for c in self.by_iss.values() for o in c.config.cors_origins)


EMPTY: Final = Registry(by_iss={})


def parse_clients(text: str) -> Registry:
    """Validate a clients file; ValueError names what is wrong."""
    try:
        parsed = ClientsFile.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    except ValidationError as error:
        raise ValueError(str(error)) from None
    by_iss: dict[str, Client] = {}
    names: set[str] = set()
    for config in parsed.clients:
        if config.iss in by_iss or config.name in names:
            raise ValueError(f"client {config.name!r}: name and iss must be unique")
        if config.jwks is None and not config.jku:
            raise ValueError(f"client {config.name!r} needs jwks or at least one jku")
        keys = {k["kid"]: check_public_jwk(k) for k in (config.jwks or {}).get("keys", [])}
        by_iss[config.iss] = Client(config=config, keys=keys)
        names.add(config.name)
    return Registry(by_iss=by_iss)


_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int], Registry]] = {}


def _load(path: str) -> Registry:
    stat = Path(path).stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _lock:
        registry = parse_clients(Path(path).read_text(encoding="utf-8"))
        insecure = urlsplit(base_url()).scheme != "https" and not is_loopback(base_url())
        if registry.by_iss and insecure:
            raise ValueError("LIMBGUARD_BASE_URL must be https when CDS clients are configured")
        _cache[path] = (stamp, registry)
        return registry


def check_configuration() -> None:
    """Called at start-up: a bad clients file stops the process, loudly."""
    path = str(settings.LIMBGUARD_CDS_CLIENTS)
    if not path:
        return
    try:
        _load(path)
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"LIMBGUARD_CDS_CLIENTS ({path}): {error}") from None


def clients() -> Registry:
    """The trusted clients, re-read when the file changes; EMPTY if unset or now broken."""
    path = str(settings.LIMBGUARD_CDS_CLIENTS)
    if not path:
        return EMPTY
    try:
        return _load(path)
    except (OSError, ValueError) as error:
        logger.error("CDS Hooks clients file %s unusable, trusting no client: %s", path, error)
        return EMPTY


def base_url() -> str:
    return str(settings.LIMBGUARD_BASE_URL)


def discovery_url() -> str:
    """The exact `aud` of a discovery call (CDS Hooks 2.0.1, Trusting CDS Clients)."""
    return f"{base_url()}/cds-services"


def service_url(service_id: str) -> str:
    return f"{discovery_url()}/{service_id}"


def feedback_url(service_id: str) -> str:
    return f"{service_url(service_id)}/feedback"


def deadline_seconds() -> float:
    return int(settings.LIMBGUARD_CDS_DEADLINE_MS) / 1000


def fhir_timeout_seconds() -> float:
    return int(settings.LIMBGUARD_CDS_FHIR_TIMEOUT_MS) / 1000


def evaluation_days() -> int:
    return int(settings.LIMBGUARD_CDS_EVALUATION_DAYS)


def max_body_bytes() -> int:
    return int(settings.LIMBGUARD_CDS_MAX_BODY_BYTES)

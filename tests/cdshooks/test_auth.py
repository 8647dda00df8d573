"""Every call carries an EHR-signed JWT; anything forged or out of place gets a bare 401.

Source: CDS Hooks 2.0.1 "Trusting CDS Clients", "JWT Signing Algorithm";
cds-hooks/docs best-practices.md (the service-side checklist). Keys are generated here.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from limbguard.cdshooks import auth
from limbguard.cdshooks.models import UsedToken
from tests.cdshooks.conftest import Ehr
from tests.cdshooks.support import (
    ISS,
    OTHER_ISS,
    ClientSpec,
    Key,
    ec_key,
    rsa_key,
    service_url,
    sign,
)

AUD = service_url()


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": "j-1", **extra}


def _refused(response: Any) -> None:
    assert response.status_code == 401
    assert response.content == b""  # bare: no hint of what failed
    assert response["WWW-Authenticate"] == "Bearer"


# --- accepted --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(ec_key(), id="ES384"),
        pytest.param(rsa_key(), id="RS384"),
        pytest.param(rsa_key("rsa-256", "RS256"), id="RS256"),
        pytest.param(rsa_key("ps-1", "PS256"), id="PS256"),
        pytest.param(ec_key("ec-256", "ES256"), id="ES256"),
    ],
)
def test_signed_token_is_accepted(ehr: Ehr, clients_file: Callable[..., Path], key: Key) -> None:
    clients_file(ClientSpec(keys=[key]))
    response = ehr.discover(key=key)
    assert response.status_code == 200
    assert response.json()["services"]


def test_aud_as_one_element_array_is_accepted(ehr: Ehr) -> None:
    assert ehr.discover(aud=[AUD]).status_code == 200


def test_sub_nbf_and_tenant_are_accepted_not_required(ehr: Ehr) -> None:
    now = int(time.time())
    response = ehr.discover(sub="cds-client-id", nbf=now - 300, tenant="t-1")
    assert response.status_code == 200


def test_jti_is_kept_until_expiry(ehr: Ehr) -> None:
    ehr.discover()
    assert UsedToken.objects.count() == 1


# --- forged or misplaced ---------------------------------------------------------------


def test_no_token(ehr: Ehr) -> None:
    _refused(ehr.client.get("/cds-services"))


def test_not_a_bearer_token(ehr: Ehr) -> None:
    _refused(ehr.client.get("/cds-services", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"))


def test_garbage_token(ehr: Ehr) -> None:
    _refused(ehr.discover(token="not.a.jwt"))


@pytest.mark.parametrize("where", [0, 1, 2], ids=["header", "claims", "signature"])
def test_stray_character_in_a_signed_token(ehr: Ehr, where: int) -> None:
    """The unverified read skips stray characters; PyJWT's strict parse still refuses."""
    parts = ehr.token(AUD).split(".")
    parts[where] = parts[where][:4] + "!" + parts[where][4:]
    _refused(ehr.discover(token=".".join(parts)))


@pytest.mark.parametrize("segment", ["WzFd", "bnVsbA", "e30.e30.e30.e30"], ids=str)
def test_header_not_a_json_object(ehr: Ehr, segment: str) -> None:
    _refused(ehr.discover(token=f"{segment}.{_b64(_claims())}.c2ln"))


def test_alg_none(ehr: Ehr) -> None:
    token = _b64({"alg": "none", "typ": "JWT", "kid": "ec-1"}) + "." + _b64(_claims()) + "."
    _refused(ehr.discover(token=token))


def test_hmac_signed_with_the_public_key(ehr: Ehr) -> None:
    """The classic key-confusion attack: HS256 keyed with the RSA public key's PEM."""
    pem = (
        rsa_key()
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"})
    body = _b64(_claims())
    import hashlib
    import hmac

    mac = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    _refused(ehr.discover(token=f"{header}.{body}.{signature}"))


def test_wrong_aud(ehr: Ehr) -> None:
    _refused(ehr.discover(aud=service_url("limb-status")))


def test_aud_with_trailing_slash(ehr: Ehr) -> None:
    _refused(ehr.discover(aud=AUD + "/"))


def test_aud_array_with_another_audience(ehr: Ehr) -> None:
    _refused(ehr.discover(aud=[AUD, "https://elsewhere.test/cds-services"]))


def test_expired(ehr: Ehr) -> None:
    now = int(time.time())
    _refused(ehr.discover(iat=now - 900, exp=now - 600))


def test_issued_in_the_future(ehr: Ehr) -> None:
    now = int(time.time())
    _refused(ehr.discover(iat=now + 600, exp=now + 900))


def test_not_yet_valid(ehr: Ehr) -> None:
    _refused(ehr.discover(nbf=int(time.time()) + 600))


def test_lifetime_over_an_hour(ehr: Ehr) -> None:
    _refused(ehr.discover(lifetime=2 * 3600))


def test_replayed_jti(ehr: Ehr) -> None:
    token = ehr.token(AUD)
    assert ehr.discover(token=token).status_code == 200
    _refused(ehr.discover(token=token))


def test_same_jti_in_a_new_token_is_refused(ehr: Ehr) -> None:
    assert ehr.discover(jti="fixed").status_code == 200
    _refused(ehr.discover(jti="fixed"))


def test_unknown_iss(ehr: Ehr) -> None:
    _refused(ehr.discover(iss=OTHER_ISS))


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "jti"])
def test_missing_claim(ehr: Ehr, claim: str) -> None:
    _refused(ehr.discover(drop=(claim,)))


def test_unknown_kid(ehr: Ehr) -> None:
    _refused(ehr.discover(key=ec_key("ec-unknown")))


def test_signed_by_another_key_under_a_known_kid(ehr: Ehr) -> None:
    impostor = Key("ec-1", "ES384", ec_key("impostor").private)
    _refused(ehr.discover(key=impostor))


def test_alg_that_does_not_suit_the_key(ehr: Ehr) -> None:
    # The EC key is on P-384; a token claiming ES256 under its kid is refused.
    other = Key("ec-1", "ES256", ec_key("p256", "ES256").private)
    _refused(ehr.discover(key=other))


def test_missing_typ(ehr: Ehr) -> None:
    headers = {"kid": "ec-1", "typ": None}  # PyJWT drops a falsy typ
    token = jwt.encode(_claims(), ec_key().private, algorithm="ES384", headers=headers)  # type: ignore[arg-type]
    _refused(ehr.discover(token=token))


def test_missing_kid(ehr: Ehr) -> None:
    token = jwt.encode(_claims(), ec_key().private, algorithm="ES384", headers={"typ": "JWT"})  # type: ignore[arg-type]
    _refused(ehr.discover(token=token))


def test_crit_header(ehr: Ehr) -> None:
    _refused(ehr.discover(headers={"crit": ["exp"]}))


def test_tenant_not_allowed(ehr: Ehr, clients_file: Callable[..., Path]) -> None:
    clients_file(ClientSpec(extra={"tenants": ["t-ok"]}))
    _refused(ehr.discover(tenant="t-other"))
    _refused(ehr.discover())
    assert ehr.discover(tenant="t-ok").status_code == 200


def test_no_clients_configured_trusts_no_one(ehr: Ehr, settings: Any) -> None:
    settings.LIMBGUARD_CDS_CLIENTS = ""
    _refused(ehr.discover())


def test_every_endpoint_needs_the_token(ehr: Ehr) -> None:
    _refused(
        ehr.client.post("/cds-services/limb-status", data="{}", content_type="application/json")
    )
    _refused(
        ehr.client.post(
            "/cds-services/limb-status/feedback", data="{}", content_type="application/json"
        )
    )


def test_service_token_is_refused_on_feedback(ehr: Ehr) -> None:
    token = ehr.token(service_url("limb-status"))
    _refused(ehr.feedback("limb-status", {"feedback": []}, token=token))


# --- jku -------------------------------------------------------------------------------

JKU = "https://ehr.harbor.test/.well-known/jwks.json"


def _jwks_server(monkeypatch: pytest.MonkeyPatch, keys: list[Key]) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if str(request.url) != JKU:
            return httpx.Response(404)
        return httpx.Response(200, json={"keys": [k.public_jwk() for k in keys]})

    monkeypatch.setattr(auth, "jwks_transport", httpx.MockTransport(handle))
    return seen


def test_allowlisted_jku(
    ehr: Ehr, clients_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = rsa_key("rotated", "RS384")
    clients_file(ClientSpec(keys=[ec_key()], extra={"jku": [JKU]}))
    seen = _jwks_server(monkeypatch, [key])
    assert ehr.discover(key=key, headers={"jku": JKU}).status_code == 200
    assert ehr.discover(key=key, headers={"jku": JKU}).status_code == 200
    assert len(seen) == 1  # cached


def test_jku_not_on_the_allowlist_is_never_fetched(
    ehr: Ehr, clients_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    clients_file(ClientSpec(extra={"jku": [JKU]}))
    seen = _jwks_server(monkeypatch, [ec_key()])
    _refused(ehr.discover(headers={"jku": "https://attacker.test/jwks.json"}))
    assert seen == []


def test_jku_agreed_out_of_band(
    ehr: Ehr, clients_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No jku in the header: a client with exactly one allowlisted jku uses it."""
    key = ec_key("oob", "ES384")
    spec = ClientSpec(keys=[])
    config = spec.config()
    config.pop("jwks")
    config["jku"] = [JKU]
    path = clients_file(ClientSpec())
    path.write_text(json.dumps({"clients": [config]}))
    _jwks_server(monkeypatch, [key])
    assert ehr.discover(key=key).status_code == 200


def test_unreachable_jku_refuses(ehr: Ehr, clients_file: Callable[..., Path]) -> None:
    clients_file(ClientSpec(extra={"jku": [JKU]}))
    _refused(ehr.discover(key=rsa_key("elsewhere"), headers={"jku": JKU}))


# --- tokens never logged -----------------------------------------------------------------


def test_tokens_are_never_logged(ehr: Ehr, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good = ehr.token(AUD)
    bad = ehr.token(AUD, iss=OTHER_ISS)
    ehr.discover(token=good)
    ehr.discover(token=good)  # replay, logged as refused
    ehr.discover(token=bad)
    text = caplog.text
    assert "refused" in text
    for token in (good, bad):
        for part in token.split("."):
            assert part not in text


def test_signing_helper_matches_the_spec_example_shape() -> None:
    token = sign(ec_key(), aud=AUD, tenant="2ddd6c3a")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES384", "typ": "JWT", "kid": "ec-1"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"iss", "aud", "exp", "iat", "jti", "tenant"}


def test_a_token_shaped_like_the_cds_hooks_sandboxs(
    ehr: Ehr, clients_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ES256, a jku header, `sub`, and an iss without a trailing slash (cds-hooks/sandbox
    jwt-generator.js); our own key stands in for the sandbox's."""
    sandbox_iss = "https://sandbox.cds-hooks.org"
    sandbox_jku = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
    key = ec_key("d9cd3c4f-eb08-4304-b973-44f352fd2ca2", "ES256")
    spec = ClientSpec(name="cds-sandbox", iss=sandbox_iss, keys=[ec_key()])
    spec.extra = {"jku": [sandbox_jku], "cors_origins": [sandbox_iss]}
    clients_file(spec)

    def handle(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == sandbox_jku
        return httpx.Response(200, json={"keys": [key.public_jwk()]})

    monkeypatch.setattr(auth, "jwks_transport", httpx.MockTransport(handle))
    response = ehr.discover(
        key=key,
        iss=sandbox_iss,
        sub="48163c5e-88b5-4cb3-92d3-23b800caa927",
        headers={"jku": sandbox_jku},
    )
    assert response.status_code == 200

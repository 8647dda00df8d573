"""The clients file and the base URL: bad values are refused, loudly, at start-up."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from limbguard.cdshooks import conf
from limbguard.config.env import env_url
from tests.cdshooks.conftest import Ehr
from tests.cdshooks.support import ClientSpec, ec_key, rsa_key


def _file(**changes: Any) -> str:
    config = ClientSpec().config()
    config.update(changes)
    return json.dumps({"clients": [config]})


def test_a_good_file_parses() -> None:
    registry = conf.parse_clients(_file())
    client = registry.by_iss["https://ehr.harbor.test/"]
    assert client.name == "harbor-ehr"
    assert set(client.keys) == {"ec-1", "rsa-1"}
    assert registry.cors_origins == {"https://ehr.harbor.test"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"jwks": {"keys": [ec_key().private_jwk()]}}, "private", id="private-key"),
        pytest.param(
            {"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}},
            "RSA and EC",
            id="symmetric-key",
        ),
        pytest.param(
            {"jwks": {"keys": [rsa_key("short", "RS256", 1024).public_jwk()]}},
            "shorter",
            id="short-rsa",
        ),
        pytest.param(
            {"jwks": {"keys": [{**ec_key().public_jwk(), "alg": "HS256"}]}},
            "RS/ES/PS",
            id="hmac-alg",
        ),
        pytest.param(
            {"jwks": {"keys": [{**ec_key().public_jwk(), "use": "enc"}]}},
            "signing",
            id="encryption-key",
        ),
        pytest.param({"jwks": {"keys": []}}, "non-empty", id="empty-jwks"),
        pytest.param({"jwks": None}, "jwks or at least one jku", id="no-keys"),
        pytest.param({"jku": ["http://ehr.test/jwks"]}, "https", id="http-jku"),
        pytest.param({"fhir_servers": ["http://ehr.test/fhir"]}, "https", id="http-fhir"),
        pytest.param({"cors_origins": ["https://ehr.test/path"]}, "origin", id="bad-origin"),
        pytest.param({"name": "Harbor EHR"}, "name", id="bad-name"),
        pytest.param({"colour": "red"}, "colour", id="unknown-member"),
    ],
)
def test_bad_files_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        conf.parse_clients(_file(**changes))


def test_duplicate_clients_are_refused() -> None:
    config = ClientSpec().config()
    with pytest.raises(ValueError, match="unique"):
        conf.parse_clients(json.dumps({"clients": [config, {**config, "name": "other"}]}))


def test_not_json() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        conf.parse_clients("{clients")


def test_start_up_stops_on_a_bad_file(settings: Any, tmp_path: Path) -> None:
    path = tmp_path / "clients.json"
    path.write_text(_file(jwks={"keys": [ec_key().private_jwk()]}))
    settings.LIMBGUARD_CDS_CLIENTS = str(path)
    with pytest.raises(ImproperlyConfigured, match="LIMBGUARD_CDS_CLIENTS"):
        conf.check_configuration()
    settings.LIMBGUARD_CDS_CLIENTS = str(tmp_path / "missing.json")
    with pytest.raises(ImproperlyConfigured):
        conf.check_configuration()


def test_clients_need_an_https_base_url(settings: Any, tmp_path: Path) -> None:
    path = tmp_path / "clients.json"
    path.write_text(_file())
    settings.LIMBGUARD_CDS_CLIENTS = str(path)
    settings.LIMBGUARD_BASE_URL = "http://limbguard.example.org"
    with pytest.raises(ImproperlyConfigured, match="https"):
        conf.check_configuration()
    settings.LIMBGUARD_BASE_URL = "http://127.0.0.1:8000"  # loopback: the demo and bench
    conf.check_configuration()


def test_a_bad_edit_at_run_time_trusts_no_one(ehr: Ehr, clients_file: Callable[..., Path]) -> None:
    path = clients_file()
    assert ehr.discover().status_code == 200
    path.write_text("{broken")
    assert ehr.discover().status_code == 401
    clients_file()
    assert ehr.discover().status_code == 200


def test_service_urls_come_from_configuration(settings: Any) -> None:
    settings.LIMBGUARD_BASE_URL = "https://cds.example.org/limbguard"
    assert conf.discovery_url() == "https://cds.example.org/limbguard/cds-services"
    assert conf.service_url("limb-status") == (
        "https://cds.example.org/limbguard/cds-services/limb-status"
    )
    assert conf.feedback_url("x").endswith("/cds-services/x/feedback")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://cds.example.org/", "https://cds.example.org"),
        ("https://cds.example.org:8443/lg", "https://cds.example.org:8443/lg"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_env_url_accepts(value: str, expected: str) -> None:
    assert env_url("X", "http://default.test", environ={"X": value}) == expected


@pytest.mark.parametrize(
    "value",
    [
        "cds.example.org",
        "ftp://cds.example.org",
        "https://",
        "https://a.test/?q=1",
        "https://a.test/#f",
        "https://user:pw@a.test",
        "https://a.test:99999",
    ],
)
def test_env_url_refuses(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="X"):
        env_url("X", "http://default.test", environ={"X": value})


def test_env_url_default() -> None:
    assert env_url("X", "http://default.test/", environ={}) == "http://default.test"

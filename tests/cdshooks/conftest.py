"""Fixtures: a configured EHR client (`ehr`), a stub FHIR server (`fhir_server`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from django.conf import settings as django_settings
from django.test import Client, override_settings
from pytest_django.fixtures import Settings

from limbguard.cdshooks import auth, fhirdata, services
from tests.cdshooks.support import (
    BASE_URL,
    FHIR_SERVER,
    ClientSpec,
    Key,
    ec_key,
    service_url,
    sign,
    write_clients,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reaches a real network: unset stubs refuse every request."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no network in tests", request=request)

    monkeypatch.setattr(fhirdata, "transport", httpx.MockTransport(refuse))
    monkeypatch.setattr(auth, "jwks_transport", httpx.MockTransport(refuse))
    auth.forget_fetched_keys()
    services.forget_accounts()
    yield
    auth.forget_fetched_keys()
    services.forget_accounts()


@pytest.fixture
def clients_file(settings: Settings, tmp_path: Path) -> Callable[..., Path]:
    """Write a clients file and point the settings at it."""
    settings.LIMBGUARD_BASE_URL = BASE_URL

    def write(*specs: ClientSpec) -> Path:
        path = write_clients(tmp_path / "clients.json", *(specs or (ClientSpec(),)))
        settings.LIMBGUARD_CDS_CLIENTS = str(path)
        return path

    return write


@dataclass
class Ehr:
    """A configured EHR calling LimbGuard through Django's test client."""

    client: Client
    key: Key = field(default_factory=ec_key)

    def token(self, aud: Any, **options: Any) -> str:
        return sign(options.pop("key", self.key), aud=aud, **options)

    def _bearer(self, aud: str, options: dict[str, Any]) -> str:
        """The caller's own token, or one signed for `aud` (or the options' `aud`)."""
        token = options.pop("token", None)
        return token or self.token(options.pop("aud", aud), **options)

    def discover(self, **options: Any) -> Response:
        token = self._bearer(service_url(), options)
        return self.client.get("/cds-services", HTTP_AUTHORIZATION=f"Bearer {token}")

    def call(self, service_id: str, body: Any, **options: Any) -> Response:
        content_type = options.pop("content_type", "application/json")
        token = self._bearer(service_url(service_id), options)
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(
            f"/cds-services/{service_id}",
            data=data,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    def feedback(self, service_id: str, body: Any, **options: Any) -> Response:
        token = self._bearer(f"{service_url(service_id)}/feedback", options)
        return self.client.post(
            f"/cds-services/{service_id}/feedback",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )


@pytest.fixture
def ehr(db: None, clients_file: Callable[..., Path]) -> Ehr:
    clients_file()
    client = Client(enforce_csrf_checks=True)
    # The API's middleware chain, as config/wsgi.py serves /cds-services.
    with override_settings(MIDDLEWARE=django_settings.API_MIDDLEWARE):
        client.handler.load_middleware()
    return Ehr(client=client)


@dataclass
class FhirServer:
    """A stub FHIR server: `routes` maps a path ('Patient/p-1', 'Procedure', or
    'Procedure?page=2' for a later page) to a JSON answer or an httpx.Response."""

    routes: dict[str, Any] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    delay: float = 0.0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        key = request.url.path.removeprefix(httpx.URL(FHIR_SERVER).path + "/")
        if "page" in request.url.params:
            key += f"?page={request.url.params['page']}"
        answer = self.routes.get(key)
        if answer is None:
            return httpx.Response(404, json={"resourceType": "OperationOutcome", "issue": []})
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


@pytest.fixture
def fhir_server(monkeypatch: pytest.MonkeyPatch) -> FhirServer:
    server = FhirServer()
    monkeypatch.setattr(fhirdata, "transport", httpx.MockTransport(server.handle))
    return server

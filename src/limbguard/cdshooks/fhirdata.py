"""Getting the FHIR data a service needs: prefetch first, then the EHR's FHIR server.

CDS Hooks 2.0.1, "Providing FHIR Resources to a CDS Service": a prefetch key the client
sent is used as is (``null`` means "no data"); a key it left out, or filled with an
OperationOutcome (its prefetch failed), is fetched from ``fhirServer`` with the
``fhirAuthorization`` bearer token, if both were given, the server is on the client's
allowlist (no request ever goes to an address the configuration does not name) and time
is left. Search results may be paginated: ``next`` links on the same server are followed
(at most `MAX_PAGES`). Every fetch of one call runs concurrently under one hard deadline;
whatever has not answered by then is reported as timed out and the service answers with
what it has.

The access token is read only to build the Authorization header: it is never logged,
stored or put in an error message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import quote

import httpx

from limbguard.cdshooks import conf
from limbguard.cdshooks.schemas import CdsRequest

logger = logging.getLogger(__name__)

MAX_PAGES: Final = 5
# Time kept back from the deadline for the rules, the cards and the database writes.
RESERVE_SECONDS: Final = 0.15
# Tests install an httpx.MockTransport here; production uses httpx's default transport.
transport: httpx.AsyncBaseTransport | None = None

Status = Literal["prefetch", "fetched", "empty", "missing", "failed", "timeout", "partial"]


class BadPrefetch(ValueError):
    """A prefetch value for one of our keys that is neither a resource nor null."""


@dataclass(frozen=True)
class Template:
    """A prefetch template and the resource type its answer must have."""

    query: str
    expects: str  # "Patient" for a read, "Bundle" for a search

    def render(self, patient_id: str) -> str:
        return self.query.replace("{{context.patientId}}", quote(patient_id, safe=""))


@dataclass
class KeyData:
    status: Status
    resources: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    asked_server: bool = False  # the FHIR server was asked (whatever it answered)

    @property
    def obtained(self) -> bool:
        """Whether the key's data is known (possibly empty), not merely hoped for."""
        return self.status in {"prefetch", "fetched", "empty", "partial"}

    @property
    def complete(self) -> bool:
        """Whether all of the key's data is known (no page or answer missing)."""
        return self.status in {"prefetch", "fetched", "empty"}


@dataclass
class Deadline:
    seconds: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)


def _entries(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    resources = []
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        search = entry.get("search") if isinstance(entry.get("search"), dict) else {}
        if not isinstance(resource, dict) or (search or {}).get("mode") == "outcome":
            continue
        if resource.get("resourceType") == "OperationOutcome":
            continue
        resources.append(resource)
    return resources


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) else None
    return None


def from_prefetch(
    key: str, value: object, template: Template, patient_id: str
) -> tuple[KeyData, str | None]:
    """The data of one prefetch key, and the `next` page still to fetch (if any)."""
    if value is None:
        return KeyData("empty", note="the EHR has no data"), None
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise BadPrefetch(f"prefetch.{key} must be a FHIR resource or null")
    kind = value["resourceType"]
    if kind == "OperationOutcome":
        return KeyData("failed", note="the EHR reported a prefetch error"), None
    if kind != template.expects:
        raise BadPrefetch(f"prefetch.{key} must be a {template.expects}, not {kind}")
    if kind == "Bundle":
        return KeyData("prefetch", _entries(value)), _next_link(value)
    if value.get("id") not in (None, patient_id) and kind == "Patient":
        raise BadPrefetch(f"prefetch.{key} is not the patient in context")
    return KeyData("prefetch", [value]), None


def _usable_server(call: CdsRequest, client: conf.Client) -> str | None:
    if call.fhirServer is None or call.fhirAuthorization is None:
        return None
    base = str(call.fhirServer).rstrip("/")
    if not client.allows_fhir_server(base):
        logger.warning("CDS client %s sent a fhirServer not on its allowlist", client.name)
        return None
    return base


async def _get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await http.get(url)
    if response.status_code != 200:
        raise httpx.HTTPStatusError(
            f"status {response.status_code}", request=response.request, response=response
        )
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


async def _fetch_key(
    http: httpx.AsyncClient,
    base: str,
    template: Template,
    patient_id: str,
    start: KeyData | None,
    next_url: str | None,
) -> KeyData:
    resources = list(start.resources) if start is not None else []
    url = next_url if next_url is not None else f"{base}/{template.render(patient_id)}"
    for _ in range(MAX_PAGES):
        if not (url == base or url.startswith(f"{base}/") or url.startswith(f"{base}?")):
            return KeyData("partial", resources, "a next link left the FHIR server")
        data = await _get_json(http, url)
        kind = data.get("resourceType")
        if kind == "OperationOutcome":
            return KeyData("failed", resources, "the FHIR server answered an OperationOutcome")
        if kind != template.expects:
            return KeyData("failed", resources, f"the FHIR server answered a {kind}")
        if kind != "Bundle":
            if data.get("id") not in (None, patient_id):
                return KeyData("failed", note="the FHIR server answered another patient")
            return KeyData("fetched", [data])
        resources.extend(_entries(data))
        following = _next_link(data)
        if following is None:
            return KeyData("fetched", resources)
        url = following
    return KeyData("partial", resources, f"more than {MAX_PAGES} pages")


async def _fetch_all(
    base: str,
    token: str,
    jobs: Mapping[str, tuple[Template, KeyData | None, str | None]],
    patient_id: str,
    budget: float,
) -> dict[str, KeyData]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    timeout = httpx.Timeout(budget)
    results: dict[str, KeyData] = {}
    async with httpx.AsyncClient(
        transport=transport, headers=headers, timeout=timeout, follow_redirects=False
    ) as http:
        tasks = {
            asyncio.create_task(_fetch_key(http, base, tpl, patient_id, start, nxt)): key
            for key, (tpl, start, nxt) in jobs.items()
        }
        done, pending = await asyncio.wait(tasks, timeout=budget)
        for task in pending:
            task.cancel()
            results[tasks[task]] = KeyData("timeout", note="the FHIR server did not answer in time")
        for task in done:
            key = tasks[task]
            error = task.exception()
            if error is None:
                results[key] = task.result()
            else:
                # The type only: an httpx message could carry the URL, never the token,
                # but the URL holds the patient id, which has no place in a log line.
                logger.warning("CDS FHIR fetch of %s failed: %s", key, type(error).__name__)
                results[key] = KeyData("failed", note="the FHIR server could not be read")
        if pending:
            await asyncio.wait(pending, timeout=0.05)
    return results


def gather(
    call: CdsRequest,
    client: conf.Client,
    templates: Mapping[str, Template],
    patient_id: str,
    deadline: Deadline,
) -> dict[str, KeyData]:
    """Every key of `templates`: from prefetch, else from the FHIR server, else missing."""
    prefetch = call.prefetch or {}
    data: dict[str, KeyData] = {}
    jobs: dict[str, tuple[Template, KeyData | None, str | None]] = {}
    for key, template in templates.items():
        if key in prefetch:
            found, next_url = from_prefetch(key, prefetch[key], template, patient_id)
            if found.status == "failed":
                jobs[key] = (template, None, None)
            elif next_url is not None:
                jobs[key] = (template, found, next_url)
            data[key] = found
        else:
            data[key] = KeyData("missing", note="not in prefetch")
            jobs[key] = (template, None, None)
    base = _usable_server(call, client)
    if not jobs or base is None or call.fhirAuthorization is None:
        for key, (_tpl, start, _next) in jobs.items():
            if start is not None:
                data[key] = KeyData("partial", start.resources, "a next page could not be read")
        return data
    budget = min(conf.fhir_timeout_seconds(), deadline.remaining() - RESERVE_SECONDS)
    if budget <= 0:
        for key in jobs:
            data[key] = KeyData("timeout", note="no time left to ask the FHIR server")
        return data
    token = call.fhirAuthorization.access_token.get_secret_value()
    fetched = asyncio.run(_fetch_all(base, token, jobs, patient_id, budget))
    for key, found in fetched.items():
        found.asked_server = True
        data[key] = found
    return data

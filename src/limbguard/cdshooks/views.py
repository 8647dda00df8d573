"""HTTP endpoints of the CDS Hooks service (CDS Hooks 2.0.1).

    GET  /cds-services                     discovery
    POST /cds-services/{id}                a hook call
    POST /cds-services/{id}/feedback       feedback on issued cards

Each endpoint, in order: CORS preflight (configured origins only, no authentication,
as browsers send none) → method → body size (413) → the EHR's JWT (any failure: a bare
401) → JSON and schema (400, 415) → the service (412 when it cannot obtain its data) →
the token's jti, in the call's one write transaction (a replay: a bare 401 even then).
Errors are FHIR OperationOutcomes with a short explanation (the 3.0 recommendation,
harmless to 2.0 clients); no error ever carries a stack trace, and an unexpected failure
is a 503, never a 500. CSRF does not apply: these endpoints authenticate with a bearer
JWT, never a cookie.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, Final

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from limbguard.accounts.audit import client_ip
from limbguard.cdshooks import auth, conf, hooks, services
from limbguard.cdshooks.fhirdata import BadPrefetch, Deadline
from limbguard.cdshooks.schemas import CdsRequest, Feedback, Services

logger = logging.getLogger(__name__)

JSON: Final = "application/json"
ALLOWED_HEADERS: Final = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE: Final = "600"


class CdsError(Exception):
    """An error answered with `status` and an OperationOutcome (FHIR issue-type `code`)."""

    def __init__(self, status: int, code: str, text: str) -> None:
        super().__init__(text)
        self.status, self.code, self.text = status, code, text


def _json(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type=JSON)


def outcome(status: int, code: str, text: str) -> HttpResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    return _json(body, status)


def _unauthorized() -> HttpResponse:
    response = HttpResponse(status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    response["Vary"] = "Origin"
    if origin and origin in conf.clients().cors_origins:
        response["Access-Control-Allow-Origin"] = origin
    return response


def _preflight(request: HttpRequest, methods: str) -> HttpResponse:
    response = HttpResponse(status=204)
    origin = request.headers.get("Origin")
    if origin and origin in conf.clients().cors_origins:
        response["Access-Control-Allow-Methods"] = f"{methods}, OPTIONS"
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return _cors(request, response)


def _body(request: HttpRequest) -> dict[str, Any]:
    content_type = request.content_type or ""
    if "json" not in content_type:
        raise CdsError(415, "not-supported", "the body must be JSON (application/json)")
    try:
        data = orjson.loads(request.read(conf.max_body_bytes() + 1))
    except orjson.JSONDecodeError:
        raise CdsError(400, "structure", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise CdsError(400, "structure", "the body must be a JSON object")
    return data


def _schema_error(error: ValidationError) -> CdsError:
    # Location and message only: pydantic's input echo could carry patient data.
    first = error.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return CdsError(400, "invalid", f"{where}: {first['msg']}")


View = Callable[[HttpRequest, auth.Caller, str, Deadline], HttpResponse]


Wrapped = Callable[..., HttpResponse]


def _answer(
    view: View, request: HttpRequest, caller: auth.Caller, service_id: str, deadline: Deadline
) -> HttpResponse:
    """The view's response; its errors as OperationOutcomes (a replay stays `Refused`)."""
    try:
        return view(request, caller, service_id, deadline)
    except auth.Refused:
        raise
    except CdsError as error:
        return outcome(error.status, error.code, error.text)
    except Exception:
        logger.exception("CDS Hooks %s failed", service_id or "discovery")
        return outcome(503, "exception", "LimbGuard could not complete this call")


def endpoint(method: str, audience: Callable[[str], str]) -> Callable[[View], Wrapped]:
    """Wrap a view with preflight, method, size, authentication and error handling."""

    def decorate(view: View) -> Wrapped:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, service_id: str = "") -> HttpResponse:
            deadline = Deadline(conf.deadline_seconds())  # from arrival: auth counts too
            if request.method == "OPTIONS":
                return _preflight(request, method)
            if request.method != method:
                response = outcome(405, "not-supported", f"use {method}")
                response["Allow"] = f"{method}, OPTIONS"
                return _cors(request, response)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > conf.max_body_bytes():
                text = f"the body is over {conf.max_body_bytes()} bytes"
                return _cors(request, outcome(413, "too-costly", text))
            try:
                caller = auth.authenticate(request, audience(service_id))
                response = _answer(view, request, caller, service_id, deadline)
                if not caller.token.recorded:  # no write of the view's recorded it
                    auth.remember(caller.token)
            except auth.Refused as refusal:
                logger.warning("CDS Hooks call refused (401): %s", refusal)
                return _cors(request, _unauthorized())
            except Exception:
                logger.exception("CDS Hooks %s failed", service_id or "discovery")
                response = outcome(503, "exception", "LimbGuard could not complete this call")
            return _cors(request, response)

        return wrapper

    return decorate


@endpoint("GET", lambda _id: conf.discovery_url())
def discovery(
    request: HttpRequest, caller: auth.Caller, service_id: str, deadline: Deadline
) -> HttpResponse:
    return HttpResponse(_discovery_body(), content_type=JSON)


@functools.cache
def _discovery_body() -> bytes:
    """The discovery document: the same for every call of the process."""
    return orjson.dumps(Services(services=list(hooks.SERVICES)).wire())


@endpoint("POST", conf.service_url)
def service(
    request: HttpRequest, caller: auth.Caller, service_id: str, deadline: Deadline
) -> HttpResponse:
    handler = hooks.HANDLERS.get(service_id)
    if handler is None:
        raise CdsError(404, "not-found", f"no CDS service {service_id!r} here")
    try:
        call = CdsRequest.model_validate(_body(request))
    except ValidationError as error:
        raise _schema_error(error) from None
    if call.hook not in hooks.HOOKS[service_id]:
        hooks_text = ", ".join(sorted(hooks.HOOKS[service_id]))
        raise CdsError(400, "not-supported", f"{service_id} answers {hooks_text}, not {call.hook}")
    hook_call = hooks.Call(
        request=call, client=caller.client, service_id=service_id, deadline=deadline
    )
    result: hooks.Result | None = None
    try:
        result = handler(hook_call)
    except hooks.InvalidContext as error:
        raise CdsError(400, "invalid", str(error)) from None
    except BadPrefetch as error:
        raise CdsError(400, "invalid", str(error)) from None
    except hooks.PreconditionFailed as error:
        return outcome(412, "incomplete", str(error))
    finally:
        if hook_call.lookups or (result is not None and result.cards):
            _record_call(request, caller, hook_call, result)
    return _json(result.response.wire())


def _record_call(
    request: HttpRequest, caller: auth.Caller, call: hooks.Call, result: hooks.Result | None
) -> None:
    """The call's one write transaction: its jti, the audit of each lookup, its cards."""
    record = functools.partial(
        services.do_record_call,
        hook=call.hook,
        lookups=call.lookups,
        patient=result.patient if result is not None else None,
        ip_address=client_ip(request),
    )
    try:
        record(token=caller.token, cards=result.cards if result is not None else ())
    except auth.Refused:
        # A replay: nothing is sent, but the lookups ran, so they are audited.
        record(token=None, cards=())
        raise
    caller.token.recorded = True


@endpoint("POST", conf.feedback_url)
def feedback(
    request: HttpRequest, caller: auth.Caller, service_id: str, deadline: Deadline
) -> HttpResponse:
    if service_id not in hooks.HANDLERS:
        raise CdsError(404, "not-found", f"no CDS service {service_id!r} here")
    try:
        items = Feedback.model_validate(_body(request)).feedback
    except ValidationError as error:
        raise _schema_error(error) from None
    try:
        services.do_record_feedback(
            token=caller.token,
            client=caller.client,
            service_id=service_id,
            items=items,
            received_at=timezone.now(),
            ip_address=client_ip(request),
        )
    except services.UnknownCard as error:
        raise CdsError(400, "not-found", str(error)) from None
    caller.token.recorded = True
    return _json({})

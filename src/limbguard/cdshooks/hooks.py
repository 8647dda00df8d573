"""The two CDS services: what discovery lists, and what each call does.

* ``limb-salvage-order-check`` on order-select and order-sign (one id for both hooks, so
  that the cards of order-sign replace those of order-select: 2.0.1 "Update stale
  guidance");
* ``limb-status`` on patient-view.

A handler parses the hook's context, gets its data (`fhirdata.gather`: prefetch, then the
FHIR server; then LimbGuard's registry for a patient it knows), applies the rules and
builds the cards. It answers 412 when it cannot obtain any of the data it needs.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from django.urls import get_script_prefix, reverse
from django.utils import timezone
from pydantic import BaseModel, ValidationError

from limbguard.cdshooks import cards, conf, limbguard_data, rules, services
from limbguard.cdshooks.fhirdata import Deadline, KeyData, Template, gather
from limbguard.cdshooks.limbguard_data import Lookup
from limbguard.cdshooks.schemas import (
    CdsRequest,
    CdsResponse,
    OrderSelectContext,
    OrderSignContext,
    PatientViewContext,
    Service,
)
from limbguard.registry.models import Patient
from limbguard.treatment import gate

_M = TypeVar("_M", bound=BaseModel)

ORDER_CHECK: Final = "limb-salvage-order-check"
LIMB_STATUS: Final = "limb-status"

_PATIENT: Final = Template("Patient/{{context.patientId}}", "Patient")
_EVALUATION_FILTER: Final = rules.prefetch_code_filter(*rules.evaluation_codes().items())
ORDER_TEMPLATES: Final = {
    "patient": _PATIENT,
    "procedures": Template(
        f"Procedure?patient={{{{context.patientId}}}}&code={_EVALUATION_FILTER}", "Bundle"
    ),
    "observations": Template(
        f"Observation?patient={{{{context.patientId}}}}&code={_EVALUATION_FILTER}", "Bundle"
    ),
    "consults": Template("ServiceRequest?patient={{context.patientId}}&status=completed", "Bundle"),
}
STATUS_TEMPLATES: Final = {"patient": _PATIENT}
_EVIDENCE_KEYS: Final = ("procedures", "observations", "consults")
# What each service reads about a matched patient (named in the audit row).
ORDER_READ: Final = ("assessments", "limb salvage reviews", "staging", "limbs")
STATUS_READ: Final = ("limbs", "staging", "wounds")
_KEY_NAMES: Final = {
    "procedures": "EHR procedures (arterial studies)",
    "observations": "EHR results (ABI, TBI, pressures)",
    "consults": "EHR completed consults",
}

_ORDER_DESCRIPTION: Final = (
    "When a lower-limb amputation is selected or signed, checks for a vascular evaluation "
    "(ABI/TBI or toe pressures, arterial duplex, angiography, or a vascular consult) in "
    "the configured window and, when there is none, suggests ordering one."
)
SERVICES: Final = (
    Service(
        hook="order-select",
        id=ORDER_CHECK,
        title="LimbGuard: vascular evaluation before amputation",
        description=_ORDER_DESCRIPTION,
        prefetch={key: t.query for key, t in ORDER_TEMPLATES.items()},
        usageRequirements="Lower-limb amputation orders coded in CPT or SNOMED CT.",
    ),
    Service(
        hook="order-sign",
        id=ORDER_CHECK,
        title="LimbGuard: vascular evaluation before amputation",
        description=_ORDER_DESCRIPTION,
        prefetch={key: t.query for key, t in ORDER_TEMPLATES.items()},
        usageRequirements="Lower-limb amputation orders coded in CPT or SNOMED CT.",
    ),
    Service(
        hook="patient-view",
        id=LIMB_STATUS,
        title="LimbGuard: limb status",
        description=(
            "For a patient LimbGuard follows: latest ABI/TBI per leg, WIfI stage and open "
            "wounds with their area trend, in one concise card."
        ),
        prefetch={key: t.query for key, t in STATUS_TEMPLATES.items()},
    ),
)
HOOKS: Final = {
    ORDER_CHECK: frozenset({"order-select", "order-sign"}),
    LIMB_STATUS: frozenset({"patient-view"}),
}


class InvalidContext(ValueError):
    """The hook's context is missing fields or malformed (400)."""


class PreconditionFailed(Exception):
    """Nothing the service needs could be obtained (412, CDS Hooks 2.0.1)."""


@dataclass(frozen=True)
class Call:
    request: CdsRequest
    client: conf.Client
    service_id: str
    deadline: Deadline
    # Lookups that ran, for the audit trail: appended as they happen, written by the
    # view in one transaction with the issued cards, whatever the call's outcome.
    lookups: list[services.LookupDone] = field(default_factory=list)

    @property
    def hook(self) -> services.Hook:
        return services.Hook(
            client=self.client,
            service_id=self.service_id,
            hook=self.request.hook,
            hook_instance=self.request.hookInstance,
        )


@dataclass(frozen=True)
class Result:
    response: CdsResponse
    patient: Patient | None = None
    cards: tuple[cards.Built, ...] = ()


def _context(model: type[_M], context: dict[str, Any]) -> _M:
    try:
        return model.model_validate(context)
    except ValidationError as error:
        first = error.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in ("context", *first["loc"]))
        raise InvalidContext(f"{where}: {first['msg']}") from None


def patient_url(patient_id: int) -> str:
    return f"{conf.base_url()}/{_chart_path(get_script_prefix(), patient_id)}"


@functools.lru_cache(maxsize=4096)
def _chart_path(script_prefix: str, patient_id: int) -> str:
    """The chart's path below the site root (`reverse` costs more than the rest of
    building a card's links; the URL configuration is fixed for the process)."""
    path = reverse("registry:patient_chart", args=[patient_id])
    return path.removeprefix(script_prefix).lstrip("/")


def _lookup(call: Call, data: dict[str, KeyData], read: tuple[str, ...]) -> Lookup:
    """Match the EHR's patient in the registry; a lookup that ran is noted for audit."""
    resources = data["patient"].resources
    lookup = limbguard_data.find_patient(call.client, resources[0] if resources else None)
    if lookup.identifiers_tried:
        call.lookups.append(services.LookupDone(lookup=lookup, read=read if lookup.patient else ()))
    return lookup


def order_check(call: Call) -> Result:
    if call.request.hook == "order-select":
        select = _context(OrderSelectContext, call.request.context)
        chosen = set(select.selections)
        resources = [
            r
            for r in select.draftOrders.resources()
            if f"{r.get('resourceType')}/{r.get('id')}" in chosen
        ]
        context: OrderSignContext = select
    else:
        context = _context(OrderSignContext, call.request.context)
        resources = context.draftOrders.resources()
    orders = rules.amputation_orders(resources, context.patientId)
    if not orders:
        return Result(CdsResponse(cards=[]))

    data = gather(call.request, call.client, ORDER_TEMPLATES, context.patientId, call.deadline)
    today = timezone.localdate()
    window = conf.evaluation_days()
    since = today - dt.timedelta(days=window)
    consult = call.client.config.vascular_consult
    evidence = rules.fhir_evidence(
        procedures=data["procedures"].resources,
        observations=data["observations"].resources,
        consults=data["consults"].resources,
        patient_id=context.patientId,
        since=since,
        today=today,
        consult_codings=[(consult.system, consult.code)] if consult else [],
    )
    wifi = rules.fhir_wifi_stages(data["observations"].resources, context.patientId)
    lookup = _lookup(call, data, ORDER_READ)
    checks = [
        cards.SourceCheck(_KEY_NAMES[key], data[key].complete, data[key].note)
        for key in _EVIDENCE_KEYS
    ]
    gates: tuple[gate.GateDecision, ...] = ()
    if lookup.patient is not None:
        registry = limbguard_data.record(lookup.patient, since=since, today=today)
        evidence = sorted([*evidence, *registry.evaluations], key=lambda e: e.on, reverse=True)
        wifi = list(registry.wifi) or wifi
        gates = registry.gates
        checks.append(cards.SourceCheck("LimbGuard registry", True, decisive=False))
    elif not any(data[key].obtained or data[key].asked_server for key in _EVIDENCE_KEYS):
        # No route to any data. (A server that was asked but failed or ran out of time
        # is answered with what LimbGuard has: a warning card saying what is missing.)
        raise PreconditionFailed(
            "no vascular history could be obtained: send the prefetch keys or a fhirServer "
            "with fhirAuthorization that LimbGuard may use"
        )
    elif lookup.identifiers_tried:
        checks.append(
            cards.SourceCheck(
                "LimbGuard registry", True, "the patient is not followed here", decisive=False
            )
        )
    else:
        note = "no identifier of the patient that LimbGuard can match"
        checks.append(cards.SourceCheck("LimbGuard registry", False, note, decisive=False))

    link_list = cards.links(
        patient_url=patient_url(lookup.patient.pk) if lookup.patient is not None else None,
        smart_url=call.client.config.smart_launch_url,
        fhir_patient_id=context.patientId,
    )
    if evidence:
        built = cards.evaluation_found(
            evaluations=evidence,
            wifi=wifi,
            gates=gates,
            orders=orders,
            window_days=window,
            link_list=link_list,
        )
    else:
        built = cards.no_evaluation(
            orders=orders,
            checks=checks,
            window_days=window,
            suggestion_list=cards.suggestions(
                patient_id=context.patientId,
                encounter_id=context.encounterId,
                orders=orders,
                consult=consult,
            ),
            link_list=link_list,
        )
    return Result(CdsResponse(cards=[built.card]), lookup.patient, (built,))


def limb_status(call: Call) -> Result:
    context = _context(PatientViewContext, call.request.context)
    data = gather(call.request, call.client, STATUS_TEMPLATES, context.patientId, call.deadline)
    if not data["patient"].obtained:
        raise PreconditionFailed(
            "the Patient resource could not be obtained: send prefetch.patient or a "
            "fhirServer with fhirAuthorization that LimbGuard may use"
        )
    lookup = _lookup(call, data, STATUS_READ)
    if lookup.patient is None:
        return Result(CdsResponse(cards=[]))
    status = limbguard_data.limb_status(lookup.patient, today=timezone.localdate())
    built = cards.limb_status(
        status,
        cards.links(
            patient_url=patient_url(lookup.patient.pk),
            smart_url=call.client.config.smart_launch_url,
            fhir_patient_id=context.patientId,
        ),
    )
    found = (built,) if built is not None else ()
    return Result(CdsResponse(cards=[b.card for b in found]), lookup.patient, found)


HANDLERS: Final[dict[str, Callable[[Call], Result]]] = {
    ORDER_CHECK: order_check,
    LIMB_STATUS: limb_status,
}

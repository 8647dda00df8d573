"""The cards LimbGuard shows inside the EHR (CDS Hooks 2.0.1 "Card Attributes").

Order check (order-select / order-sign with a lower-limb amputation among the orders):

* evaluation on record in the window: an `info` card with its date and the limb's WIfI
  stage (and, when LimbGuard knows the patient, its own amputation gate state);
* none, and every source could be checked: a `critical` card with suggestions to order a
  vascular surgery consult and non-invasive arterial studies, override reasons, a link
  to the patient in LimbGuard and, when configured, a SMART link;
* none found, but some source could not be checked (not sent, failed, timed out): a
  `warning` card saying so, with the same suggestions.

Limb status (patient-view): one concise `info` card (`warning` when a wound is off
track), or no card when LimbGuard has nothing to say.

Every card and suggestion carries a uuid, so that feedback can be tied to it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from limbguard.cdshooks import conf
from limbguard.cdshooks.limbguard_data import LimbStatusData
from limbguard.cdshooks.models import CardKind
from limbguard.cdshooks.rules import (
    CDS_CODE_SYSTEM,
    LIMBGUARD_FHIR,
    SOURCE,
    SUGGESTED_STUDIES_CPT,
    VASCULAR_CONSULT_CODE,
    Evidence,
    Order,
    WifiStage,
)
from limbguard.cdshooks.schemas import (
    SUMMARY_MAX,
    Action,
    Card,
    Coding,
    Link,
    Source,
    Suggestion,
)
from limbguard.treatment import gate
from limbguard.vascular import codes
from limbguard.vascular.codes.vocabulary import CodeSystem

SOURCE_LABEL: Final = "LimbGuard limb salvage program"
OVERRIDE_SYSTEM: Final = f"{LIMBGUARD_FHIR}/CodeSystem/amputation-gate-override"
# The amputation gate's own reasons (treatment.gate.OverrideReason), plus one that only
# arises in an EHR: the evaluation happened somewhere this record does not reach
# (interop.md A11, "evaluation done elsewhere").
EVALUATED_ELSEWHERE: Final = ("evaluated_elsewhere", "Vascular evaluation done elsewhere")
TOPIC_ORDER: Final = Coding(
    system=CDS_CODE_SYSTEM,
    code="amputation-vascular-evaluation",
    display="Vascular evaluation before amputation",
)
TOPIC_STATUS: Final = Coding(system=CDS_CODE_SYSTEM, code="limb-status", display="Limb status")


@dataclass(frozen=True)
class SourceCheck:
    """One place the order check looked, and whether it could read it."""

    name: str
    checked: bool
    note: str = ""
    # The EHR's own record decides whether "none on record" can be said; LimbGuard's
    # registry only adds to it (most patients an EHR asks about are not followed here).
    decisive: bool = True


@dataclass(frozen=True)
class Built:
    """A card, and what LimbGuard keeps about it for feedback."""

    card: Card
    kind: CardKind

    @property
    def card_uuid(self) -> uuid.UUID:
        """Every card LimbGuard builds has a uuid (feedback needs it)."""
        assert self.card.uuid is not None
        return self.card.uuid

    @property
    def suggestion_uuids(self) -> list[str]:
        return [str(s.uuid) for s in self.card.suggestions or [] if s.uuid is not None]


def summary(text: str) -> str:
    """One sentence under 140 characters (2.0.1); cut at a word with an ellipsis."""
    if len(text) <= SUMMARY_MAX:
        return text
    return text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _side(side: str | None) -> str:
    return {"left": "left leg", "right": "right leg", "both": "both legs"}.get(side or "", "")


def _source() -> Source:
    return Source.model_validate({"label": SOURCE_LABEL, "url": conf.base_url()})


def override_reasons() -> list[Coding]:
    reasons = [(reason.value, reason.label) for reason in gate.OverrideReason]
    reasons.insert(-1, EVALUATED_ELSEWHERE)  # keep "Other" last
    return [Coding(system=OVERRIDE_SYSTEM, code=code, display=text) for code, text in reasons]


def links(
    *, patient_url: str | None, smart_url: str | None, fhir_patient_id: str
) -> list[Link] | None:
    found = []
    if patient_url is not None:
        found.append(
            Link.model_validate(
                {"label": "Open the patient in LimbGuard", "url": patient_url, "type": "absolute"}
            )
        )
    if smart_url is not None:
        found.append(
            Link.model_validate(
                {
                    "label": "Open LimbGuard (SMART app)",
                    "url": smart_url,
                    "type": "smart",
                    "appContext": json.dumps({"patient": fhir_patient_id}),
                }
            )
        )
    return found or None


def _service_request(
    *,
    code: dict[str, str],
    text: str,
    patient_id: str,
    encounter_id: str | None,
    orders: Sequence[Order],
    note: str,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "priority": "urgent",
        "code": {"coding": [code], "text": text},
        "subject": {"reference": f"Patient/{patient_id}"},
        "note": [{"text": note}],
    }
    if encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    reasons = [{"reference": o.reference} for o in orders if o.reference]
    if reasons:
        resource["reasonReference"] = reasons
    return resource


def suggestions(
    *,
    patient_id: str,
    encounter_id: str | None,
    orders: Sequence[Order],
    consult: conf.CodingConfig | None,
) -> list[Suggestion]:
    note = "Suggested by LimbGuard: vascular evaluation before a planned amputation."
    consult_code = (
        consult.model_dump()
        if consult is not None
        else {
            "system": CDS_CODE_SYSTEM,
            "code": VASCULAR_CONSULT_CODE,
            "display": "Vascular surgery consultation",
        }
    )
    found = [
        Suggestion(
            label="Order a vascular surgery consultation (limb salvage evaluation)",
            uuid=uuid.uuid4(),
            isRecommended=True,
            actions=[
                Action(
                    type="create",
                    description="Create an order for a vascular surgery consultation",
                    resource=_service_request(
                        code=consult_code,
                        text="Vascular surgery consultation: limb salvage evaluation",
                        patient_id=patient_id,
                        encounter_id=encounter_id,
                        orders=orders,
                        note=note,
                    ),
                )
            ],
        )
    ]
    for cpt in SUGGESTED_STUDIES_CPT:
        label = codes.label(CodeSystem.CPT.value, cpt) or f"CPT {cpt}"
        found.append(
            Suggestion(
                label=f"Order {label[0].lower()}{label[1:]} (CPT {cpt})",
                uuid=uuid.uuid4(),
                actions=[
                    Action(
                        type="create",
                        description=f"Create an order for CPT {cpt}: {label}",
                        resource=_service_request(
                            code={"system": CodeSystem.CPT.fhir_uri, "code": cpt, "display": label},
                            text=label,
                            patient_id=patient_id,
                            encounter_id=encounter_id,
                            orders=orders,
                            note=note,
                        ),
                    )
                ],
            )
        )
    return found


def _orders_text(orders: Sequence[Order]) -> str:
    return "; ".join(f"{o.label}{f' ({_side(o.side)})' if o.side else ''}" for o in orders)


def _wifi_text(wifi: Sequence[WifiStage], orders: Sequence[Order]) -> str:
    sides = {o.side for o in orders if o.side in {"left", "right"}}
    chosen = [w for w in wifi if not sides or w.side in sides or w.side is None]
    return ", ".join(
        f"{_side(w.side) or 'limb'} WIfI stage {w.stage}" for w in sorted(chosen, key=str)
    )


def _checks_text(checks: Sequence[SourceCheck]) -> str:
    lines = []
    for check in checks:
        mark = "checked" if check.checked else "**not checked**"
        lines.append(f"- {check.name}: {mark}{f' ({check.note})' if check.note else ''}")
    return "\n".join(lines)


def evaluation_found(
    *,
    evaluations: Sequence[Evidence],
    wifi: Sequence[WifiStage],
    gates: Sequence[gate.GateDecision],
    orders: Sequence[Order],
    window_days: int,
    link_list: list[Link] | None,
) -> Built:
    newest = evaluations[0]
    stage = _wifi_text(wifi, orders)
    text = f"Vascular evaluation on record: {newest.kind} on {newest.on:%Y-%m-%d}"
    lines = [
        f"Ordered: {_orders_text(orders)}.",
        "",
        f"Vascular evaluations in the last {window_days} days:",
        *(
            f"- {e.on:%Y-%m-%d}: {e.label}"
            f"{f' ({_side(e.side)})' if e.side in {'left', 'right', 'both'} else ''}"
            f", from {e.origin}"
            for e in evaluations[:6]
        ),
    ]
    if stage:
        lines += ["", f"WIfI clinical stage: {stage}."]
    ordered_sides = {o.side for o in orders} & {"left", "right"}
    if any(o.side in {None, "both"} for o in orders):
        ordered_sides = {"left", "right"}
    for decision in (g for g in gates if g.side in ordered_sides):
        lines += [
            "",
            f"LimbGuard amputation gate, {decision.side} leg: **{decision.state}** "
            f"({'; '.join(decision.reasons)}).",
        ]
    lines += ["", f"Source: {SOURCE}"]
    card = Card(
        uuid=uuid.uuid4(),
        summary=summary(f"{text}; {stage}" if stage else text),
        detail="\n".join(lines),
        indicator="info",
        source=_source().model_copy(update={"topic": TOPIC_ORDER}),
        links=link_list,
    )
    return Built(card=card, kind=CardKind.EVALUATION_FOUND)


def no_evaluation(
    *,
    orders: Sequence[Order],
    checks: Sequence[SourceCheck],
    window_days: int,
    suggestion_list: list[Suggestion],
    link_list: list[Link] | None,
) -> Built:
    complete = all(check.checked for check in checks if check.decisive)
    indicator: Literal["critical", "warning"]
    if complete:
        text = f"Amputation ordered: no vascular evaluation in the last {window_days} days"
        indicator, kind = "critical", CardKind.NO_EVALUATION
        opening = (
            f"No vascular evaluation (ABI/TBI or toe pressures, arterial duplex, angiography, "
            f"or a vascular consult) is on record in the last {window_days} days."
        )
    else:
        text = (
            "Amputation ordered: LimbGuard could not confirm a vascular evaluation "
            f"in {window_days} days"
        )
        indicator, kind = "warning", CardKind.UNVERIFIED
        opening = (
            "LimbGuard found no vascular evaluation in the data it could read, but some "
            "sources could not be checked (below)."
        )
    lines = [
        f"Ordered: {_orders_text(orders)}.",
        "",
        opening,
        "Before an amputation, the limb should be evaluated by a vascular specialist, with "
        "haemodynamic testing and arterial imaging, to look for a chance to revascularize.",
        "",
        "Where LimbGuard looked:",
        _checks_text(checks),
        "",
        f"Source: {SOURCE}",
    ]
    card = Card(
        uuid=uuid.uuid4(),
        summary=summary(text),
        detail="\n".join(lines),
        indicator=indicator,
        source=_source().model_copy(update={"topic": TOPIC_ORDER}),
        suggestions=suggestion_list,
        selectionBehavior="any",
        overrideReasons=override_reasons(),
        links=link_list,
    )
    return Built(card=card, kind=kind)


def _fmt_index(name: str, value: tuple[float, dt.date] | None) -> str | None:
    return None if value is None else f"{name} {value[0]:.2f} ({value[1]:%Y-%m-%d})".strip()


def limb_status(data: LimbStatusData, link_list: list[Link] | None) -> Built | None:
    """One concise card, or None when LimbGuard has nothing to say."""
    if not data.has_content:
        return None
    parts = [f"{line.side} leg {line.urgency}" for line in data.limbs if line.urgency is not None]
    rows = ["| Leg | Status | ABI | TBI | WIfI stage |", "|---|---|---|---|---|"]
    for line in data.limbs:
        short = line.side[0].upper()
        indices = [t for t in (_fmt_index("ABI", line.abi), _fmt_index("TBI", line.tbi)) if t]
        if indices:
            parts.append(f"{short}: " + ", ".join(i.split(" (")[0] for i in indices))
        if line.wifi is not None:
            parts.append(f"WIfI {short}{line.wifi.stage}")
        rows.append(
            f"| {line.side.title()} | {line.status} | {_fmt_index('', line.abi) or '—'} | "
            f"{_fmt_index('', line.tbi) or '—'} | "
            f"{line.wifi.stage if line.wifi else '—'} |"
        )
    off_track = [w for w in data.wounds if w.off_track]
    if data.wounds:
        parts.append(
            f"{len(data.wounds)} open wound{'s' if len(data.wounds) != 1 else ''}"
            + (f" ({len(off_track)} off track)" if off_track else "")
        )
    lines = ["Latest in LimbGuard:", "", *rows]
    for line in data.limbs:
        if line.urgency is not None:
            lines += ["", f"**{line.side.title()} leg: {line.urgency}**: {line.urgency_rule}."]
    if data.wounds:
        lines += ["", "Open wounds (area trend from the first measurement):"]
        for w in data.wounds:
            change = (
                f"{-w.percent_reduction:+.0f} % since {w.since:%Y-%m-%d}"
                if w.percent_reduction is not None
                else f"first measured {w.since:%Y-%m-%d}"
            )
            flag = " — **off track** at 4 weeks" if w.off_track else ""
            lines.append(f"- {w.label} ({w.side} leg): {w.area_cm2:.1f} cm², {change}{flag}")
    for title, items in (
        ("Overdue follow-ups", data.overdue_followups),
        ("Open care-team tasks", data.open_tasks),
    ):
        if items:
            lines += ["", f"{title}:", *(f"- {item}" for item in items)]
    card = Card(
        uuid=uuid.uuid4(),
        summary=summary("LimbGuard: " + "; ".join(parts) if parts else "LimbGuard limb status"),
        detail="\n".join(lines),
        indicator="warning"
        if off_track or data.overdue_followups or any(line.urgency for line in data.limbs)
        else "info",
        source=_source().model_copy(update={"topic": TOPIC_STATUS}),
        links=link_list,
    )
    return Built(card=card, kind=CardKind.LIMB_STATUS)

"""`cdshooks.sql` (plain SQL on the order check's path) reads and writes what the ORM does.

Each read is compared with the queryset it replaced, on a patient whose record holds
the cases the SQL must get right: an assessment re-staged (newest snapshot wins), an
assessment and a review entered in error, rows of another patient, imported
procedures and results inside and outside the window, of other statuses and codes.
Runs on both engines (.ci/run passes SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, OuterRef, Q, Subquery
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.assessments.models import Assessment, StagingSnapshot
from limbguard.assessments.services import do_retire_assessment, do_update_assessment
from limbguard.cdshooks import sql
from limbguard.cdshooks.models import CardKind, IssuedCard, UsedToken
from limbguard.registry import rows
from limbguard.registry.models import Limb, Patient, PatientIdentifier
from limbguard.registry.models import Observation as RegistryObservation
from limbguard.registry.models import Procedure as RegistryProcedure
from limbguard.testing import Personas
from limbguard.treatment.models import LimbSalvageReview
from limbguard.treatment.services import do_sign_review
from tests.assessments.conftest import ARMS, assess
from tests.cdshooks.support import CPT, LOINC, MRN_SYSTEM

CODES = ("93922", "93925", "8581-1")


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def patient(patient_at: Callable[..., Patient], personas: Personas, today: dt.date) -> Patient:
    patient = patient_at("harbor", mrn="LG-7001")
    other = patient_at("harbor", mrn="LG-7002")
    restaged = assess(patient, "left", visit_date=today - dt.timedelta(days=3), **ARMS)
    do_update_assessment(
        acting_user=None,
        assessment=restaged,
        expected_version=restaged.version,
        ankle_dp=60,
        ankle_pt=55,
        toe_pressure=30,
    )
    assess(patient, "right", visit_date=today - dt.timedelta(days=3), arterial_duplex_done=True)
    assess(patient, "left", visit_date=today - dt.timedelta(days=40), angiography_done=True)
    wrong = assess(patient, "right", visit_date=today, ankle_dp=90, **ARMS)
    do_retire_assessment(acting_user=None, assessment=wrong, reason="other patient's chart")
    assess(other, "left", visit_date=today, arterial_duplex_done=True)
    for side, days in (("left", 5), ("right", 5), ("left", 50)):
        do_sign_review(
            acting_user=personas["vascular_specialist"],
            patient=patient,
            limb=patient.limbs.get(side=side),
            conclusion="revascularize",
            summary="Reviewed.",
            signed_on=today - dt.timedelta(days=days),
        )
    LimbSalvageReview.objects.filter(pk=LimbSalvageReview.objects.latest("id").pk).update(
        entered_in_error=True
    )
    for days, code, status, error in (
        (4, "93925", "completed", False),
        (4, "93922", "completed", False),
        (4, "93925", "in-progress", False),
        (4, "93925", "completed", True),
        (45, "93922", "completed", False),
        (4, "99999", "completed", False),
    ):
        RegistryProcedure.objects.create(
            patient=patient,
            system=CPT,
            code=code,
            status=status,
            entered_in_error=error,
            laterality="left",
            performed_date=today - dt.timedelta(days=days),
        )
    for days, status in ((2, "final"), (2, "amended"), (2, "preliminary"), (31, "final")):
        RegistryObservation.objects.create(
            patient=patient,
            system=LOINC,
            code="8581-1",
            status=status,
            display="TBI",
            effective_date=today - dt.timedelta(days=days),
        )
    RegistryObservation.objects.create(
        patient=other, system=LOINC, code="8581-1", status="final", effective_date=today
    )
    return patient


def test_visits_match_the_orm(patient: Patient) -> None:
    latest = Subquery(
        StagingSnapshot.objects.filter(assessment=OuterRef("pk")).order_by("-id").values("id")[:1]
    )
    expected = [
        (
            row["visit_date"],
            row["limb__side"],
            row["arterial_duplex_done"],
            row["angiography_done"],
            any(row[k] is not None for k in ("ankle_dp", "ankle_pt", "toe_pressure")),
            StagingSnapshot.objects.get(pk=row["latest"]).outputs,
        )
        for row in Assessment.objects.filter(patient=patient, entered_in_error=False)
        .annotate(latest=latest)
        .order_by("-visit_date", "-id")
        .values(
            "visit_date",
            "limb__side",
            "arterial_duplex_done",
            "angiography_done",
            "ankle_dp",
            "ankle_pt",
            "toe_pressure",
            "latest",
        )
    ]
    found = [
        (v.on, v.side, v.duplex, v.angiography, v.pressures, v.outputs)
        for v in sql.visits(patient.pk, limit=200)
    ]
    assert found == expected
    assert len(found) == 3
    restaged = found[1]
    assert restaged[1] == "left"
    assert restaged[5]["values"]["abi"] is not None  # the newest snapshot, not the first
    assert sql.visits(patient.pk, limit=1) == sql.visits(patient.pk, limit=200)[:1]


def test_reviews_and_limbs_match_the_orm(patient: Patient) -> None:
    assert sql.reviews(patient.pk) == list(
        LimbSalvageReview.objects.filter(patient=patient, entered_in_error=False).values_list(
            "limb__side", "signed_on", "signer_name"
        )
    )
    assert len(sql.reviews(patient.pk)) == 2
    assert sql.limbs(patient.pk) == list(
        Limb.objects.filter(patient=patient).values_list("side", "status")
    )


def test_coded_rows_match_the_orm(patient: Patient, today: dt.date) -> None:
    since = today - dt.timedelta(days=30)
    columns = ("system", "code", "display", "laterality")
    expected = [
        *RegistryProcedure.objects.filter(
            patient=patient,
            entered_in_error=False,
            status="completed",
            performed_date__range=(since, today),
            code__in=CODES,
        ).values_list(*columns, "performed_date"),
        *RegistryObservation.objects.filter(
            patient=patient,
            entered_in_error=False,
            status__in=sql.FINAL_STATUSES,
            effective_date__range=(since, today),
            code__in=CODES,
        ).values_list(*columns, "effective_date"),
    ]
    found = sql.coded_rows(patient.pk, codes=CODES, since=since, today=today)
    assert found == expected
    assert [(code, on) for _, code, _, _, on in found] == [
        ("93925", today - dt.timedelta(days=4)),
        ("93922", today - dt.timedelta(days=4)),
        ("8581-1", today - dt.timedelta(days=2)),
        ("8581-1", today - dt.timedelta(days=2)),
    ]


@pytest.mark.parametrize("centers", [None, ("harbor",), ("coastal",), ()])
def test_matching_patients_match_the_orm(
    patient: Patient, patient_at: Callable[..., Patient], centers: tuple[str, ...] | None
) -> None:
    elsewhere = patient_at("coastal", mrn="LG-7003")
    PatientIdentifier.objects.create(patient=elsewhere, system=MRN_SYSTEM, value="H-1")
    PatientIdentifier.objects.create(patient=patient, system="urn:other", value="H-2")
    cases: list[tuple[set[str], set[tuple[str, str]]]] = [
        ({"LG-7001"}, set()),
        ({"lg-7001"}, set()),
        ({"H-1"}, {(MRN_SYSTEM, "H-1")}),
        ({"H-2"}, {(MRN_SYSTEM, "H-2")}),  # the value under another system
        ({"LG-7001", "H-1"}, {(MRN_SYSTEM, "H-1")}),
        ({"nobody"}, set()),
        (set(), set()),
    ]
    for mrns, pairs in cases:
        wanted = Q(mrn__in=mrns)
        for system, value in pairs:
            wanted |= Q(identifiers__system=system, identifiers__value=value)
        query = Patient.objects.filter(wanted)
        if centers is not None:
            query = query.filter(home_center__slug__in=centers)
        expected = sorted(query.distinct().values_list("id", flat=True)) if mrns or pairs else []
        found = sql.matching_patients(mrns=mrns, identifiers=pairs, centers=centers)
        assert [p.pk for p in found] == expected[:2], (mrns, pairs)
        for match in found:
            assert (match.mrn, match.home_center_id) == Patient.objects.values_list(
                "mrn", "home_center_id"
            ).get(pk=match.pk)


def test_matching_patients_reads_indexes_on_sqlite(patient: Patient) -> None:
    """Each branch of the match is an index search: no scan of every patient, which
    would grow with the registry (EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by
    table size, so the plan is pinned where it is deterministic)."""
    with CaptureQueriesContext(connection) as queries:
        sql.matching_patients(mrns={"LG-7001"}, identifiers={(MRN_SYSTEM, "H-1")}, centers=None)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {queries.captured_queries[0]['sql']}")
            steps = [row[3] for row in cursor.fetchall()]
        assert not [step for step in steps if step.startswith("SCAN")], steps
    assert len(queries) == 1


# --- inserts ----------------------------------------------------------------------------


def _stored(model: type[Model], pk: int) -> dict[str, Any]:
    values = model_to_dict(model.objects.get(pk=pk))  # type: ignore[attr-defined]
    values.pop("id")
    return values


def test_insert_writes_what_the_orm_writes(patient: Patient) -> None:
    """Same values through `rows.insert_values` and through the ORM read back the same, on the
    engine the tests run on (UUIDs, JSON, aware date-times, nulls)."""
    now = timezone.now()
    card_uuid = uuid.uuid4()
    card: dict[str, Any] = {
        "uuid": card_uuid,
        "service_id": "limb-salvage-order-check",
        "hook": "order-sign",
        "hook_instance": uuid.uuid4(),
        "client": "harbor-ehr",
        "kind": CardKind.NO_EVALUATION.value,
        "indicator": "critical",
        "suggestion_uuids": [str(uuid.uuid4()), str(uuid.uuid4())],
        "patient_id": patient.pk,
        "center_id": None,
        "issued_at": now,
    }
    rows.insert_values(IssuedCard, [card])
    mine = IssuedCard.objects.get(uuid=card_uuid)
    orm = IssuedCard.objects.create(**{**card, "uuid": uuid.uuid4()})
    assert {**_stored(IssuedCard, mine.pk), "uuid": None} == {
        **_stored(IssuedCard, orm.pk),
        "uuid": None,
    }
    assert mine.issued_at == now
    assert IssuedCard.objects.filter(issued_at=now).count() == 2

    expires = now + dt.timedelta(minutes=5)
    rows.insert_values(UsedToken, [{"key": "a" * 64, "expires_at": expires}])
    assert UsedToken.objects.get(key="a" * 64).expires_at == expires
    assert UsedToken.objects.filter(expires_at__lt=expires + dt.timedelta(seconds=1)).count() == 1
    assert not UsedToken.objects.filter(expires_at__lt=expires).exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert_values(UsedToken, [{"key": "a" * 64, "expires_at": expires}])


@pytest.mark.parametrize("matched", [True, False])
def test_lookup_audit_rows_are_what_audit_record_writes(
    patient: Patient, clients_file: Callable[..., Any], matched: bool
) -> None:
    from limbguard.cdshooks import conf, services
    from limbguard.cdshooks.limbguard_data import Lookup

    clients_file()
    client = next(iter(conf.clients().by_iss.values()))
    hook = services.Hook(
        client=client,
        service_id="limb-salvage-order-check",
        hook="order-sign",
        hook_instance=uuid.uuid4(),
    )
    lookup = Lookup(patient=patient if matched else None, identifiers_tried=1)
    done = services.LookupDone(lookup=lookup, read=("limbs",) if matched else ())
    services.do_record_call(
        token=None, hook=hook, lookups=[done], patient=None, cards=(), ip_address="10.0.0.9"
    )
    mine = AuditEvent.objects.get(actor_name="cds-client:harbor-ehr")
    expected = audit.record(
        acting_user=services.client_account(client),
        action=AuditAction.VIEW if matched else AuditAction.SEARCH,
        patient_id=patient.pk if matched else None,
        obj=patient if matched else None,
        summary=mine.summary,
        changes=mine.changes,
        ip_address="10.0.0.9",
    )
    assert {**_stored(AuditEvent, mine.pk), "at": None} == {
        **_stored(AuditEvent, expected.pk),
        "at": None,
    }
    assert mine.actor_name == "cds-client:harbor-ehr"
    assert mine.changes["hookInstance"] == str(hook.hook_instance)

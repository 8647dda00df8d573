"""Roles and the permissions each one holds, declared here and synced into groups.

`sync_roles()` runs after every `migrate`, so the groups in the database always match
this table: a permission removed here is removed from the group.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    VASCULAR_SPECIALIST = "vascular_specialist"
    WOUND_CARE = "wound_care"
    PODIATRY = "podiatry"
    INFECTIOUS_DISEASE = "infectious_disease"
    ENDOCRINOLOGY = "endocrinology"
    PROGRAM_LEAD = "program_lead"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.FRONT_DESK: "Front desk",
    Role.VASCULAR_SPECIALIST: "Vascular specialist",
    Role.WOUND_CARE: "Care team: wound care",
    Role.PODIATRY: "Care team: podiatry",
    Role.INFECTIOUS_DISEASE: "Care team: infectious disease",
    Role.ENDOCRINOLOGY: "Care team: endocrinology",
    Role.PROGRAM_LEAD: "Program lead",
    Role.ADMINISTRATOR: "Administrator",
}

CARE_TEAM = frozenset({Role.WOUND_CARE, Role.PODIATRY, Role.INFECTIOUS_DISEASE, Role.ENDOCRINOLOGY})

# Demographics: who the patient is and how to reach them (front desk needs these).
_DEMOGRAPHICS_READ = {"registry.view_patient", "registry.view_limb"}
_DEMOGRAPHICS_WRITE = {"registry.add_patient", "registry.change_patient"}
# Clinical record: problems, risk factors, labs, limb status.
_CLINICAL_READ = {"registry.view_problem", "registry.view_riskprofile", "registry.view_labresult"}
_CLINICAL_WRITE = {
    "registry.add_problem",
    "registry.change_problem",
    "registry.change_riskprofile",
    "registry.add_labresult",
    "registry.change_labresult",
}

# Scheduling (issue 7): the calendar, booking and the waitlist; the set-up (rooms,
# visit types, hours, closures) belongs to administrators.
_SCHEDULE_READ = {
    "scheduling.view_appointment",
    "scheduling.view_resource",
    "scheduling.view_visittype",
    "scheduling.view_availabilitytemplate",
    "scheduling.view_availabilityexception",
}
_SCHEDULE_WRITE = {
    "scheduling.add_appointment",
    "scheduling.change_appointment",
    "scheduling.view_waitlistentry",
    "scheduling.add_waitlistentry",
    "scheduling.change_waitlistentry",
}
_SCHEDULE_SETUP = {
    f"scheduling.{verb}_{model}"
    for verb in ("view", "add", "change")
    for model in ("resource", "visittype", "availabilitytemplate", "availabilityexception")
}

# Assessments, staging and pathway (issue 5); photos and snapshots ride on these.
_ASSESSMENT_READ = {"assessments.view_assessment"}
_ASSESSMENT_WRITE = {"assessments.add_assessment", "assessments.change_assessment"}
# Amputation gate (issue 5). Overriding it is granted per user (a senior clinician),
# never by role: treatment.override_amputation_gate.
_GATE_READ = {"treatment.view_amputationorder", "treatment.view_limbsalvagereview"}

# Procedure log, outcome events and follow-up (issue 6): the team reads them; vascular
# specialists log procedures and record follow-up and outcomes.
_TREATMENT_READ = {
    "treatment.view_intervention",
    "treatment.view_outcomeevent",
    "treatment.view_surveillanceplan",
    "treatment.view_caretask",
}
_TREATMENT_LOG = {
    "treatment.add_intervention",
    "treatment.change_intervention",
    "treatment.add_outcomeevent",
    "treatment.change_outcomeevent",
    "treatment.record_followup",
}
# Care-team tasks and referrals (issue 6): create, complete (loop closure), cancel.
_CARE_TEAM_WORK = {"treatment.add_caretask", "treatment.close_caretask"}

# Intake (issue 7): the inbox and triage queue of requests from the public site.
_INTAKE_WORK = {
    "intake.view_intakerequest",
    "intake.change_intakerequest",
    "intake.triage_intakerequest",
}

# FHIR import page (issue 4): upload EHR exports and read their reports.
_FHIR_IMPORT = {"fhir.add_importjob", "fhir.view_importjob"}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.FRONT_DESK: frozenset(
        _DEMOGRAPHICS_READ
        | _DEMOGRAPHICS_WRITE
        | {"clinics.view_center"}
        | _SCHEDULE_READ
        | _SCHEDULE_WRITE
        | _INTAKE_WORK
    ),
    Role.VASCULAR_SPECIALIST: frozenset(
        _DEMOGRAPHICS_READ
        | _DEMOGRAPHICS_WRITE
        | _CLINICAL_READ
        | _CLINICAL_WRITE
        | {"registry.change_limb", "clinics.view_center"}
        | _ASSESSMENT_READ
        | _ASSESSMENT_WRITE
        | _GATE_READ
        | {"treatment.add_amputationorder", "treatment.sign_limbsalvagereview"}
        | _TREATMENT_READ
        | _TREATMENT_LOG
        | _CARE_TEAM_WORK
        | _SCHEDULE_READ
        | _SCHEDULE_WRITE
        | _INTAKE_WORK
    ),
    **{
        role: frozenset(
            _DEMOGRAPHICS_READ
            | _CLINICAL_READ
            | _CLINICAL_WRITE
            | {"clinics.view_center"}
            | _SCHEDULE_READ
            | _ASSESSMENT_READ
            | _GATE_READ
            | (_ASSESSMENT_WRITE if role in {Role.WOUND_CARE, Role.PODIATRY} else set())
            # Podiatrists perform toe and ray amputations: they may plan one (gated).
            | ({"treatment.add_amputationorder"} if role is Role.PODIATRY else set())
            | _TREATMENT_READ
            | _CARE_TEAM_WORK
        )
        for role in CARE_TEAM
    },
    Role.PROGRAM_LEAD: frozenset(
        _DEMOGRAPHICS_READ
        | _CLINICAL_READ
        | {"registry.view_all_centers", "accounts.view_auditevent", "clinics.view_center"}
        | _ASSESSMENT_READ
        | _GATE_READ
        | _SCHEDULE_READ
        | {"intake.view_intakerequest"}
        | _FHIR_IMPORT
        | _TREATMENT_READ
        | {"outcomes.view_analytics"}
    ),
    Role.ADMINISTRATOR: frozenset(
        _FHIR_IMPORT
        | {
            "accounts.view_user",
            "accounts.add_user",
            "accounts.change_user",
            "accounts.view_auditevent",
            "clinics.view_center",
            "clinics.add_center",
            "clinics.change_center",
            "clinics.view_provider",
            "clinics.add_provider",
            "clinics.change_provider",
            "clinics.add_openinghours",
            "clinics.change_openinghours",
            "clinics.view_openinghours",
        }
        | _SCHEDULE_SETUP
    ),
}


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@transaction.atomic
def sync_roles() -> None:
    """Create one group per role and give it exactly the permissions declared above."""
    for role, permissions in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.label)
        group.permissions.set([_permission(p) for p in sorted(permissions)])


def sync_roles_after_migrate(**kwargs: Any) -> None:
    # post_migrate runs app by app; make sure every app's permissions exist first.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))
    sync_roles()


def group_for(role: Role) -> Group:
    return Group.objects.get(name=role.label)

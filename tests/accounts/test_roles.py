"""Roles are groups whose permissions match the table in code, after every migrate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from limbguard.accounts.roles import ROLE_PERMISSIONS, Role, group_for, sync_roles

pytestmark = pytest.mark.django_db


def _perms(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_every_role_has_a_group_with_exactly_its_permissions() -> None:
    sync_roles()
    for role in Role:
        assert _perms(group_for(role)) == set(ROLE_PERMISSIONS[role]), role


def test_sync_removes_a_permission_granted_by_hand() -> None:
    sync_roles()
    group = group_for(Role.FRONT_DESK)
    group.permissions.add(Permission.objects.get(codename="view_auditevent"))
    sync_roles()
    assert "accounts.view_auditevent" not in _perms(group_for(Role.FRONT_DESK))


def test_only_program_leads_see_every_center() -> None:
    assert [r for r in Role if "registry.view_all_centers" in ROLE_PERMISSIONS[r]] == [
        Role.PROGRAM_LEAD
    ]


def test_front_desk_sees_demographics_not_clinical_data() -> None:
    front = ROLE_PERMISSIONS[Role.FRONT_DESK]
    assert "registry.view_patient" in front
    assert not {"registry.view_problem", "registry.view_labresult"} & front

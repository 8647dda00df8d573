"""Named test personas and seeded patients, shared by the test suite and benchmarks.

Django is imported inside the functions so that importing this module (from the
root conftest) does not configure Django for the pure rules tests.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from limbguard.accounts.models import User
    from limbguard.accounts.roles import Role
    from limbguard.clinics.models import Center
    from limbguard.registry.models import Patient

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test persona password)


@dataclass(frozen=True)
class Personas:
    """Who's who in a test: users keyed by role value, plus `outsider` (Coastal only)."""

    centers: dict[str, Center]
    users: dict[str, User]

    def __getitem__(self, key: str) -> User:
        return self.users[key]

    @property
    def outsider(self) -> User:
        return self.users["outsider"]


def make_user(username: str, role: Role, centers: list[Center]) -> User:
    from limbguard.accounts.models import User
    from limbguard.accounts.roles import group_for

    user = User.objects.create_user(username, password=PASSWORD, first_name=username.title())
    user.groups.set([group_for(role)])
    user.centers.set(centers)
    return user


def make_personas() -> Personas:
    """Every role at Harbor (program lead: no center, sees all), and an outsider
    vascular specialist who works only at Coastal."""
    from limbguard.accounts.roles import Role, sync_roles
    from limbguard.config.demo import ensure_centers

    sync_roles()
    centers = ensure_centers()
    users = {
        role.value: make_user(
            role.value, role, [] if role is Role.PROGRAM_LEAD else [centers["harbor"]]
        )
        for role in Role
    }
    users["outsider"] = make_user("outsider", Role.VASCULAR_SPECIALIST, [centers["coastal"]])
    return Personas(centers=centers, users=users)


_mrns = itertools.count(1)


def make_patient(center: Center, **fields: Any) -> Patient:
    from limbguard.registry.services import do_create_patient

    values: dict[str, Any] = {
        "mrn": f"T{next(_mrns):06d}",
        "given_name": "Rosa",
        "family_name": "Example",
        "birth_date": dt.date(1950, 3, 14),
        "sex": "female",
    }
    values.update(fields)
    return do_create_patient(acting_user=None, home_center=center, **values)

"""Writing to the audit trail. Called inside the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.http import HttpRequest

from limbguard import sqlrows
from limbguard.accounts.models import AuditAction, AuditEvent, User


def client_ip(request: HttpRequest) -> str | None:
    """The peer address. X-Forwarded-For is not trusted: a client can forge it."""
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None


def record(
    *,
    acting_user: User | None,
    action: AuditAction,
    patient_id: int | None = None,
    obj: models.Model | None = None,
    summary: str = "",
    changes: Mapping[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=acting_user if acting_user is not None and acting_user.pk else None,
        actor_name=acting_user.get_username() if acting_user is not None else "system",
        action=action,
        patient_id=patient_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:300],
        changes=dict(changes or {}),
        ip_address=ip_address,
    )
    # The row AuditEvent.objects.create() writes, by one plain INSERT (see sqlrows):
    # every audited change and read pays for it.
    sqlrows.insert(event)
    return event


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time | decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields`, JSON-ready (foreign keys as ids)."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}

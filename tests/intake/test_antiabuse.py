"""The per-address rate limit's one statement (count and insert together) against the
ORM: the row it stores is the one `save()` stores, and it refuses exactly when the
ORM's count of recent hits reaches the limit (run on SQLite and, with DATABASE_URL,
on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from limbguard.intake import antiabuse
from limbguard.intake.models import RateLimitHit

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 8, 9, 59, 58, 123456, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=10)


def _row(pk: int) -> tuple[Any, ...]:
    """The row as the database holds it, every column but the key."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT scope, address, at FROM intake_ratelimithit WHERE id = %s", [pk])
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


@pytest.mark.parametrize("address", ["192.0.2.7", "2001:DB8:0:0::1", "::ffff:192.0.2.7"])
def test_the_stored_hit_is_the_row_save_writes(address: str) -> None:
    by_orm = RateLimitHit(scope="public_form", address=address, at=NOW)
    by_orm.save()
    with CaptureQueriesContext(connection) as queries:
        added = antiabuse._add_hit_below_limit(
            scope="public_form", address=address, at=NOW, since=NOW - WINDOW, limit=5
        )
    assert added
    assert len(queries) == 1
    by_sql = RateLimitHit.objects.exclude(pk=by_orm.pk).get()
    assert _row(by_sql.pk) == _row(by_orm.pk)
    by_orm.refresh_from_db()
    assert (by_sql.scope, by_sql.address, by_sql.at) == (by_orm.scope, by_orm.address, NOW)


def test_the_hit_model_has_no_save_receivers() -> None:
    """The statement skips save() and its signals: true only while nothing listens."""
    assert not pre_save.has_listeners(RateLimitHit)
    assert not post_save.has_listeners(RateLimitHit)


def _orm_allows(*, scope: str, address: str, since: dt.datetime, limit: int) -> bool:
    recent = RateLimitHit.objects.filter(scope=scope, address=address, at__gte=since)
    return recent.count() < limit


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_it_refuses_exactly_when_the_orms_count_reaches_the_limit(limit: int) -> None:
    since = NOW - WINDOW
    # Hits that do not count: older than the window, another scope, another address.
    RateLimitHit.objects.create(
        scope="public_form", address="192.0.2.7", at=since - dt.timedelta(microseconds=1)
    )
    RateLimitHit.objects.create(scope="public_reply", address="192.0.2.7", at=NOW)
    RateLimitHit.objects.create(scope="public_form", address="192.0.2.8", at=NOW)
    outcomes = []
    for i in range(limit + 2):
        at = since + dt.timedelta(seconds=i)  # the first one exactly at the window's start
        expected = _orm_allows(scope="public_form", address="192.0.2.7", since=since, limit=limit)
        before = RateLimitHit.objects.count()
        added = antiabuse._add_hit_below_limit(
            scope="public_form", address="192.0.2.7", at=at, since=since, limit=limit
        )
        assert added == expected
        assert RateLimitHit.objects.count() == before + int(added)
        outcomes.append(added)
    assert outcomes == [True] * limit + [False, False]


def test_check_rate_refuses_the_attempt_past_the_limit(settings: Settings) -> None:
    settings.INTAKE_RATE_LIMIT = 2
    for _ in range(2):
        antiabuse.check_rate(scope="public_form", address="203.0.113.9", now=NOW)
    with pytest.raises(antiabuse.Refused, match="Too many submissions"), transaction.atomic():
        antiabuse.check_rate(scope="public_form", address="203.0.113.9", now=NOW)
    assert RateLimitHit.objects.filter(address="203.0.113.9").count() == 2
    later = NOW + dt.timedelta(seconds=settings.INTAKE_RATE_WINDOW + 1)
    antiabuse.check_rate(scope="public_form", address="203.0.113.9", now=later)
    assert RateLimitHit.objects.filter(address="203.0.113.9").count() == 3

"""Anti-abuse for the public forms: a signed single-use arithmetic challenge, a
honeypot field, and per-address rate limits kept in the database (so that every
gunicorn worker and every server share them, with no cache server).

Each failed check raises `Refused` with a message for the person at the keyboard;
the view stores nothing then.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.utils import timezone

from limbguard import sqlrows
from limbguard.intake.models import ChallengeUse, RateLimitHit

_SALT = "limbguard.intake.challenge"
CHALLENGE_MAX_AGE = dt.timedelta(hours=2)
HONEYPOT_FIELD = "website"
PRUNE_ONE_IN = 100


class Refused(Exception):
    """A public submission refused by an anti-abuse check; `str()` is for the user.
    `nonce` names the challenge it spent, if any (see `record_refusal`)."""

    def __init__(self, message: str, *, nonce: str = "") -> None:
        super().__init__(message)
        self.nonce = nonce


@dataclass(frozen=True)
class Challenge:
    question: str  # e.g. "5 + 8 ="
    token: str


def new_challenge(form: str) -> Challenge:
    """A sum of two numbers 1–9, signed with the form's name and a fresh nonce."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    token = signing.dumps(
        {"a": a, "b": b, "n": secrets.token_hex(12), "f": form}, salt=_SALT, compress=True
    )
    return Challenge(question=f"{a} + {b} =", token=token)


def question_of(token: str) -> str | None:
    """The question a token asks (to show it again), or None if it is not genuine."""
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return f"{data['a']} + {data['b']} ="


@dataclass(frozen=True)
class Answer:
    """A submitted answer, read before the submission's transaction (no database):
    `nonce` names the challenge when its token is genuine, recent and this form's;
    otherwise `problem` says why it is refused. `right`: the sum is right."""

    nonce: str
    problem: str = ""
    right: bool = False


def read_answer(*, form: str, token: str, answer: str) -> Answer:
    try:
        data = signing.loads(token, salt=_SALT, max_age=CHALLENGE_MAX_AGE)
    except signing.SignatureExpired:
        return Answer(nonce="", problem="The question timed out. Please answer the new one.")
    except signing.BadSignature:
        return Answer(
            nonce="", problem="The question could not be checked. Please answer the new one."
        )
    if data.get("f") != form:
        return Answer(
            nonce="", problem="The question belongs to another form. Please answer the new one."
        )
    try:
        right = int(answer.strip()) == int(data["a"]) + int(data["b"])
    except ValueError:
        right = False
    return Answer(nonce=str(data["n"]), right=right)


def spend_challenge(answer: Answer) -> None:
    """Spend the challenge, right or wrong, so that it can never be answered again (a
    bot cannot try all 17 sums on one token); refuse a bad, spent or wrong answer.

    Call it inside the submission's transaction, after `check_rate`: a refusal must end
    that transaction (on PostgreSQL a duplicate nonce aborts it), which rolls back the
    hit; the view then records the refusal on its own (`record_refusal`)."""
    if not answer.nonce:
        raise Refused(answer.problem)
    try:
        sqlrows.insert(ChallengeUse(nonce=answer.nonce))
    except IntegrityError:
        raise Refused(
            "This form was already sent once with that answer. Please answer the new question."
        ) from None
    if not answer.right:
        raise Refused(
            "The answer to the sum is not right. Please try the new question.", nonce=answer.nonce
        )


def record_refusal(*, scope: str, address: str | None, nonce: str = "") -> None:
    """After a refused submission's transaction rolled back: count the attempt against
    the address and keep its challenge spent, in a transaction of their own."""
    now = timezone.now()
    since = now - dt.timedelta(seconds=settings.INTAKE_RATE_WINDOW)
    with transaction.atomic():
        if address and (
            _recent_hits(scope=scope, address=address, since=since) < settings.INTAKE_RATE_LIMIT
        ):  # past the limit the address is refused anyway: no more rows for a flood
            RateLimitHit.objects.create(scope=scope, address=address, at=now)
        if nonce:
            ChallengeUse.objects.get_or_create(nonce=nonce)


def _recent_hits(*, scope: str, address: str, since: dt.datetime) -> int:
    """The address's hits since `since`. One plain statement: the ORM's count() costs
    ten times the query itself, and it runs on every public submission while the
    write lock is held (see public_views.public_form)."""
    table = connection.ops.quote_name(RateLimitHit._meta.db_table)
    sql = f"SELECT COUNT(*) FROM {table} WHERE scope = %s AND address = %s AND at >= %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                scope,
                connection.ops.adapt_ipaddressfield_value(address),
                connection.ops.adapt_datetimefield_value(since),
            ],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def check_honeypot(value: str) -> None:
    """People never see the field; software that fills every field fills it."""
    if value.strip():
        raise Refused("Your message looks automated and was not sent. Please call the center.")


def check_rate(*, scope: str, address: str | None, now: dt.datetime | None = None) -> None:
    """Count this attempt; refuse when the address passed INTAKE_RATE_LIMIT attempts
    within INTAKE_RATE_WINDOW seconds. Hits older than a day are pruned now and then."""
    if not address:
        return
    now = now or timezone.now()
    since = now - dt.timedelta(seconds=settings.INTAKE_RATE_WINDOW)
    # No savepoint inside the submission's transaction: a refusal ends all of it.
    with transaction.atomic(savepoint=False):
        if not _add_hit_below_limit(
            scope=scope, address=address, at=now, since=since, limit=settings.INTAKE_RATE_LIMIT
        ):
            raise Refused(
                "Too many submissions from your connection. Please wait a few minutes, "
                "or call the center."
            )
        # Pruning now and then keeps the table small without a DELETE on every submission.
        if secrets.randbelow(PRUNE_ONE_IN) == 0:
            RateLimitHit.objects.filter(at__lt=since - dt.timedelta(days=1)).delete()


@functools.cache
def _add_hit_sql(vendor: str) -> str:
    """INSERT the hit only while the address has fewer than the limit since then: the
    count and the insert of `check_rate` in one statement (one round trip, under the
    write lock on SQLite). Names come from the model's metadata; values are parameters.
    The row is the one `RateLimitHit(scope=, address=, at=).save()` writes (no field
    has a default or a pre_save of its own, and the model has no save receivers):
    tests/intake/test_antiabuse.py pins it on both engines."""
    table = sqlrows.table_name(RateLimitHit)
    scope, address, at = (sqlrows.column_name(RateLimitHit, n) for n in ("scope", "address", "at"))
    return (
        f"INSERT INTO {table} ({scope}, {address}, {at}) SELECT %s, %s, %s "  # noqa: S608
        f"WHERE (SELECT COUNT(*) FROM {table} "
        f"WHERE {scope} = %s AND {address} = %s AND {at} >= %s) < %s"
    )


def _hit_field(name: str) -> Field[Any, Any]:
    field = RateLimitHit._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _add_hit_below_limit(
    *, scope: str, address: str, at: dt.datetime, since: dt.datetime, limit: int
) -> bool:
    """Store the hit and say True, or store nothing and say False when the address
    already has `limit` hits since `since`."""
    # Each value as its field prepares it for a save (IPv6 normalised, aware times).
    address_value = _hit_field("address").get_db_prep_save(address, connection)
    at_field = _hit_field("at")
    with connection.cursor() as cursor:
        cursor.execute(
            _add_hit_sql(connection.vendor),
            [
                scope,
                address_value,
                at_field.get_db_prep_save(at, connection),
                scope,
                address_value,
                at_field.get_db_prep_save(since, connection),
                limit,
            ],
        )
        return bool(cursor.rowcount == 1)

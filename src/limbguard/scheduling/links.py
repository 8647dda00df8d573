"""Private links for people without an account: signed, expiring, revocable.

A link carries the object's kind, id and its random `link_key`, signed with the
SECRET_KEY and a timestamp. It stops working when it is older than INTAKE_LINK_DAYS
(every e-mail carries a fresh one), when a character is changed, or when the object's
`link_key` is replaced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

_SALT = "limbguard.private-link"


class LinkExpired(Exception):
    """A genuine link that is too old."""


class LinkInvalid(Exception):
    """A link that was changed, truncated or never issued."""


@dataclass(frozen=True)
class LinkTarget:
    kind: str
    pk: int
    key: str


def make_link_token(kind: str, pk: int, key: str) -> str:
    return signing.dumps({"t": kind, "i": pk, "k": key}, salt=_SALT, compress=True)


def read_link_token(token: str, kind: str, *, max_age: dt.timedelta | None = None) -> LinkTarget:
    """The target of a link of `kind`; raises LinkExpired or LinkInvalid."""
    age = max_age or dt.timedelta(days=settings.INTAKE_LINK_DAYS)
    try:
        data = signing.loads(token, salt=_SALT, max_age=age)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    if not isinstance(data, dict) or data.get("t") != kind:
        raise LinkInvalid
    pk, key = data.get("i"), data.get("k")
    if not isinstance(pk, int) or not isinstance(key, str):
        raise LinkInvalid
    return LinkTarget(kind=kind, pk=pk, key=key)


def absolute(path: str) -> str:
    """A site path as a full URL for e-mail."""
    return f"{settings.PUBLIC_BASE_URL}{path}"

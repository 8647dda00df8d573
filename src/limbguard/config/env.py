"""Typed readers for configuration from the environment.

Each helper refuses a bad value with `ImproperlyConfigured` naming the variable, so a
misconfigured process stops at start-up instead of running with a surprise default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    return (os.environ if environ is None else environ).get(name)


def env_str(
    name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None
) -> str:
    """Return the variable, or `default`; refuse when both are missing."""
    value = _raw(name, environ)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """Accept 1/0, true/false, yes/no, on/off (any case); anything else is refused."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0), not {value!r}")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Read a whole number within [minimum, maximum]."""
    value = _raw(name, environ)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}")
    return number


_HOST = re.compile(r"^(\*|\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\]|[0-9.]+)$")


def env_hosts(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """A comma-separated list of host names (no scheme, no port, no path)."""
    value = _raw(name, environ)
    if value is None or value.strip() == "":
        return default
    hosts = [part.strip() for part in value.split(",") if part.strip()]
    for host in hosts:
        if not _HOST.match(host):
            raise ImproperlyConfigured(f"{name} holds an invalid host name: {host!r}")
    return hosts


def env_url(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """An absolute http(s) URL with a host and no query or fragment, returned without
    a trailing slash (so that `f"{base}/path"` is always well formed)."""
    value = _raw(name, environ)
    text = (default if value is None or value.strip() == "" else value).strip()
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an absolute http(s) URL, not {text!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured(f"{name} must not hold credentials, a query or a fragment")
    try:
        parts.port  # noqa: B018 (parsing the port is the check)
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port: {text!r}") from None
    return text.rstrip("/")

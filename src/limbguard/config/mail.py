"""EMAIL_URL → Django email settings.

console:                              print messages (default; never leaves the machine)
smtp://user:password@host:587?tls=1   SMTP with STARTTLS
smtps://user:password@host:465        SMTP over TLS
locmem:                               keep in memory (tests)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
}


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


def email_settings(url: str) -> EmailConfig:
    parts = urlsplit(url)
    if parts.scheme not in _BACKENDS:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme must be one of {', '.join(sorted(_BACKENDS))}, not {parts.scheme!r}"
        )
    if parts.scheme not in ("smtp", "smtps"):
        return EmailConfig(backend=_BACKENDS[parts.scheme])
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL must name the SMTP host")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has an invalid port") from None
    query = parse_qs(parts.query)
    return EmailConfig(
        backend=_BACKENDS[parts.scheme],
        host=parts.hostname,
        port=port or (465 if parts.scheme == "smtps" else 587),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=parts.scheme == "smtps",
        use_tls=parts.scheme == "smtp" and query.get("tls", ["1"])[0] not in ("0", "false"),
    )

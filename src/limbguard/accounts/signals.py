"""Sign-in, sign-out and failed sign-ins go to the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User


def _logged_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit.record(acting_user=user, action=AuditAction.LOGIN, ip_address=audit.client_ip(request))


def _logged_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit.record(
            acting_user=user, action=AuditAction.LOGOUT, ip_address=audit.client_ip(request)
        )


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The attempted name is kept (it is not a secret); the password never is.
    name = str(credentials.get("username", ""))[:150]
    audit.record(
        acting_user=None,
        action=AuditAction.LOGIN_FAILED,
        summary=f"failed sign-in as {name!r}",
        ip_address=audit.client_ip(request) if request is not None else None,
    )


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="limbguard-audit-login")
    user_logged_out.connect(_logged_out, dispatch_uid="limbguard-audit-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="limbguard-audit-login-failed")

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's centers and roles, shown in the page header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_centers": list(user.centers.all()),
        "nav_roles": [role.label for role in user.roles()],
    }

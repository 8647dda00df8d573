"""Small helpers every app's views share (the "thin view" pattern of STYLE.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest

from limbguard.accounts.models import User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, for views behind `login_required` (typed for the services)."""
    user = request.user
    assert isinstance(user, User)
    return user


def apply_service_error(form: BaseForm, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form fields it names (else the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)

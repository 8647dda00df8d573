"""The public forms' validators are ready before the first submission."""

from __future__ import annotations

from django.core.validators import EmailValidator
from django.utils.functional import empty

from limbguard.intake import forms


def test_validator_patterns_are_compiled_when_the_forms_are_imported() -> None:
    patterns = [
        getattr(validator, name)
        for form in forms.PUBLIC_FORMS.values()
        for field in form.base_fields.values()
        for validator in field.validators
        for name in ("regex", "user_regex", "domain_regex", "literal_regex")
        if hasattr(validator, name)
    ]
    assert EmailValidator.domain_regex in patterns
    assert forms.phone_validator.regex in patterns
    assert all(pattern._wrapped is not empty for pattern in patterns)

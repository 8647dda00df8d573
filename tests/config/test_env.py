"""Settings helpers refuse bad values with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from limbguard.config.env import env_bool, env_hosts, env_int, env_str
from limbguard.config.mail import email_settings


def test_env_str_required_and_default() -> None:
    assert env_str("X", "fallback", environ={}) == "fallback"
    assert env_str("X", environ={"X": "set"}) == "set"
    with pytest.raises(ImproperlyConfigured, match=r"^X must be set$"):
        env_str("X", environ={})
    with pytest.raises(ImproperlyConfigured, match="X must be set"):
        env_str("X", environ={"X": ""})


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("no", False), ("0", False)]
)
def test_env_bool_accepts(raw: str, expected: bool) -> None:
    assert env_bool("DEBUG", False, environ={"DEBUG": raw}) is expected


def test_env_bool_refuses_nonsense() -> None:
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG", False, environ={"DEBUG": "maybe"})


def test_env_int_bounds() -> None:
    assert env_int("N", 15, environ={}) == 15
    assert env_int("N", 15, minimum=1, environ={"N": " 30 "}) == 30
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 15, environ={"N": "ten"})
    with pytest.raises(ImproperlyConfigured, match="N must be at least 1"):
        env_int("N", 15, minimum=1, environ={"N": "0"})
    with pytest.raises(ImproperlyConfigured, match="N must be at most 10"):
        env_int("N", 5, maximum=10, environ={"N": "11"})


def test_env_hosts() -> None:
    assert env_hosts("H", ["localhost"], environ={}) == ["localhost"]
    assert env_hosts("H", [], environ={"H": "a.example.org, .example.com,127.0.0.1"}) == [
        "a.example.org",
        ".example.com",
        "127.0.0.1",
    ]
    with pytest.raises(ImproperlyConfigured, match="H holds an invalid host name: 'http://x'"):
        env_hosts("H", [], environ={"H": "http://x"})


def test_email_url_variants() -> None:
    assert email_settings("console:").backend.endswith("console.EmailBackend")
    smtp = email_settings("smtp://user%40x:p%2Fw@mail.example.org:2525?tls=0")
    assert (smtp.host, smtp.port, smtp.user, smtp.password, smtp.use_tls) == (
        "mail.example.org",
        2525,
        "user@x",
        "p/w",
        False,
    )
    smtps = email_settings("smtps://mail.example.org")
    assert (smtps.port, smtps.use_ssl, smtps.use_tls) == (465, True, False)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL scheme"):
        email_settings("pigeon://coop")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL must name the SMTP host"):
        email_settings("smtp://")


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh interpreter, as a server process would."""
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "LIMBGUARD_DEMO", "DEBUG"}
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "limbguard.config.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 32 characters"),
        ({"SECRET_KEY": "k" * 40, "DEBUG": "perhaps"}, "DEBUG must be a boolean"),
        (
            {"SECRET_KEY": "k" * 40, "SESSION_IDLE_MINUTES": "0"},
            "SESSION_IDLE_MINUTES must be at least 1",
        ),
        ({"SECRET_KEY": "k" * 40, "EMAIL_URL": "ftp://x"}, "EMAIL_URL scheme"),
    ],
)
def test_misconfigured_process_refuses_to_start(env: dict[str, str], message: str) -> None:
    result = _start(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_secure_defaults() -> None:
    # The module itself: the test suite swaps PASSWORD_HASHERS for speed.
    from limbguard.config import settings

    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SECURE_CONTENT_TYPE_NOSNIFF is True
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert settings.SESSION_IDLE_MINUTES == 15
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")

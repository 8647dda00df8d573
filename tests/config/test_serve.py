"""`limbguard serve`'s gunicorn command line."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from limbguard.config.management.commands import serve


def test_the_access_log_is_off_unless_asked_for() -> None:
    quiet = serve.gunicorn_argv(bind="127.0.0.1:8000", workers=2, access_log=False)
    assert quiet == [
        "gunicorn",
        "limbguard.config.wsgi:application",
        "--bind",
        "127.0.0.1:8000",
        "--workers",
        "2",
    ]
    logged = serve.gunicorn_argv(bind="0.0.0.0:80", workers=4, access_log=True)
    assert logged[-2:] == ["--access-logfile", "-"]
    assert logged[:-2] == [*quiet[:3], "0.0.0.0:80", "--workers", "4"]


@pytest.mark.parametrize(("flag", "logged"), [([], False), (["--access-log"], True)])
def test_the_command_execs_gunicorn_with_its_options(
    monkeypatch: pytest.MonkeyPatch, flag: list[str], logged: bool
) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: None)  # no collectstatic
    monkeypatch.setattr(os, "execvp", lambda file, argv: ran.append(argv))
    call_command("serve", "--bind", "127.0.0.1:9", "--workers", "3", *flag)
    (argv,) = ran
    assert argv[1:3] == ["-m", "gunicorn"]
    assert argv[3:] == serve.gunicorn_argv(bind="127.0.0.1:9", workers=3, access_log=logged)[1:]

"""The public site: pages without sign-in, each form stored exactly once, and every
bad input of the issue refused with a clear message and nothing stored."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image
from pytest_django.fixtures import Settings

from limbguard.accounts.models import AuditEvent
from limbguard.config.tasks import run_due_tasks
from limbguard.intake import antiabuse, notify, public_views
from limbguard.intake.forms import PUBLIC_FORMS, ReplyForm
from limbguard.intake.models import Attachment, ChallengeUse, IntakeRequest, Message
from limbguard.intake.notify import conversation_link
from limbguard.scheduling.links import make_link_token
from limbguard.testing import Personas
from tests.intake.conftest import PAGES, QUESTION, VALID, challenge_of, submit

pytestmark = pytest.mark.django_db


def _png(size: tuple[int, int] = (4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _nothing_stored() -> None:
    assert IntakeRequest.objects.count() == 0
    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_home_lists_centers_with_local_open_status(public: Personas) -> None:
    response = Client().get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Harbor Vascular Center" in text
    assert "Open now" in text or "Closed now" in text
    assert "local time" in text


def test_home_sends_signed_in_staff_to_their_work(public: Personas) -> None:
    client = Client()
    client.force_login(public["front_desk"])
    assert client.get("/")["Location"] == reverse("registry:patient_list")
    client.force_login(public["administrator"])
    assert client.get("/")["Location"] == reverse("clinics:center_list")


@pytest.mark.parametrize("page", ["visit", "referral", "contact"])
def test_each_form_is_stored_once_and_answers_with_the_private_page(
    public: Personas, page: str
) -> None:
    response = submit(Client(), page)
    assert response.status_code == 302
    request = IntakeRequest.objects.get()
    assert response["Location"].startswith("/r/")
    assert request.kind == page
    assert request.messages.count() == 1
    page_view = Client().get(response["Location"])
    assert page_view.status_code == 200
    assert "we received your" in page_view.content.decode()
    assert AuditEvent.objects.filter(object_type="intake.intakerequest").count() >= 1


def test_e_mails_carry_a_link_and_no_details(public: Personas) -> None:
    public["front_desk"].email = "desk@example.invalid"
    public["front_desk"].save()
    submit(Client(), "referral", center=str(public.centers["harbor"].pk))
    run_due_tasks()
    to_referrer = [m for m in mail.outbox if m.to == ["rita@example.invalid"]]
    to_staff = [m for m in mail.outbox if "desk@example.invalid" in m.to]
    assert len(to_referrer) == 1
    assert len(to_staff) == 1
    assert "/r/" in to_referrer[0].body
    assert "/intake/" in to_staff[0].body
    for message in mail.outbox:
        for detail in ("Walter", "Gangi", "1948", "gangrene", "Gangrene", "hallux", "Rita"):
            assert detail not in message.body
            assert detail not in message.subject


def test_one_queued_task_tries_both_e_mails(
    public: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    public["front_desk"].email = "desk@example.invalid"
    public["front_desk"].save()
    submit(Client(), "referral", center=str(public.centers["harbor"].pk))
    request = IntakeRequest.objects.get()
    sent: list[list[str]] = []

    def send_mail(subject: str, body: str, sender: None, to: list[str]) -> int:
        if to == ["rita@example.invalid"]:
            raise OSError("the referrer's server refused")
        sent.append(to)
        return 1

    monkeypatch.setattr(notify, "send_mail", send_mail)
    with pytest.raises(OSError, match="refused"):
        notify.notify_received.call(request.pk)
    assert ["desk@example.invalid"] in sent  # staff are told although the other failed


def test_an_accepted_submission_writes_in_one_short_transaction(
    public: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything is read and checked first; the transaction (a savepoint here, inside
    the test's) holds the hit count and the writes only, so that SQLite's one writer
    holds its lock briefly."""
    # One submission in PRUNE_ONE_IN also prunes old hits (a DELETE): not this one.
    monkeypatch.setattr(antiabuse, "PRUNE_ONE_IN", 2**62)
    client = Client()
    token, answer = challenge_of(client.get(reverse("public:referral")).content.decode())
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("public:referral"),
            {**VALID["referral"], "challenge": token, "answer": str(answer), "website": ""},
        )
    assert response.status_code == 302
    sql = [q["sql"] for q in queries.captured_queries]
    begin = next(i for i, q in enumerate(sql) if q.startswith("SAVEPOINT"))
    end = next(i for i, q in enumerate(sql) if q.startswith("RELEASE SAVEPOINT"))
    inside = sql[begin + 1 : end]
    # The address's hit is counted and added by one statement (antiabuse.check_rate).
    assert inside[0].startswith('INSERT INTO "intake_ratelimithit"')
    assert 'SELECT COUNT(*) FROM "intake_ratelimithit"' in inside[0]
    written = [q.split('"')[1] for q in inside if q.startswith("INSERT")]
    assert written == [
        "intake_ratelimithit",
        "intake_challengeuse",
        "intake_intakerequest",
        "intake_message",
        "intake_statuschange",
        "accounts_auditevent",
        "django_tasks_database_dbtaskresult",
    ]
    assert len(inside) == len(written)
    assert sql[end + 1 :] == []


def test_a_renamed_center_shows_on_the_next_blank_form(public: Personas) -> None:
    """Each worker reuses a blank form's rendered fields while its centers stay the same."""
    harbor = public.centers["harbor"]
    assert harbor.name in Client().get(reverse("public:visit")).content.decode()
    harbor.name = "Harbor Limb Salvage Center"
    harbor.save()
    again = Client().get(reverse("public:visit")).content.decode()
    assert "Harbor Limb Salvage Center" in again
    assert 'name="given_name"' in again


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.mark.parametrize("page", ["visit", "referral", "contact"])
def test_a_blank_form_page_is_the_full_rendering_byte_for_byte(public: Personas, page: str) -> None:
    """The blank page each worker keeps and fills per visitor is what rendering the
    templates with the same values gives, with fresh values on every GET."""
    client = Client()
    first = client.get(reverse(PAGES[page]))
    second = Client().get(reverse(PAGES[page]))
    for response in (first, second):
        text = response.content.decode()
        csrf = CSRF_INPUT.search(text)
        assert csrf is not None
        assert f'"X-CSRFToken": "{csrf.group(1)}"' in text
        token, _ = challenge_of(text)
        question = QUESTION.search(text)
        assert question is not None
        form = PUBLIC_FORMS[page]()
        context = {
            **public_views._form_context(page, form),
            "question": f"{question.group(1)} + {question.group(2)} =",
            "challenge_token": token,
            "csrf_token": csrf.group(1),
        }
        expected = render_to_string(
            "intake/public/form.html", context, RequestFactory().get(reverse(PAGES[page]))
        )
        assert text == expected
        assert response.cookies["csrftoken"].value
        assert "no-cache" in response["Cache-Control"]
    assert challenge_of(first.content.decode())[0] != challenge_of(second.content.decode())[0]
    assert CSRF_INPUT.findall(first.content.decode()) != CSRF_INPUT.findall(second.content.decode())


def test_a_blank_form_page_has_the_same_headers_as_the_full_rendering(
    public: Personas, settings: Settings
) -> None:
    kept = Client().get(reverse("public:visit"))
    settings.DEBUG = True  # templates reload: every page fully rendered
    full = Client().get(reverse("public:visit"))
    assert {k: v for k, v in kept.items() if k != "Content-Length"} == {
        k: v for k, v in full.items() if k != "Content-Length"
    }
    assert sorted(kept.cookies) == sorted(full.cookies) == ["csrftoken"]


def test_a_changed_setting_renders_the_kept_page_afresh(
    public: Personas, settings: Settings
) -> None:
    assert 'href="/static/' in Client().get(reverse("public:visit")).content.decode()
    settings.STATIC_URL = "/assets/"
    again = Client().get(reverse("public:visit")).content.decode()
    assert 'href="/assets/' in again
    assert 'href="/static/' not in again


def test_signed_in_staff_get_their_header_on_a_public_form(public: Personas) -> None:
    Client().get(reverse("public:visit"))  # the anonymous page is kept
    client = Client()
    client.force_login(public["front_desk"])
    text = client.get(reverse("public:visit")).content.decode()
    assert "Sign out" in text
    assert "Staff sign-in" not in text
    assert "Sign out" not in Client().get(reverse("public:visit")).content.decode()


def test_a_pending_message_shows_on_a_public_form(public: Personas) -> None:
    Client().get(reverse("public:visit"))  # the anonymous page is kept
    request = RequestFactory().get(reverse("public:visit"))
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    messages.info(request, "You were signed out.")
    text = public_views.public_form(request, page="visit").content.decode()
    assert "You were signed out." in text


def test_a_submission_from_a_kept_page_is_accepted(public: Personas) -> None:
    for _ in range(2):  # the second GET fills the kept page
        assert submit(Client(), "visit").status_code == 302
    assert IntakeRequest.objects.count() == 2


def test_a_private_page_reads_its_request_in_one_small_query(
    public: Personas, submitted: Callable[..., IntakeRequest]
) -> None:
    """Opened on every page and every poll: no join to the appointment's tables for a
    request without one, no ORDER BY for the one row its key names."""
    request = submitted("visit")
    token = make_link_token("request", request.pk, request.link_key)
    with CaptureQueriesContext(connection) as reads:
        thread = Client().get(reverse("public:conversation_thread", args=[token]))
    assert thread.status_code == 200
    opened = [q["sql"] for q in reads.captured_queries if 'FROM "intake_intakerequest"' in q["sql"]]
    assert len(opened) == 1
    assert "scheduling_appointment" not in opened[0]
    assert "clinics_center" not in opened[0]  # the thread alone does not show it
    assert "ORDER BY" not in opened[0]
    assert not any("scheduling_appointment" in q["sql"] for q in reads.captured_queries)
    # The request and its thread: nothing the page does not show (no status history).
    assert len(reads.captured_queries) == 2
    assert 'FROM "intake_message"' in reads.captured_queries[1]["sql"]


def test_a_shown_reply_is_marked_read_and_a_page_with_none_writes_nothing(
    public: Personas, submitted: Callable[..., IntakeRequest]
) -> None:
    request = submitted("visit")
    token = make_link_token("request", request.pk, request.link_key)
    thread_url = reverse("public:conversation_thread", args=[token])

    def updates(url: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(url).status_code == 200
        return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]

    assert updates(thread_url) == []  # only the requester's own message: nothing to mark
    reply = Message.objects.create(request=request, author_kind="staff", body="Monday?")
    assert len(updates(thread_url)) == 1
    reply.refresh_from_db()
    assert reply.read_at is not None
    assert request.messages.get(author_kind="public").read_at is None  # theirs: not read by staff
    assert updates(thread_url) == []
    assert updates(reverse("public:conversation", args=[token])) == []
    Message.objects.create(request=request, author_kind="system", body="Status: Triaged.")
    assert len(updates(reverse("public:conversation", args=[token]))) == 1
    assert not request.messages.exclude(author_kind="public").filter(read_at=None).exists()


def test_the_private_page_names_the_center_asked_for(
    public: Personas, submitted: Callable[..., IntakeRequest]
) -> None:
    request = submitted("referral", center=str(public.centers["harbor"].pk))
    token = make_link_token("request", request.pk, request.link_key)
    with CaptureQueriesContext(connection) as reads:
        page = Client().get(reverse("public:conversation", args=[token])).content.decode()
    assert f"to {public.centers['harbor'].name}." in page
    assert not any(q["sql"].startswith('SELECT "clinics_center"') for q in reads.captured_queries)


def test_the_kept_reply_box_is_the_full_rendering(
    public: Personas, submitted: Callable[..., IntakeRequest]
) -> None:
    request = submitted("visit")
    Message.objects.create(request=request, author_kind="staff", body="Monday?")
    token = make_link_token("request", request.pk, request.link_key)
    for _ in range(2):  # the second page reuses the box the first one rendered
        text = Client().get(reverse("public:conversation", args=[token])).content.decode()
        csrf = CSRF_INPUT.search(text)
        assert csrf is not None
        req = public_views._open(token)
        context = {
            **public_views._conversation_context(req, token),
            "form": ReplyForm(),
            "sent": False,
            "csrf_token": csrf.group(1),
        }
        expected = render_to_string(
            "intake/public/conversation.html", context, RequestFactory().get("/")
        )
        assert text == expected
        assert 'name="body"' in text
        assert "Monday?" in text


def test_a_refused_reply_keeps_what_was_typed(public: Personas) -> None:
    """A bound reply box is rendered in full, with the text and its error."""
    request = IntakeRequest.objects.create(
        kind="contact", requester_name="C", requester_email="c@example.invalid", reason="r"
    )
    token = make_link_token("request", request.pk, request.link_key)
    url = reverse("public:conversation", args=[token])
    too_long = "Is parking free? " + "x" * 4000
    response = Client().post(url, {"body": too_long})
    assert response.status_code == 400
    text = response.content.decode()
    assert f"{too_long}</textarea>" in text
    assert "at most 4000 characters" in text
    assert Message.objects.filter(request=request).count() == 0


def test_red_flags_set_the_urgency_and_the_rule(public: Personas) -> None:
    submit(Client(), "referral")
    request = IntakeRequest.objects.get()
    assert request.urgency == "emergent"
    assert request.urgency_rule.startswith("Emergent: gangrene")


def test_a_wrong_answer_stores_nothing_and_asks_a_new_question(public: Personas) -> None:
    response = submit(Client(), "visit", answer_offset=1)
    assert response.status_code == 400
    text = response.content.decode()
    assert "The answer to the sum is not right" in text
    assert "Nothing was sent" in text
    assert 'value="Ana"' in text  # what was typed is kept
    _nothing_stored()


def test_a_reused_challenge_is_refused(public: Personas) -> None:
    client = Client()
    token, answer = challenge_of(client.get(reverse("public:visit")).content.decode())
    assert submit(client, "visit", token=token, answer=str(answer)).status_code == 302
    again = submit(client, "visit", token=token, answer=str(answer))
    assert again.status_code == 400
    assert "already sent once" in again.content.decode()
    assert IntakeRequest.objects.count() == 1


def test_a_wrong_answer_spends_the_challenge(public: Personas) -> None:
    client = Client()
    token, answer = challenge_of(client.get(reverse("public:contact")).content.decode())
    submit(client, "contact", token=token, answer=str(answer + 1))
    retry = submit(client, "contact", token=token, answer=str(answer))
    assert "already sent once" in retry.content.decode()
    _nothing_stored()


def test_a_forged_challenge_is_refused(public: Personas) -> None:
    response = submit(Client(), "contact", token="1:forged:token", answer="2")
    assert response.status_code == 400
    assert "could not be checked" in response.content.decode()
    _nothing_stored()


def test_a_challenge_from_another_form_is_refused(public: Personas) -> None:
    client = Client()
    token, answer = challenge_of(client.get(reverse("public:contact")).content.decode())
    response = submit(client, "visit", token=token, answer=str(answer))
    assert "another form" in response.content.decode()
    _nothing_stored()


def test_the_honeypot_refuses_software(public: Personas) -> None:
    response = submit(Client(), "contact", website="http://spam.example")
    assert response.status_code == 400
    assert "looks automated" in response.content.decode()
    _nothing_stored()
    assert ChallengeUse.objects.count() == 0  # refused before the question was spent


def test_the_rate_limit_per_address(public: Personas, settings: Settings) -> None:
    settings.INTAKE_RATE_LIMIT = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert submit(client, "contact").status_code == 302
    assert submit(client, "contact").status_code == 302
    third = submit(client, "contact")
    assert third.status_code == 429
    assert "Too many submissions" in third.content.decode()
    assert IntakeRequest.objects.count() == 2
    other = Client(REMOTE_ADDR="203.0.113.10")
    assert submit(other, "contact").status_code == 302


def test_missing_fields_are_named(public: Personas) -> None:
    response = submit(Client(), "referral", patient_birth_date="2999-01-01", referrer_npi="12")
    assert response.status_code == 400
    text = response.content.decode()
    assert "cannot be in the future" in text
    assert "An NPI is 10 digits" in text
    _nothing_stored()


def test_valid_attachments_are_stored_outside_the_web_root(public: Personas) -> None:
    files = [
        SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("foot.png", _png(), content_type="image/png"),
    ]
    assert submit(Client(), "referral", files=files).status_code == 302
    stored = list(Attachment.objects.order_by("id"))
    assert [(a.original_name, a.content_type) for a in stored] == [
        ("scan.pdf", "application/pdf"),
        ("foot.png", "image/png"),
    ]
    for attachment in stored:
        path = Path(attachment.file.path)
        assert path.is_relative_to(Path(settings.MEDIA_ROOT))
        assert not path.is_relative_to(Path(settings.STATIC_ROOT))
        assert "scan" not in path.name
        assert "foot" not in path.name
        assert path.stat().st_size == attachment.size


def _private_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.parametrize("refusal", ["wrong answer", "rate limit", "reused challenge"])
def test_a_refused_referral_leaves_no_file(
    public: Personas, settings: Settings, refusal: str
) -> None:
    """Files are written before the transaction; a refusal in it removes them."""
    client = Client(REMOTE_ADDR="203.0.113.20")
    token, answer = challenge_of(client.get(reverse("public:referral")).content.decode())
    if refusal == "rate limit":
        settings.INTAKE_RATE_LIMIT = 1
        assert submit(client, "contact").status_code == 302
    if refusal == "reused challenge":
        assert submit(client, "referral", token=token, answer=str(answer)).status_code == 302
    before = _private_files()
    files = [SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")]
    response = submit(
        client,
        "referral",
        token=token,
        answer=str(answer + (1 if refusal == "wrong answer" else 0)),
        files=files,
    )
    assert response.status_code in (400, 429)
    assert _private_files() == before
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.pdf", b"<html><script>alert(1)</script></html>", "not a PDF, JPEG or PNG"),
        ("photo.png", b"MZ\x90\x00 this is a program", "not a PDF, JPEG or PNG"),
        ("cut.png", _png()[:40], "not a PDF, JPEG or PNG"),
        ("half.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "not a PDF, JPEG or PNG"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_disguised_or_broken_attachments_are_refused(
    public: Personas, name: str, content: bytes, message: str
) -> None:
    files = [SimpleUploadedFile(name, content, content_type="application/pdf")]
    response = submit(Client(), "referral", files=files)
    assert response.status_code == 400
    assert message in response.content.decode()
    _nothing_stored()


def test_an_oversized_attachment_is_refused(public: Personas) -> None:
    big = PDF[:-7] + b" " * (10 * 1024 * 1024) + b"\n%%EOF\n"
    response = submit(
        Client(), "referral", files=[SimpleUploadedFile("big.pdf", big, "application/pdf")]
    )
    assert response.status_code == 400
    assert "larger than 10 MB" in response.content.decode()
    _nothing_stored()


def test_script_in_text_is_rendered_inert(public: Personas) -> None:
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = submit(Client(), "contact", message=script, subject=script)
    page = Client().get(response["Location"]).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert "<img src=x" not in page
    staff = Client()
    staff.force_login(public["front_desk"])
    request = IntakeRequest.objects.get()
    detail = staff.get(reverse("intake:detail", args=[request.pk])).content.decode()
    assert "<script>alert" not in detail
    assert "&lt;script&gt;alert" in detail


def test_a_tampered_link_is_refused_and_stores_nothing(
    submitted: Callable[..., IntakeRequest],
) -> None:
    request = submitted("contact")
    token = make_link_token("request", request.pk, request.link_key)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), token + "x", "abc"):
        url = reverse("public:conversation", args=[bad])
        assert Client().get(url).status_code == 404
        response = Client().post(url, {"body": "let me in"})
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    assert request.messages.count() == 1


def test_a_link_to_another_request_or_revoked_key_is_refused(
    submitted: Callable[..., IntakeRequest],
) -> None:
    request = submitted("contact")
    assert (
        Client()
        .get(reverse("public:conversation", args=[make_link_token("request", request.pk, "wrong")]))
        .status_code
        == 404
    )
    appointment_kind = make_link_token("appointment", request.pk, request.link_key)
    assert Client().get(reverse("public:conversation", args=[appointment_kind])).status_code == 404


def test_an_expired_link_says_so_and_stores_nothing(
    submitted: Callable[..., IntakeRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    request = submitted("contact")
    url = conversation_link(request.pk, request.link_key).split("://", 1)[1].split("/", 1)[1]
    later = time.time() + dt.timedelta(days=settings.INTAKE_LINK_DAYS + 1).total_seconds()
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = Client().post("/" + url, {"body": "still there?"})
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert request.messages.count() == 1


def test_the_requester_replies_and_the_thread_polls(
    submitted: Callable[..., IntakeRequest],
) -> None:
    request = submitted("visit")
    token = make_link_token("request", request.pk, request.link_key)
    url = reverse("public:conversation", args=[token])
    assert Client().post(url, {"body": "Mornings are best."}).status_code == 302
    thread = Client().get(reverse("public:conversation_thread", args=[token]))
    assert thread.status_code == 200
    assert "Mornings are best." in thread.content.decode()
    assert 'hx-trigger="every 10s"' in thread.content.decode()
    assert request.messages.count() == 2


def test_visible_values_are_what_the_requester_typed(public: Personas) -> None:
    data = VALID["visit"]
    response = submit(Client(), "visit")
    page = Client().get(response["Location"]).content.decode()
    assert str(data["reason"]) in page

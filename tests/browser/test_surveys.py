"""A survey mail through a real SMTP server (aiosmtpd), its one-click link followed by real Chromium to the
follow-up page and the thank-you page."""

import email
import os
import re
import socket
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller

from surveys.models import Response
from surveys.services import survey_batch_create
from tests.factories import AccountFactory, ContactFactory
from tests.surveys.factories import SurveyFactory

SHOTS = "/tmp/shots-surveys"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_mail_link_answers_in_one_click_then_thank_you(page, live_server, settings, smtp):
    controller, inbox = smtp
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.SITE_URL = live_server.url
    settings.SURVEY_COMPANY_NAME = "Acme Software"
    account = AccountFactory(name="Globex")
    ContactFactory(account=account, name="Hank Scorpio", email="hank@globex.example")
    survey = SurveyFactory(kind="nps", followup_high="What do you like most?")

    batch = survey_batch_create(survey=survey)  # the job runs once the transaction commits (in-process here)
    deadline = time.monotonic() + 10
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) == 1
    batch.refresh_from_db()
    assert batch.sent == 1

    mail = inbox.messages[0]
    assert mail["To"] == "hank@globex.example" and mail["List-Unsubscribe"]
    html = mail.get_body(preferencelist=("html",)).get_content()
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "unsubscribe" in text.lower()
    link = re.search(r'href="([^"]+\?score=9)"', html).group(1).replace("&amp;", "&")
    assert link.startswith(live_server.url)

    page.goto(link)
    page.get_by_test_id("recorded").wait_for()
    assert page.get_by_label("9").is_checked()
    assert "What do you like most?" in page.content()
    assert "Globex" not in page.content()  # the company's name only
    os.makedirs(SHOTS, exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path=f"{SHOTS}/answer-phone.png", full_page=True)
    assert Response.objects.get().score == 9

    page.fill("#comment", "The reports save me hours <b>every</b> week")
    page.get_by_role("button", name="Send").click()
    page.get_by_test_id("thanks").wait_for()
    page.screenshot(path=f"{SHOTS}/thanks.png", full_page=True)
    assert "<b>every</b>" in page.inner_text("main")  # shown as typed, never as markup
    response = Response.objects.get()
    assert (response.score, response.completed, response.sentiment) == (9, True, "positive")

"""The public answer pages and the embed endpoint: one-click answers, follow-up, change of answer, token
tampering / expiry / replay, double submit, out-of-range scores, rate limits, CORS and escaping."""

import json
import time
from unittest import mock

import pytest
from django.core.cache import cache

from surveys.models import Response, Unsubscribe
from surveys.tokens import token_for
from tests.surveys.factories import SendFactory, SurveyFactory
from timeline.models import TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    cache.clear()
    settings.SURVEY_COMPANY_NAME = "Acme"
    settings.SURVEY_EMBED_ORIGINS = ["https://app.customer.example"]


@pytest.fixture
def send():
    return SendFactory(survey=SurveyFactory(kind="nps", followup_low="What went wrong?"))


def url(send, suffix=""):
    return f"/s/{token_for(send.token_id)}/{suffix}"


def test_one_click_records_the_score_and_opens_the_follow_up(client, send):
    page = client.get(url(send) + "?score=3")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Your score of 3 is recorded" in body
    assert "What went wrong?" in body  # follow-up for the detractor band
    assert "Acme" in body and send.account.name not in body  # the sender's name only
    r = Response.objects.get()
    assert (r.score, r.nps_category, r.completed, r.channel) == (3, "detractor", False, "email")
    entry = TimelineEntry.objects.get(source_type="survey_response")
    assert entry.kind == "survey" and entry.account_id == send.account_id and "NPS 3" in entry.title


def test_follow_up_comment_then_thank_you_and_change_of_answer(client, send):
    client.get(url(send) + "?score=3")
    done = client.post(url(send), {"score": "4", "comment": "Terrible, too slow <script>alert(1)</script>"})
    assert done.status_code == 302 and done["Location"].endswith("/thanks/")
    thanks = client.get(done["Location"]).content.decode()
    assert "Thank you" in thanks
    assert "<script>alert(1)</script>" not in thanks and "&lt;script&gt;" in thanks
    r = Response.objects.get()
    assert (r.score, r.completed, r.sentiment) == (4, True, "negative")
    assert "too slow" in TimelineEntry.objects.get(source_type="survey_response").body
    # the respondent changes their own answer later
    client.post(url(send), {"score": "9", "comment": "Fixed now, great"})
    r.refresh_from_db()
    assert (r.score, r.nps_category, Response.objects.count()) == (9, "promoter", 1)


def test_replayed_one_click_link_after_completing_does_not_overwrite(client, send):
    client.post(url(send), {"score": "2", "comment": "bad"})
    page = client.get(url(send) + "?score=10")
    assert page.status_code == 200 and "You already answered" in page.content.decode()
    assert Response.objects.get().score == 2


def test_double_submit_stores_one_answer(client, send):
    client.post(url(send), {"score": "8", "comment": "ok"})
    client.post(url(send), {"score": "8", "comment": "ok"})
    client.get(url(send) + "?score=8")
    assert Response.objects.count() == 1


@pytest.mark.parametrize("score", ["11", "-1", "abc", ""])
def test_out_of_range_score_is_a_form_error(client, send, score):
    page = client.post(url(send), {"score": score, "comment": "kept"})
    assert page.status_code == 400
    body = page.content.decode()
    assert 'role="alert"' in body and "score" in body.lower() and "kept" in body
    assert not Response.objects.exists()
    assert client.get(url(send) + f"?score={score or 99}").status_code == 400


def test_csat_refuses_zero():
    send = SendFactory(survey=SurveyFactory(kind="csat"))
    from django.test import Client

    assert Client().get(url(send) + "?score=0").status_code == 400
    assert Client().get(url(send) + "?score=5").status_code == 200


def test_tampered_token_gets_a_clear_page(client, send):
    token = token_for(send.token_id)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, "garbage", token.split(":")[0] + ":x:y"):
        page = client.get(f"/s/{bad}/?score=10")
        assert page.status_code == 400
        assert "This link is not valid" in page.content.decode()
    assert not Response.objects.exists()


def test_another_send_cannot_be_reached_by_changing_the_id(client, send):
    other = SendFactory()
    token = token_for(send.token_id)
    swapped = other.token_id.hex + token[len(send.token_id.hex) :]
    assert client.get(f"/s/{swapped}/?score=0").status_code == 400
    assert not Response.objects.exists()


def test_expired_token_gets_a_clear_page(client, send, settings):
    settings.SURVEY_TOKEN_MAX_AGE_DAYS = 30
    token = token_for(send.token_id)
    later = time.time() + 31 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        page = client.get(f"/s/{token}/?score=9")
        api = client.get(f"/s/{token}/embed")
        # unsubscribe links in old mails keep working
        assert client.get(f"/s/{token}/unsubscribe/").status_code == 200
    assert page.status_code == 410 and "This survey has closed" in page.content.decode()
    assert api.status_code == 410 and api.json()["code"] == "expired"
    assert not Response.objects.exists()


def test_unsubscribe_asks_then_unsubscribes(client, send):
    assert client.get(url(send, "unsubscribe/")).status_code == 200
    assert not Unsubscribe.objects.exists()  # a GET (a mail scanner) never unsubscribes
    page = client.post(url(send, "unsubscribe/"))
    assert "You are unsubscribed" in page.content.decode()
    assert Unsubscribe.objects.get().email == send.email


def test_embed_reads_and_answers_with_cors(client, send):
    origin = {"HTTP_ORIGIN": "https://app.customer.example"}
    got = client.get(url(send, "embed"), **origin)
    assert got.status_code == 200 and got["Access-Control-Allow-Origin"] == "https://app.customer.example"
    assert got.json()["scale"] == {"min": 0, "max": 10} and got.json()["answer"] is None
    pre = client.options(url(send, "embed"), **origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert pre.status_code == 204 and "POST" in pre["Access-Control-Allow-Methods"]
    post = client.post(
        url(send, "embed"), json.dumps({"score": 10, "comment": "Love it"}), "application/json", **origin
    )
    assert post.status_code == 200 and post.json()["answer"] == {"score": 10, "comment": "Love it"}
    assert Response.objects.get().channel == "embed"
    evil = client.get(url(send, "embed"), HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in evil


def test_embed_refuses_out_of_range_with_the_json_error_shape(client, send):
    bad = client.post(url(send, "embed"), json.dumps({"score": 11}), "application/json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"code", "message", "fields"} and "score" in bad.json()["fields"]
    assert client.post("/s/nope/embed", json.dumps({"score": 1}), "application/json").status_code == 400
    assert not Response.objects.exists()


def test_rate_limited_per_token_and_per_ip(client, send, settings):
    settings.SURVEY_RATE_PER_TOKEN = 3
    settings.SURVEY_RATE_PER_IP = 1000
    codes = [client.get(url(send)).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.get(url(send, "embed")).status_code == 429
    settings.SURVEY_RATE_PER_IP = 2
    other = SendFactory()
    codes = [client.get(url(other), REMOTE_ADDR="10.0.0.9").status_code for _ in range(3)]
    assert codes == [200, 200, 429]

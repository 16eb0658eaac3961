"""Survey pages and endpoints: role checks (admins configure, CSMs/managers see their scope, viewers read),
fixed query counts for every list, CSV export and escaping."""

import pytest
from django.urls import reverse

from surveys.models import Survey, SurveyBatch
from tests.factories import AccountFactory
from tests.surveys.factories import SurveyFactory, answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(csm, other_csm):
    survey = SurveyFactory(kind="nps", name="Quarterly NPS")
    SurveyFactory(kind="csat", name="Support CSAT")
    mine, theirs = AccountFactory(owner=csm, name="Mine Inc"), AccountFactory(owner=other_csm, name="Theirs Ltd")
    for score in (10, 9, 3):
        answer(score, survey=survey, account=mine, comment=f"mine {score} <img src=x onerror=alert(1)>")
    answer(0, survey=survey, account=theirs, comment="=cmd|' /C calc'!A0")
    return survey


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_every_role_reads_the_list_in_fixed_queries(client_as, data, role, django_assert_num_queries):
    client = client_as(role)
    # session + user, surveys (+segment), answers aggregated by survey, sends aggregated by survey,
    # then the nav's notification badge is htmx (no query); manager scope adds no query (a join)
    with django_assert_num_queries(5):
        page = client.get(reverse("surveys:list"))
    assert page.status_code == 200
    assert ("New survey" in page.content.decode()) == (role == "admin")


def test_results_are_scoped_to_the_csm_accounts(client_as, data):
    body = client_as("csm").get(reverse("surveys:detail", args=[data.pk])).content.decode()
    assert "Mine Inc" in body and "Theirs Ltd" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "<img src=x" not in body
    admin_body = client_as("admin").get(reverse("surveys:detail", args=[data.pk])).content.decode()
    assert "Theirs Ltd" in admin_body


def test_results_page_query_count(client_as, data, django_assert_num_queries):
    client = client_as("viewer")
    # session, user, survey, distribution, trend, comments, theme texts, sends delivered, response rate,
    # filter choices: segments, CSMs, teams
    with django_assert_num_queries(12):
        assert client.get(reverse("surveys:detail", args=[data.pk])).status_code == 200


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_only_admins_configure_and_send(client_as, data, role):
    client = client_as(role)
    assert client.get(reverse("surveys:create")).status_code == 403
    assert client.get(reverse("surveys:edit", args=[data.pk])).status_code == 403
    assert client.post(reverse("surveys:send", args=[data.pk])).status_code == 403
    assert not SurveyBatch.objects.exists()


def test_admin_creates_a_survey_and_sends_it(client_as, db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = client_as("admin")
    page = client.post(
        reverse("surveys:create"),
        {"name": "CES after tickets", "kind": "ces", "followup_question": "Why?", "mode": "relationship",
         "schedule": "", "throttle_days": 90, "is_active": "on"},
    )  # fmt: skip
    assert page.status_code == 200 and "needs a schedule" in page.content.decode()
    page = client.post(
        reverse("surveys:create"),
        {"name": "CES after tickets", "kind": "ces", "followup_question": "Why?", "mode": "transactional",
         "throttle_days": 90, "is_active": "on", "contact_roles": ["champion"]},
    )  # fmt: skip
    survey = Survey.objects.get(name="CES after tickets")
    assert page.status_code == 302 and survey.contact_roles == ["champion"]
    assert client.post(reverse("surveys:send", args=[survey.pk])).status_code == 302
    assert SurveyBatch.objects.get().survey == survey


def test_csv_export_is_scoped_and_defuses_formulas(client_as, data):
    rows = b"".join(client_as("admin").get(reverse("surveys:export", args=[data.pk])).streaming_content).decode()
    assert rows.splitlines()[0].startswith("answered_at,account")
    assert "'=cmd" in rows and ",=cmd" not in rows
    mine = b"".join(client_as("csm").get(reverse("surveys:export", args=[data.pk])).streaming_content).decode()
    assert "Theirs Ltd" not in mine and mine.count("Mine Inc") == 3


# --- API -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_api_list_in_fixed_queries(api_as, data, role, django_assert_num_queries):
    client = api_as(role)
    with django_assert_num_queries(2):  # count, page of surveys
        got = client.get("/api/v1/surveys/")
    assert got.status_code == 200 and got.json()["count"] == 2


def test_api_refuses_anonymous_and_non_admin_writes(api, api_as, data):
    assert api.get("/api/v1/surveys/").status_code == 401
    assert api.get("/s/x/embed").status_code == 400  # the public endpoint needs a valid token, not a login
    for role in ("manager", "csm", "viewer"):
        client = api_as(role)
        assert client.post("/api/v1/surveys/", {"name": "x", "kind": "nps"}).status_code == 403
        assert client.patch(f"/api/v1/surveys/{data.pk}/", {"is_active": False}).status_code == 403
        assert client.post(f"/api/v1/surveys/{data.pk}/send/").status_code == 403
    made = api_as("admin").post(
        "/api/v1/surveys/", {"name": "API NPS", "kind": "nps", "mode": "relationship", "schedule": "yearly"}
    )
    assert made.status_code == 201 and made.json()["next_run_on"]
    bad = api_as("admin").post("/api/v1/surveys/", {"name": "API NPS", "kind": "nope"})
    assert bad.status_code == 400 and set(bad.json()) == {"code", "message", "fields"}


def test_api_results_and_responses_are_scoped(api_as, data, django_assert_num_queries):
    got = api_as("admin").get(f"/api/v1/surveys/{data.pk}/results/").json()
    assert got["score"] == 0.0 and got["answers"] == 4  # 2 promoters, 2 detractors
    assert got["distribution"][0]["count"] == 1
    mine = api_as("csm").get(f"/api/v1/surveys/{data.pk}/results/").json()
    assert mine["answers"] == 3 and mine["score"] == 33.3
    client = api_as("csm")
    with django_assert_num_queries(3):  # survey, count, page with account and contact
        rows = client.get(f"/api/v1/surveys/{data.pk}/responses/").json()
    assert rows["count"] == 3
    with django_assert_num_queries(2):  # count, page
        listed = client.get("/api/v1/survey-responses/?nps_category=detractor").json()
    assert [r["account_name"] for r in listed["results"]] == ["Mine Inc"]
    assert api_as("viewer").get("/api/v1/survey-responses/").json()["count"] == 4

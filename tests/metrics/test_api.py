"""GET /api/v1/metrics/revenue/, its drill-down, /api/v1/metrics/usage/ and the CAC inputs: figures against the
hand-worked ledger, role scope (403 JSON, never emptied), fixed query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services
from csp.models import Role
from events.models import AccountDailyUser
from metrics.models import AcquisitionCost
from success.models import MilestoneKind
from tests.factories import AccountFactory, TeamFactory
from tests.metrics.ledger_fixtures import D, build_q1_ledger, monthly
from tests.success.factories import MilestoneFactory, SuccessPlanFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/metrics/revenue/"
Q1 = {"start": "2025-01-01", "end": "2025-03-31"}


def test_revenue_endpoint_returns_the_hand_worked_q1(api_as):
    build_q1_ledger()
    response = api_as("admin").get(URL, Q1)
    assert response.status_code == 200, response.json()
    body = response.json()
    expected = {
        "mrr_start": "2800.00", "mrr_end": "2700.00", "arr_end": "32400.00", "new_mrr": "350.00",
        "reactivation_mrr": "150.00", "expansion_mrr": "500.00", "contraction_mrr": "150.00", "churned_mrr": "800.00",
        "nrr_pct": "83.93", "grr_pct": "66.07", "gross_mrr_churn_pct": "28.57", "net_mrr_churn_pct": "10.71",
        "dollar_churn_pct": "-14.29", "customers_start": 6, "customers_end": 6, "logos_churned": 2,
        "logo_churn_pct": "33.33", "cgr_pct": "0.00", "arpu": "450.00", "growth_rate_pct": "-3.57",
        # LTV = ARPU ÷ logo churn rate = 450 ÷ 0.3333... = 1350.00 (exact before rounding).
        "ltv": "1350.00",
    }  # fmt: skip
    assert {k: body[k] for k in expected} == expected
    assert set(body["accounts"]) == {"new", "reactivation", "expansion", "contraction", "churned"}
    drill = api_as("admin").get(body["accounts"]["churned"]).json()
    assert sorted(r["name"] for r in drill["results"]) == ["D", "E"]
    assert {r["name"]: r["mrr_start"] for r in drill["results"]} == {"D": "500.00", "E": "300.00"}


def test_comparisons_bookings_run_rate_and_renewals(api_as):
    a, b = AccountFactory(), AccountFactory()
    # a: monthly 100 for 2024 renewed at 150 for 2025 (won); b: monthly 200 for 2024, not renewed (lost).
    old = monthly(a, D(2024, 1, 1), D(2024, 12, 31), "100")
    services.contract_renew(contract=old, data={"recurring_amount": Decimal("150"), "one_time_fees": Decimal("600")})
    monthly(b, D(2024, 1, 1), D(2024, 12, 31), "200")
    body = api_as("admin").get(URL, {"start": "2024-12-01", "end": "2025-01-31"}).json()
    # MRR on Jan 31 2025: 150; a month before (Dec 31): 300; three months (Oct 31): 300; a year (Jan 31 2024): 300.
    assert (body["mrr_end"], body["mom_pct"], body["qoq_pct"], body["yoy_pct"]) == (
        "150.00",
        "-50.00",
        "-50.00",
        "-50.00",
    )
    # Renewals up in the period: both 2024 contracts; one won, one lost. GRR of renewals = min(1800, 1200) / 3600.
    assert (body["renewals_up"], body["renewals_won"], body["renewals_lost"]) == (2, 1, 1)
    assert (body["win_loss_ratio"], body["renewal_rate_pct"], body["gross_renewal_rate_pct"]) == (
        "1.00",
        "50.00",
        "33.33",
    )
    # Bookings: the renewal (12 months of 150 = 1,800 + 600 fees); ACV = 1,800 / 1 year.
    assert (body["bookings"], body["tcv"], body["acv"]) == (1, "2400.00", "1800.00")
    # Run rate: (150 + 600 fees spread over the 2-month period (62 days = 2.0384 months)) x 12.
    months = Decimal(62 * 12) / Decimal(365)
    assert body["run_rate"] == str(((Decimal("150") + Decimal("600") / months) * 12).quantize(Decimal("0.01")))


def test_cac_is_entered_by_admins_and_feeds_ltv_cac(api_as):
    build_q1_ledger()
    assert (
        api_as("csm")
        .post("/api/v1/metrics/acquisition-costs/", {"month": "2025-01-01", "sales_marketing_expense": "700"})
        .status_code
        == 403
    )
    for month in ("2025-01-01", "2025-02-01"):
        r = api_as("admin").post(
            "/api/v1/metrics/acquisition-costs/", {"month": month, "sales_marketing_expense": "350"}
        )
        assert r.status_code == 201, r.json()
    assert AcquisitionCost.objects.get(month=D(2025, 1, 1)).entered_by.role == Role.ADMIN
    bad = api_as("admin").post(
        "/api/v1/metrics/acquisition-costs/", {"month": "2025-03-15", "sales_marketing_expense": "1"}
    )
    assert bad.status_code == 400 and "month" in bad.json()["fields"]
    body = api_as("admin").get(URL, Q1).json()
    # CAC = 700 ÷ 2 new customers (F, G) = 350; LTV:CAC = 1350 ÷ 350 = 3.857 -> 3.86.
    assert (body["sales_marketing_expense"], body["cac"], body["ltv_cac"]) == ("700.00", "350.00", "3.86")


def test_empty_scope_gives_nulls(api_as):
    build_q1_ledger()
    body = api_as("admin").get(URL, Q1 | {"tier": "enterprise"}).json()
    assert body["mrr_start"] == "0.00"
    assert body["nrr_pct"] is None and body["logo_churn_pct"] is None and body["arpu"] is None and body["ltv"] is None


@pytest.fixture
def books(csm, manager, other_csm):
    """The csm's two accounts (in the manager's team) and the other CSM's one, each with Q1 revenue."""
    out = {}
    for name, owner, amount in (("mine1", csm, "100"), ("mine2", csm, "200"), ("theirs", other_csm, "1000")):
        out[name] = AccountFactory(name=name, owner=owner)
        monthly(out[name], D(2024, 1, 1), D(2025, 12, 31), amount)
    return out


def test_csm_sees_their_book_and_their_team_but_nothing_else(api_as, books, csm, other_csm, team):
    client = api_as("csm")
    assert client.get(URL, Q1).json()["mrr_end"] == "300.00"  # their book by default
    assert client.get(URL, Q1 | {"team": team.pk}).json()["mrr_end"] == "300.00"  # may open their team
    refused = client.get(URL, Q1 | {"owner": other_csm.pk})
    assert refused.status_code == 403
    assert set(refused.json()) >= {"code", "message"}
    other_team = TeamFactory()
    assert client.get(URL, Q1 | {"team": other_team.pk}).status_code == 403
    assert (
        client.get("/api/v1/metrics/revenue/accounts/", Q1 | {"movement": "new", "owner": other_csm.pk}).status_code
        == 403
    )
    assert client.get("/api/v1/metrics/usage/", Q1 | {"owner": other_csm.pk}).status_code == 403


def test_manager_sees_their_teams_only_and_admin_viewer_everything(api_as, books, csm, other_csm):
    assert api_as("manager").get(URL, Q1).json()["mrr_end"] == "300.00"
    assert api_as("manager").get(URL, Q1 | {"owner": csm.pk}).json()["mrr_end"] == "300.00"
    assert api_as("manager").get(URL, Q1 | {"owner": other_csm.pk}).status_code == 403
    assert api_as("viewer").get(URL, Q1).json()["mrr_end"] == "1300.00"
    assert api_as("admin").get(URL, Q1 | {"owner": other_csm.pk}).json()["mrr_end"] == "1000.00"
    assert (
        api_as("viewer")
        .post("/api/v1/metrics/acquisition-costs/", {"month": "2025-01-01", "sales_marketing_expense": "1"})
        .status_code
        == 403
    )


def test_anonymous_and_bad_input_are_refused(api, api_as):
    assert api.get(URL, Q1).status_code in (401, 403)
    bad = api_as("admin").get(URL, {"start": "2025-13-01", "end": "2025-03-31"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert api_as("admin").get(URL, {"start": "2025-03-01", "end": "2025-01-31"}).status_code == 400
    assert api_as("admin").get(URL, Q1 | {"tier": "gold"}).status_code == 400
    assert api_as("admin").get("/api/v1/metrics/revenue/accounts/", Q1 | {"movement": "x"}).status_code == 400


def _grow(n: int, owner) -> None:
    for _ in range(n):
        a = AccountFactory(owner=owner)
        c = monthly(a, D(2024, 6, 1), D(2025, 12, 31), "100")
        services.contract_amend(contract=c, effective_date=D(2025, 2, 1), data={"recurring_amount": Decimal("120")})


def test_revenue_endpoint_query_count_does_not_grow(api_as, admin_user, django_assert_num_queries):
    client = api_as("admin")
    _grow(2, admin_user)
    # revenue_summary (1: per-account ARR at both ends folded into movements), MoM/QoQ/YoY with the one-time
    # fees for the run rate (1), CAC expense (1), bookings (1), renewals up (1).
    with django_assert_num_queries(5):
        assert client.get(URL, Q1).status_code == 200
    _grow(5, admin_user)
    with django_assert_num_queries(5):
        assert client.get(URL, Q1).json()["customers_end"] == 7


def test_usage_rollup(api_as, books, csm):
    today = timezone.localdate()
    start = today.replace(day=1)
    mine = books["mine1"]
    for key, days_ago in (("u1", 0), ("u1", 1), ("u2", 0), ("u3", 40)):
        AccountDailyUser.objects.create(account=mine, day=today - dt.timedelta(days=days_ago), user_key=key)
    AccountDailyUser.objects.create(account=books["theirs"], day=today, user_key="x")
    now = timezone.now()
    TicketFactory(account=mine, opened_at=now, status="solved", first_response_at=now + dt.timedelta(hours=2))
    TicketFactory(account=mine, opened_at=now, first_response_at=now + dt.timedelta(hours=4))
    plan = SuccessPlanFactory(account=mine)
    MilestoneFactory(plan=plan, kind=MilestoneKind.GO_LIVE, actual_date=today)
    body = api_as("csm").get("/api/v1/metrics/usage/", {"start": start.isoformat(), "end": today.isoformat()}).json()
    usage, support = body["usage"], body["support"]
    # Window of 30 days ending today: u1 (2 days), u2 (1 day) -> MAU 2, average DAU 3/30 = 0.1, stickiness 5%.
    assert (usage["dau"], usage["mau"], usage["stickiness_pct"]) == (2, 2, "5.00")
    assert support == {
        "tickets_received": 2, "tickets_solved": 1, "resolution_rate_pct": "50.00",
        "avg_response_hours": 3.0, "avg_resolution_hours": support["avg_resolution_hours"],
    }  # fmt: skip
    # TTO = go-live (today) - the account's earliest contract start (2024-01-01), in days.
    tto = Decimal((today - D(2024, 1, 1)).days).quantize(Decimal("0.01"))
    assert body["onboarding"] == {"onboarded": 1, "avg_tto_days": str(tto), "reached_value": 0, "avg_ttfv_days": None}

"""Health backtest on a hand-built history: outcomes, the snapshot 90 days before, churn per band, ROC AUC."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import ContractStatus
from health.models import HealthSnapshot
from metrics.backtest import backtest, renewal_events, renewal_rates_by_band, roc_auc
from tests.factories import AccountFactory, ContractFactory

TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)


def _snapshot(account, day, score, band, usage):
    HealthSnapshot.objects.create(
        account=account,
        as_of=day,
        computed_at=timezone.make_aware(dt.datetime.combine(day, dt.time(3))),
        score=score,
        band=band,
        breakdown={"usage": {"value": usage, "points": usage, "weight": 1, "missing": False}},
    )


def _customer(score, band, *, renews, usage):
    account = AccountFactory()
    contract = ContractFactory(account=account, start_date=START, end_date=END)
    if renews:
        ContractFactory(
            account=account, start_date=END + dt.timedelta(days=1), end_date=dt.date(2026, 12, 31), previous=contract
        )
    _snapshot(account, dt.date(2025, 9, 15), score, band, usage)  # 108 days before the end: the one read
    _snapshot(account, dt.date(2025, 12, 1), 10, "red", 0)  # too close to the renewal to count
    return account


@pytest.fixture
def history(db):
    accounts = {
        "green": _customer(80, "green", renews=True, usage=90),
        "y1": _customer(60, "yellow", renews=True, usage=20),
        "y2": _customer(50, "yellow", renews=True, usage=70),
        "y3": _customer(55, "yellow", renews=False, usage=40),
        "red": _customer(30, "red", renews=False, usage=10),
    }
    # An amendment (cancelled and replaced) is no renewal decision; a contract still running is no event yet.
    amended_account = AccountFactory()
    old = ContractFactory(
        account=amended_account, start_date=START, end_date=END, status=ContractStatus.CANCELLED,
        cancelled_on=dt.date(2025, 6, 1),
    )  # fmt: skip
    ContractFactory(account=amended_account, start_date=dt.date(2025, 6, 1), end_date=END, previous=old)
    return accounts


def test_events_read_the_outcome_and_the_snapshot_90_days_before(history):
    events = renewal_events(today=TODAY)
    by_account = {e.account_id: e for e in events}
    # 5 natural ends + the amended account's replacement contract (ends 2025-12-31, not renewed: churned)
    assert len(events) == 6
    assert by_account[history["green"].id].churned is False
    assert by_account[history["red"].id].churned is True
    assert by_account[history["red"].id].score == 30  # not the later 10
    assert by_account[history["red"].id].last_day == END


def test_backtest_band_rates_and_auc(history):
    result = backtest(renewal_events(today=TODAY))
    bands = {b["band"]: b for b in result["bands"]}
    assert (bands["green"]["events"], bands["green"]["churned"]) == (1, 0)
    assert (bands["yellow"]["events"], bands["yellow"]["churned"]) == (3, 1)
    assert bands["yellow"]["churn_rate"] == pytest.approx(1 / 3)
    assert (bands["red"]["events"], bands["red"]["churn_rate"]) == (1, 1.0)
    # Churned scores 30 and 55 against renewed 80, 60, 50: 5 of the 6 pairs ordered right.
    assert result["auc"] == pytest.approx(5 / 6)
    assert result["scored"] == 5 and result["events"] == 6
    # usage points: churned 40, 10 against renewed 90, 20, 70 -> pairs right: 40<90,40<70, 10<all 3 = 5/6
    usage = next(m for m in result["measures"] if m["key"] == "usage")
    assert usage["auc"] == pytest.approx(5 / 6) and usage["signal"] == "strong"


def test_renewal_rates_by_band_feed_the_forecast(history):
    rates = renewal_rates_by_band(today=TODAY)
    assert rates["green"] == 1.0
    assert rates["yellow"] == pytest.approx(2 / 3)
    assert rates["red"] == 0.0
    assert rates[""] == pytest.approx(3 / 6)


def test_scope_limits_the_events(history):
    from accounts.models import Account

    events = renewal_events(accounts=Account.objects.filter(pk=history["red"].pk), today=TODAY)
    assert [e.account_id for e in events] == [history["red"].id]


def test_roc_auc_edge_cases():
    assert roc_auc([]) is None
    assert roc_auc([(10, True), (20, True)]) is None  # one outcome only: undefined, not 0.5
    assert roc_auc([(10, True), (90, False)]) == 1.0
    assert roc_auc([(90, True), (10, False)]) == 0.0
    assert roc_auc([(50, True), (50, False)]) == 0.5  # a tie counts half
    assert roc_auc([(1, True), (5, False), (5, True), (9, False)]) == pytest.approx(0.875)

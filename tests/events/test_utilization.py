"""License utilization has one definition (events.metrics): the Usage tab, segment rules, trigger conditions and
health measures give the same figure for the same account and day, including the cases the three former
definitions disagreed on (a signed contract not started yet, one past its end date still marked active, users
just outside the 30-day window)."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Account, ContractStatus
from events import metrics
from events.models import AccountDailyUser
from health.engine import compute
from health.models import Scorecard
from segments.selectors import rules_accounts
from tests.factories import AccountFactory, ContractFactory
from tests.health.factories import MeasureFactory, ScorecardFactory
from triggers.conditions import state_queryset
from triggers.models import ConditionType, Trigger

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 20)


def _users(account, day, keys):
    AccountDailyUser.objects.bulk_create([AccountDailyUser(account=account, day=day, user_key=k) for k in keys])


@pytest.fixture
def account():
    account = AccountFactory()
    # In force on DAY: 15 seats. Not counted: a renewal signed but starting tomorrow, a contract that ended the
    # day before (its status not yet moved to expired by the nightly job), a draft and a cancelled one.
    ContractFactory(account=account, seats=10, start_date=DAY - dt.timedelta(days=100), end_date=DAY)
    ContractFactory(account=account, seats=5, start_date=DAY, end_date=DAY + dt.timedelta(days=364),
                    status=ContractStatus.EXPIRED)  # fmt: skip
    ContractFactory(account=account, seats=40, start_date=DAY + dt.timedelta(days=1))
    ContractFactory(account=account, seats=20, start_date=DAY - dt.timedelta(days=365), end_date=DAY - dt.timedelta(1))
    ContractFactory(account=account, seats=7, status=ContractStatus.DRAFT, start_date=DAY - dt.timedelta(days=1))
    ContractFactory(account=account, seats=9, status=ContractStatus.CANCELLED, start_date=DAY - dt.timedelta(1))
    # Active in the window [DAY-29, DAY]: u1..u5 (u1 on both edges); u6 only on DAY-30, u7 only on DAY+1.
    _users(account, DAY, ["u1", "u2"])
    _users(account, DAY - dt.timedelta(days=29), ["u1", "u3", "u4"])
    _users(account, DAY - dt.timedelta(days=10), ["u5"])
    _users(account, DAY - dt.timedelta(days=30), ["u6"])
    _users(account, DAY + dt.timedelta(days=1), ["u7"])
    return account


EXPECTED = 5 * 100 / 15  # 5 users active in the window ÷ 15 seats in force = 33.33...


def test_the_definition(account):
    assert metrics.active_window(DAY) == (DAY - dt.timedelta(days=29), DAY)
    assert metrics.seats(account_id=account.id, day=DAY) == 15
    assert metrics.license_utilization(active_users=5, seats=15) == pytest.approx(EXPECTED)
    assert metrics.license_utilization(active_users=5, seats=0) is None


def test_usage_tab_segments_triggers_and_health_agree(account):
    usage = metrics.usage_summary(account_id=account.id, today=DAY)
    assert (usage["mau"], usage["seats"]) == (5, 15)
    assert usage["license_utilization"] == pytest.approx(EXPECTED)

    annotated = metrics.annotate_license_utilization(Account.objects.filter(pk=account.pk), day=DAY)
    assert annotated.get().license_utilization == pytest.approx(EXPECTED)

    def rule(op, value):
        rules = {"op": "and", "conditions": [{"field": "license_utilization", "operator": op, "value": value}]}
        return set(rules_accounts(rules, today=DAY).values_list("id", flat=True))

    assert rule("gte", 33.3) == {account.id}
    assert rule("lt", 33.4) == {account.id}
    assert rule("lt", 33.3) == set()

    def below(percent):
        trigger = Trigger(condition_type=ConditionType.LICENSE_UTILIZATION, params={"percent": percent})
        rows = state_queryset(trigger, Account.objects.all(), today=DAY, now=timezone.now())
        return {row["id"]: row["t_util"] for row in rows.values("id", "t_util")}

    assert below(33.4) == {account.id: pytest.approx(EXPECTED)}
    assert below(33.3) == {}

    Scorecard.objects.all().delete()
    card = ScorecardFactory(name="Utilization", is_default=True)
    MeasureFactory(scorecard=card, key="license_utilization", breakpoints=[[0, 0], [100, 100]])
    (result,) = compute(as_of=DAY, account_ids=[account.id])
    assert result.breakdown["license_utilization"][0] == round(EXPECTED, 2)  # snapshots keep 2 decimals


def test_no_seats_is_undefined_everywhere(db):
    account = AccountFactory()
    _users(account, DAY, ["u1"])
    assert metrics.usage_summary(account_id=account.id, today=DAY)["license_utilization"] is None
    annotated = metrics.annotate_license_utilization(Account.objects.filter(pk=account.pk), day=DAY)
    assert annotated.get().license_utilization is None
    Scorecard.objects.all().delete()
    card = ScorecardFactory(name="Utilization", is_default=True)
    MeasureFactory(scorecard=card, key="license_utilization", breakpoints=[[0, 0], [100, 100]])
    (result,) = compute(as_of=DAY, account_ids=[account.id])
    assert result.breakdown["license_utilization"][0] is None

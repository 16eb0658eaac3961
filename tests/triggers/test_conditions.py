"""Each condition type fires exactly when it should and not otherwise, boundaries included; edge-triggered."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_refresh_financials
from events.models import AccountDailyEvent, AccountDailyUser
from segments.services import segment_create
from support.models import Ticket
from tests.factories import AccountFactory, ContractFactory
from tests.triggers.factories import days_ago, set_health
from triggers.selectors import SurveyAnswer, evaluate
from triggers.services import trigger_run, triggers_evaluate_periodic

pytestmark = pytest.mark.django_db


def test_health_band_fires_on_entering_the_band_only(make_trigger, run):
    red, yellow, unscored = AccountFactory(), AccountFactory(), AccountFactory()
    set_health(red, 30, "red")
    set_health(yellow, 50, "yellow")
    trigger = make_trigger("health_band", {"band": "red"})
    assert run(trigger) == {red.id}
    assert run(trigger) == set()  # still red: no second firing
    set_health(yellow, 35, "red")
    set_health(red, 45, "yellow")
    assert run(trigger) == {yellow.id}  # red left the band: re-armed
    set_health(red, 20, "red")
    assert run(trigger) == {red.id}  # ... and fires again on re-entry
    assert unscored.id not in run(trigger)


def test_score_drop_boundary(make_trigger, run):
    exactly, short, first = AccountFactory(), AccountFactory(), AccountFactory()
    set_health(exactly, 60, "yellow", previous_score=70)
    set_health(short, 61, "yellow", previous_score=70)
    set_health(first, 10, "red", previous_score=None)
    assert run(make_trigger("score_drop", {"points": 10})) == {exactly.id}


def _events(account, day, count, event="Report Viewed"):
    AccountDailyEvent.objects.create(account=account, day=day, event=event, count=count)


def test_usage_drop_boundary_and_windows(make_trigger, run):
    half, less, idle, today_only = AccountFactory(), AccountFactory(), AccountFactory(), AccountFactory()
    # 7-day windows: current = days 1..7 ago, previous = days 8..14 ago. Today is not complete: ignored.
    _events(half, days_ago(10), 100)
    _events(half, days_ago(3), 50)  # exactly -50%
    _events(less, days_ago(14), 100)
    _events(less, days_ago(1), 51)  # -49%
    _events(today_only, days_ago(8), 10)
    _events(today_only, days_ago(0), 500)  # today's events do not count: -100%
    _events(idle, days_ago(15), 100)  # outside both windows: previous is 0, nothing to compare
    trigger = make_trigger("usage_drop", {"percent": 50, "days": 7, "metric": "events"})
    assert run(trigger) == {half.id, today_only.id}


def test_usage_drop_on_active_users(make_trigger, run):
    account = AccountFactory()
    for user in ["a", "b", "c", "d"]:
        AccountDailyUser.objects.create(account=account, day=days_ago(40), user_key=user)
    AccountDailyUser.objects.create(account=account, day=days_ago(5), user_key="a")
    AccountDailyUser.objects.create(account=account, day=days_ago(6), user_key="a")  # one distinct user, not two
    trigger = make_trigger("usage_drop", {"percent": 75, "days": 30, "metric": "active_users"})
    assert run(trigger) == {account.id}  # 4 → 1 is -75%
    other = make_trigger("usage_drop", {"percent": 76, "days": 30, "metric": "active_users"})
    assert run(other) == set()


def test_license_utilization_below_is_strict(make_trigger, run):
    at, below, no_seats = AccountFactory(), AccountFactory(), AccountFactory()
    ContractFactory(account=at, seats=10)
    ContractFactory(account=below, seats=10)
    ContractFactory(account=below, seats=0, status="expired")
    for i in range(3):
        AccountDailyUser.objects.create(account=at, day=days_ago(i * 10), user_key=f"u{i}")  # days 0,10,20
    AccountDailyUser.objects.create(account=below, day=days_ago(0), user_key="x")
    AccountDailyUser.objects.create(account=below, day=days_ago(29), user_key="y")
    AccountDailyUser.objects.create(account=below, day=days_ago(30), user_key="z")  # outside the 30 days
    trigger = make_trigger("license_utilization", {"percent": 30})
    assert run(trigger) == {below.id}  # 20% fires; 30% is not below 30%; no seats never fires
    assert no_seats.id not in run(make_trigger("license_utilization", {"percent": 100}))


def test_renewal_within_boundaries(make_trigger, run):
    today = timezone.localdate()
    on_edge, beyond, today_acc = AccountFactory(), AccountFactory(), AccountFactory()
    ContractFactory(account=on_edge, end_date=today + dt.timedelta(days=30))
    ContractFactory(account=beyond, end_date=today + dt.timedelta(days=31))
    ContractFactory(account=today_acc, end_date=today)
    account_refresh_financials()
    assert run(make_trigger("renewal_within", {"days": 30})) == {on_edge.id, today_acc.id}


def test_no_touchpoint_boundaries(make_trigger, run):
    now = timezone.now()
    exactly, recent, never_old, never_new = (AccountFactory() for _ in range(4))
    Account.objects.filter(pk=exactly.pk).update(last_touchpoint_at=now - dt.timedelta(days=30))
    almost = now - dt.timedelta(days=30) + dt.timedelta(minutes=1)
    Account.objects.filter(pk=recent.pk).update(last_touchpoint_at=almost)
    Account.objects.filter(pk=never_old.pk).update(created_at=now - dt.timedelta(days=40))
    assert run(make_trigger("no_touchpoint", {"days": 30}), now=now) == {exactly.id, never_old.id}
    assert never_new.id not in run(make_trigger("no_touchpoint", {"days": 1}), now=now)


def test_support_escalation(make_trigger, run):
    escalated, solved, plain = AccountFactory(), AccountFactory(), AccountFactory()
    now = timezone.now()
    Ticket.objects.create(account=escalated, external_id="T1", is_escalated=True, status="pending", opened_at=now)
    Ticket.objects.create(account=solved, external_id="T2", is_escalated=True, status="solved", opened_at=now)
    Ticket.objects.create(account=plain, external_id="T3", is_escalated=False, status="open", opened_at=now)
    trigger = make_trigger("support_escalation")
    executions = {e.account_id: e for e in trigger_run(trigger_id=trigger.pk)}
    assert set(executions) == {escalated.id}
    assert "#T1" in executions[escalated.id].reason


def test_lifecycle_stage_entered(make_trigger, run):
    renewal, adoption = AccountFactory(lifecycle_stage="renewal"), AccountFactory(lifecycle_stage="adoption")
    trigger = make_trigger("lifecycle_entered", {"stage": "renewal"})
    assert run(trigger) == {renewal.id}
    Account.objects.filter(pk=adoption.pk).update(lifecycle_stage="renewal")
    assert run(trigger) == {adoption.id}


def test_product_event_received(make_trigger, run):
    three, two, yesterday = AccountFactory(), AccountFactory(), AccountFactory()
    _events(three, days_ago(0), 3, "Export Clicked")
    _events(two, days_ago(0), 2, "Export Clicked")
    _events(two, days_ago(0), 9, "Other Event")
    _events(yesterday, days_ago(1), 5, "Export Clicked")
    trigger = make_trigger("product_event", {"event": "Export Clicked", "min_count": 3, "days": 1})
    assert run(trigger) == {three.id}
    assert run(make_trigger("product_event", {"event": "Export Clicked", "min_count": 3, "days": 2})) == {
        three.id,
        yesterday.id,
    }


def test_segment_entered_and_left(make_trigger):
    a, b = AccountFactory(tier="smb"), AccountFactory(tier="enterprise")
    segment = segment_create(data={"name": "SMB", "rules": {"op": "and", "conditions": [
        {"field": "tier", "operator": "eq", "value": "smb"}]}})  # fmt: skip
    entered = make_trigger("segment_entered", condition_segment=segment)
    left = make_trigger("segment_left", condition_segment=segment)
    assert triggers_evaluate_periodic() == 0  # saving the segment stored its baseline
    Account.objects.filter(pk=b.pk).update(tier="smb")
    Account.objects.filter(pk=a.pk).update(tier="mid_market")
    assert evaluate(entered).fire[0].account_id == b.id  # dry run sees the pending diff
    assert triggers_evaluate_periodic() == 2
    assert list(entered.executions.values_list("account_id", flat=True)) == [b.id]
    assert list(left.executions.values_list("account_id", flat=True)) == [a.id]
    assert triggers_evaluate_periodic() == 0  # the diff was stored: nothing twice


def test_scope_segment_limits_accounts(make_trigger, run):
    smb, ent = AccountFactory(tier="smb"), AccountFactory(tier="enterprise")
    set_health(smb, 10, "red")
    set_health(ent, 10, "red")
    segment = segment_create(data={"name": "Ent", "rules": {"op": "and", "conditions": [
        {"field": "tier", "operator": "eq", "value": "enterprise"}]}})  # fmt: skip
    assert run(make_trigger("health_band", {"band": "red"}, scope_segment=segment)) == {ent.id}


def test_inactive_accounts_and_paused_triggers_never_fire(make_trigger, run):
    account = AccountFactory(status="inactive")
    set_health(account, 10, "red")
    assert run(make_trigger("health_band", {"band": "red"})) == set()
    active = AccountFactory()
    set_health(active, 10, "red")
    assert run(make_trigger("health_band", {"band": "red"}, is_active=False)) == set()


def test_survey_answer_fires_on_a_matching_answer_and_can_be_activated(make_trigger):
    trigger = make_trigger("survey_answer", {"kind": "nps", "score_min": 0, "score_max": 6}, is_active=False)
    account = AccountFactory()
    assert evaluate(trigger).note  # nothing to preview without an answer
    assert [c.account_id for c in evaluate(trigger, answer=SurveyAnswer(account.id, "nps", 6)).fire] == [account.id]
    assert evaluate(trigger, answer=SurveyAnswer(account.id, "nps", 7)).fire == []
    assert evaluate(trigger, answer=SurveyAnswer(account.id, "csat", 2)).fire == []
    fired = evaluate(trigger, answer=SurveyAnswer(account.id, "nps", 3, "Too slow")).fire
    assert fired[0].reason == "NPS answer 3: “Too slow”"
    trigger.is_active = True
    trigger.full_clean()  # the surveys app sends answers now


@pytest.mark.parametrize(
    ("ctype", "params", "field"),
    [
        ("health_band", {"band": "purple"}, "band"),
        ("score_drop", {"points": 0}, "points"),
        ("usage_drop", {"percent": 101, "days": 7, "metric": "events"}, "percent"),
        ("usage_drop", {"percent": 10, "days": 7, "metric": "logins"}, "metric"),
        ("renewal_within", {"days": "soon"}, "days"),
        ("product_event", {"event": ""}, "event"),
        ("survey_answer", {"kind": "nps", "score_min": 8, "score_max": 2}, "score_max"),
    ],
)
def test_bad_params_are_refused_with_the_param_named(make_trigger, ctype, params, field):
    with pytest.raises(ValidationError) as exc:
        make_trigger(ctype, params)
    assert any(m.startswith(f"{field}:") for m in exc.value.message_dict["params"])


def test_segment_condition_needs_a_segment(make_trigger):
    with pytest.raises(ValidationError) as exc:
        make_trigger("segment_entered")
    assert "condition_segment" in exc.value.message_dict


def test_evaluation_is_set_based(make_trigger, django_assert_max_num_queries):
    for i in range(30):
        account = AccountFactory()
        ContractFactory(account=account, seats=100, recurring_amount=Decimal("1000"))
        AccountDailyUser.objects.create(account=account, day=days_ago(0), user_key=f"u{i}")
    trigger = make_trigger("license_utilization", {"percent": 50})
    # matches not yet fired (one query with the utilization subqueries), then the dedupe lookup
    with django_assert_max_num_queries(2):
        assert len(evaluate(trigger).fire) == 30

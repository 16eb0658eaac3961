"""Activities, the last touchpoint, timeline_record and contract changes on the feed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.services import contract_create, contract_delete, contract_update
from tests.factories import ContactFactory
from tests.timeline.factories import log_activity, record
from timeline.models import Activity, EntryKind, TimelineEntry
from timeline.selectors import going_dark, timeline_feed
from timeline.services import activity_delete, activity_update, timeline_record

pytestmark = pytest.mark.django_db


def test_logging_sets_entry_sentiment_and_last_touchpoint(own_account, csm, contact):
    activity = log_activity(own_account, csm, days_ago=2, summary="Great call, they love the product.")
    assert activity.suggested_sentiment == "positive"
    assert activity.sentiment == "positive"  # left empty: the suggestion is accepted
    entry = TimelineEntry.objects.get(activity=activity)
    assert entry.kind == EntryKind.ACTIVITY and entry.occurred_at == activity.occurred_at
    own_account.refresh_from_db()
    assert own_account.last_touchpoint_at == activity.occurred_at


def test_csm_choice_overrides_suggestion(own_account, csm):
    activity = log_activity(own_account, csm, summary="Great call, they love it.", sentiment="negative")
    assert (activity.sentiment, activity.suggested_sentiment) == ("negative", "positive")


def test_last_touchpoint_is_the_latest_touchpoint_and_ignores_notes(own_account, csm):
    older = log_activity(own_account, csm, days_ago=10)
    newer = log_activity(own_account, csm, days_ago=3, kind="meeting")
    log_activity(own_account, csm, days_ago=1, kind="note", summary="Internal note")
    own_account.refresh_from_db()
    assert own_account.last_touchpoint_at == newer.occurred_at
    activity_delete(activity=newer)
    own_account.refresh_from_db()
    assert own_account.last_touchpoint_at == older.occurred_at
    activity_update(activity=older, data={"occurred_at": older.occurred_at - dt.timedelta(days=1)})
    own_account.refresh_from_db()
    assert own_account.last_touchpoint_at == older.occurred_at
    assert TimelineEntry.objects.get(activity=older).occurred_at == older.occurred_at


def test_bad_activities_are_refused(own_account, csm, foreign_account):
    with pytest.raises(ValidationError) as exc:
        log_activity(own_account, csm, days_ago=-1)
    assert "occurred_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        log_activity(own_account, csm, summary="")
    assert "summary" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        log_activity(own_account, csm, kind="fax")
    assert "kind" in exc.value.message_dict
    stranger = ContactFactory(account=foreign_account)
    from timeline.services import activity_create

    with pytest.raises(ValidationError) as exc:
        activity_create(account=own_account, author=csm, data={"kind": "call", "summary": "x"}, contacts=[stranger])
    assert "attendee_contacts" in exc.value.message_dict
    assert not Activity.objects.exists() and not TimelineEntry.objects.exists()


def test_feed_is_newest_first_and_filters_by_kind(own_account, csm):
    log_activity(own_account, csm, days_ago=5, summary="old call")
    record(own_account, kind="health", days_ago=1)
    log_activity(own_account, csm, days_ago=0.5, summary="new call")
    record(own_account, kind="cta_opened", days_ago=3, title="CTA opened: renewal risk")
    titles = [e.title for e in timeline_feed(account_id=own_account.pk)]
    assert titles == ["Call: new call", "Health: green to red", "CTA opened: renewal risk", "Call: old call"]
    only = timeline_feed(account_id=own_account.pk, kinds=["health", "cta_opened"])
    assert [e.kind for e in only] == ["health", "cta_opened"]


def test_timeline_record_refuses_unknown_kinds(own_account):
    with pytest.raises(ValidationError):
        timeline_record(account=own_account, kind="gossip", title="x")


def test_contract_changes_appear_on_the_timeline(own_account):
    today = timezone.localdate()
    contract = contract_create(
        account=own_account,
        data={"start_date": today, "end_date": today + dt.timedelta(days=365), "recurring_amount": Decimal("1000")},
    )
    contract_update(contract=contract, data={"seats": 40})
    contract_delete(contract=contract)
    entries = list(TimelineEntry.objects.filter(account=own_account, kind="contract").order_by("id"))
    assert [e.data["action"] for e in entries] == ["created", "updated", "deleted"]
    assert entries[1].data["seats"] == 40


def test_a_contract_line_rolls_back_with_its_write(own_account):
    # accounts announces with contract_changed inside its transaction; the timeline's line shares its fate.
    from django.db import transaction

    today = timezone.localdate()
    with pytest.raises(RuntimeError), transaction.atomic():
        contract_create(account=own_account, data={"start_date": today, "end_date": today, "recurring_amount": 1})
        assert TimelineEntry.objects.filter(account=own_account, kind="contract").count() == 1
        raise RuntimeError("the caller fails after the write")
    assert not TimelineEntry.objects.filter(account=own_account, kind="contract").exists()


def test_going_dark_lists_silent_accounts(own_account, csm, admin_user):
    from tests.factories import AccountFactory

    quiet = AccountFactory(owner=csm, name="Quiet Co")
    log_activity(quiet, csm, days_ago=45)
    log_activity(own_account, csm, days_ago=2)
    never = AccountFactory(owner=csm, name="Never Co")
    names = [a.name for a in going_dark(user=csm, scope="mine", days=30)]
    assert names == ["Never Co", "Quiet Co"]
    assert never.pk

"""The one-statement write path (PostgreSQL) and the ORM path: attribution, idempotency, marks and claims,
and values that would need escaping in other formats stored exactly."""

import pytest
from django.db import connection

from events.models import AccountDailyEvent, Event, UsageClaim, UsageMark, UserGroup
from tests.events.test_tracking import track
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_user_s_group_from_an_earlier_call_attributes_later_events(post_v1):
    account = AccountFactory(external_id="ACME-1")
    assert post_v1("group", {"userId": "u1", "groupId": "ACME-1", "messageId": "g1"}).status_code == 200
    assert post_v1("track", track(mid="t1", group=None)).status_code == 200
    event = Event.objects.get(message_id="t1")
    assert (event.group_id, event.account_id) == ("ACME-1", account.id)


def test_a_group_call_attributes_the_same_batch_s_events(post_v1):
    account = AccountFactory(external_id="ACME-1")
    batch = [
        {"type": "group", "userId": "u9", "groupId": "ACME-1", "messageId": "g9"},
        track(mid="t9", user="u9", group=None),
        {"type": "page", "anonymousId": "anon-1", "name": "Home", "messageId": "p9"},  # no user group: unmatched
    ]
    assert post_v1("batch", {"batch": batch}).status_code == 200
    assert Event.objects.get(message_id="t9").account_id == account.id
    assert Event.objects.get(message_id="p9").account_id is None
    assert UserGroup.objects.get(user_id="u9").account_id == account.id


def test_only_newly_stored_events_mark_and_claim_their_accounts(post_v1):
    acme, other = AccountFactory(external_id="ACME-1"), AccountFactory(external_id="OTHER")
    assert post_v1("batch", {"batch": [track(mid="a"), track(mid="b", group="OTHER")]}).status_code == 200
    assert sorted(UsageMark.objects.values_list("account_id", flat=True)) == sorted([acme.id, other.id])
    assert set(UsageClaim.objects.values_list("account_id", flat=True)) == {acme.id, other.id}
    UsageMark.objects.all().delete()
    assert post_v1("batch", {"batch": [track(mid="a"), track(mid="b", group="OTHER")]}).status_code == 200  # retry
    assert not UsageMark.objects.exists()
    assert Event.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's")
def test_the_statement_claims_an_account_once_until_its_task_runs(source):
    import datetime as dt

    from events import storage
    from events.messages import Message

    account = AccountFactory(external_id="ACME-1")
    now = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)

    def message(mid):
        return Message("track", mid, "u1", "", "Opened", "ACME-1", now, {}, {"groupId": "ACME-1"})

    assert storage.insert_events_pg(source_id=source.id, messages=[message("x1")], received_at=now) == [account.id]
    assert storage.insert_events_pg(source_id=source.id, messages=[message("x2")], received_at=now) == []
    assert UsageMark.objects.count() == 2  # both calls' events wait for the refresh


def test_text_and_json_are_stored_exactly(post_v1):
    AccountFactory(external_id="ACME-1")
    tricky = "tab\there\nnew line \\ backslash \\N \u00e9\u4e2d\U0001f600 'quote\" ,;"
    props = {"path": tricky, "nested": {"list": [1, 2.5, None, True, "\\"]}, "big": 123456789012345678901}
    msg = track(mid="tricky\tid", user=tricky[:50], event=tricky, properties=props)
    assert post_v1("batch", {"batch": [msg]}).status_code == 200
    event = Event.objects.get()
    assert (event.message_id, event.user_id, event.event) == ("tricky\tid", tricky[:50], tricky)
    assert event.properties["path"] == tricky
    assert event.properties["nested"] == {"list": [1, 2.5, None, True, "\\"]}
    assert event.properties["big"] == pytest.approx(123456789012345678901)  # beyond 64 bits: kept as a number


def test_nul_inside_a_batch_rejects_only_that_message(post_v1):
    AccountFactory(external_id="ACME-1")
    batch = [track(mid="ok"), track(mid="bad", properties={"note": "a\u0000b"})]
    response = post_v1("batch", {"batch": batch})
    assert response.status_code == 200
    assert response.json()["rejected"][0]["index"] == 1
    assert list(Event.objects.values_list("message_id", flat=True)) == ["ok"]


def test_an_escaped_backslash_before_u0000_is_not_a_nul(post_v1):
    AccountFactory(external_id="ACME-1")
    response = post_v1("track", track(properties={"text": "\\u0000 is how JSON writes NUL"}))
    assert response.status_code == 200
    assert Event.objects.get().properties["text"] == "\\u0000 is how JSON writes NUL"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_retry_falls_back_to_skipping_duplicates(post_v1):
    # Real commits (no test transaction): the first call takes the plain INSERT, the retry's repeated
    # messageId makes it fail and the duplicate-skipping variant stores the one new event.
    account = AccountFactory(external_id="ACME-1")
    assert post_v1("batch", {"batch": [track(mid="r1"), track(mid="r2")]}).status_code == 200
    response = post_v1("batch", {"batch": [track(mid="r1"), track(mid="r2"), track(mid="r3", user="u2")]})
    assert response.status_code == 200
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["r1", "r2", "r3"]
    assert post_v1("batch", {"batch": [track(mid="d"), track(mid="d")]}).status_code == 200  # repeated in a call
    assert Event.objects.filter(message_id="d").count() == 1
    # Each call's refresh ran on commit (tasks are eager here): the rollups count every event once.
    assert AccountDailyEvent.objects.get(account=account).count == 4

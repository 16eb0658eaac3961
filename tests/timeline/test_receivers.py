"""Health band changes reach the timeline through the health_changed_many signal."""

import pytest

from health.models import AccountHealth
from health.signals import health_changed_many
from tests.factories import AccountFactory
from timeline import receivers
from timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


def test_band_changes_become_timeline_lines_and_first_scores_do_not(django_assert_num_queries):
    a, b, c = AccountFactory.create_batch(3)
    changes = [
        {"account_id": a.pk, "old_band": "green", "new_band": "red", "old_score": 75.0, "new_score": 31.5},
        {"account_id": b.pk, "old_band": "yellow", "new_band": "green", "old_score": 50.0, "new_score": 80.0},
        {"account_id": c.pk, "old_band": None, "new_band": "green", "old_score": None, "new_score": 90.0},
    ]
    with django_assert_num_queries(1):  # one bulk INSERT for every change
        receivers.on_health_changed_many(sender=AccountHealth, changes=changes)
    entries = TimelineEntry.objects.filter(kind=EntryKind.HEALTH)
    assert {e.account_id for e in entries} == {a.pk, b.pk}
    line = entries.get(account=a)
    assert line.title == "Health: green → red"
    assert line.data["new_score"] == 31.5


def test_the_receiver_is_connected():
    account = AccountFactory()
    change = {"account_id": account.pk, "old_band": "green", "new_band": "yellow", "old_score": 71, "new_score": 60}
    health_changed_many.send(sender=AccountHealth, changes=[change])
    assert TimelineEntry.objects.get(kind=EntryKind.HEALTH).account == account

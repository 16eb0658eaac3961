"""Health band changes become timeline lines: health calls ``timeline_record_health_changes`` (one bulk insert)."""

import pytest

from tests.factories import AccountFactory
from timeline.models import EntryKind, TimelineEntry
from timeline.services import timeline_record_health_changes

pytestmark = pytest.mark.django_db


def test_band_changes_become_timeline_lines_and_first_scores_do_not(django_assert_num_queries):
    a, b, c = AccountFactory.create_batch(3)
    changes = [
        {"account_id": a.pk, "old_band": "green", "new_band": "red", "old_score": 75.0, "new_score": 31.5},
        {"account_id": b.pk, "old_band": "yellow", "new_band": "green", "old_score": 50.0, "new_score": 80.0},
        {"account_id": c.pk, "old_band": None, "new_band": "green", "old_score": None, "new_score": 90.0},
    ]
    with django_assert_num_queries(1):  # one bulk INSERT for every change
        assert timeline_record_health_changes(changes=changes) == 2
    entries = TimelineEntry.objects.filter(kind=EntryKind.HEALTH)
    assert {e.account_id for e in entries} == {a.pk, b.pk}
    line = entries.get(account=a)
    assert line.title == "Health: green → red"
    assert line.data["new_score"] == 31.5

"""The demo tells the truth: churned accounts are not renewing, every account has a usage story, tickets, plans,
segments and active triggers exist, usage loads through the ingest service, and after it the health timeline
comes from history and the triggers have executions."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account
from demo.automation import demo_after_usage
from demo.usage import usage_demo_load
from events.management.commands.simulate_usage import usage_profile
from events.models import AccountDailyUser, Event
from health.services import health_recompute, health_recompute_history
from segments.models import Segment
from success.models import PlanTemplate, SuccessPlan
from support.models import Ticket
from timeline.models import EntryKind, TimelineEntry
from triggers.models import Trigger, TriggerExecution

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


def test_the_demo_book_is_believable(demo):
    today = timezone.localdate()
    churned = Account.objects.filter(lifecycle_stage="churned")
    assert churned.exists()
    assert not churned.filter(next_renewal_date__gte=today).exists()  # no future renewal for a lost customer
    assert set(churned.values_list("status", flat=True)) == {"inactive"}
    profiles = Counter(usage_profile(a) for a in Account.objects.all())
    total = sum(profiles.values())
    assert (profiles["healthy"] + profiles["steady"]) / total > 0.7  # mostly healthy
    assert 0 < profiles["dormant"] / total < 0.15  # a few dormant
    assert all(usage_profile(a) == "dormant" for a in churned)
    assert Ticket.objects.count() > 150 and Ticket.objects.filter(is_escalated=True).exists()
    assert PlanTemplate.objects.count() == 3
    assert SuccessPlan.objects.filter(template__isnull=False).count() > 30
    assert not Trigger.objects.exists()  # set up once usage is in (demo_after_usage), not on usage-less scores
    counts = (Ticket.objects.count(), SuccessPlan.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert counts == (Ticket.objects.count(), SuccessPlan.objects.count())


def test_usage_history_then_health_timeline_and_trigger_executions(demo, django_capture_on_commit_callbacks):
    accounts = list(Account.objects.filter(external_id__startswith="DEMO-").order_by("external_id")[:8])
    progress = []
    with django_capture_on_commit_callbacks(execute=True):  # the rollup refresh is enqueued after each commit
        stored = usage_demo_load(days=20, accounts=accounts, progress=lambda *a: progress.append(a))
    assert stored > 0 and progress[-1][:2] == (8, 8)
    assert Event.objects.filter(account__in=accounts).count() > 100
    assert AccountDailyUser.objects.filter(account__in=accounts).exists()  # rollups refreshed by the pipeline
    before = Event.objects.count()
    usage_demo_load(days=20, accounts=accounts)
    assert Event.objects.count() == before  # idempotent: stable message ids

    health_recompute()
    health_recompute_history(days=20)
    TimelineEntry.objects.create(account=accounts[0], kind=EntryKind.HEALTH, title="Health: red → green",
                                 occurred_at=timezone.now())  # a set-up artifact  # fmt: skip
    result = demo_after_usage()
    health_lines = TimelineEntry.objects.filter(kind=EntryKind.HEALTH)
    assert health_lines.count() == result["health_lines"]
    assert not health_lines.filter(data={}).exists()  # the set-up artifact is gone
    assert all(line.data["old_band"] != line.data["new_band"] for line in health_lines)
    assert Segment.objects.count() == 3
    assert Trigger.objects.filter(is_active=True).count() == 3
    assert TriggerExecution.objects.exists()  # the active triggers ran once
    demo_after_usage()
    assert Trigger.objects.count() == 3 and Segment.objects.count() == 3  # idempotent

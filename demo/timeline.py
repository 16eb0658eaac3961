"""Demo activities: a believable history of calls, meetings and emails on the demo accounts, so the timeline,
"going dark" lists and the engagement health measure have something to show. Deterministic and idempotent."""

import datetime as dt
import random

from django.utils import timezone

from accounts.models import Account
from timeline.models import Activity, ActivityKind
from timeline.services import activity_create

NOTES = [
    (ActivityKind.CALL, "Weekly check-in", "Great call, the team loves the new dashboards and adoption is growing."),
    (ActivityKind.CALL, "Renewal prep", "Budget is tight and they are unhappy with slow support response times."),
    (ActivityKind.MEETING, "Workshop", "Ran a reporting workshop with six analysts; useful session."),
    (ActivityKind.EMAIL, "Follow-up", "Sent the integration guide and the recording of last week's training."),
    (ActivityKind.QBR, "Quarterly business review", "Strong quarter: they hit their onboarding goal early."),
    (ActivityKind.KICKOFF, "Kickoff call", "Kickoff went well, goals agreed and go-live planned for next month."),
    (ActivityKind.ESCALATION, "Outage escalation", "Frustrated champion after the outage; angry about lost data."),
    (ActivityKind.NOTE, "Internal note", "Champion is leaving the company next month; find a new sponsor."),
]


def timeline_demo_seed(*, seed: int = 11) -> int:
    """Log 0-4 activities on each demo account over the last 120 days (a fifth of the accounts go quiet for
    two months). Runs once: does nothing when demo accounts already have activities."""
    accounts = list(Account.objects.filter(external_id__startswith="DEMO-").select_related("owner").order_by("id"))
    if not accounts or Activity.objects.filter(account__in=accounts).exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    created = 0
    for account in accounts:
        quiet = rng.random() < 0.2
        for _ in range(rng.randint(0, 4)):
            kind, subject, summary = rng.choice(NOTES)
            days_ago = rng.randint(60, 120) if quiet else rng.randint(1, 120)
            activity_create(
                account=account,
                author=account.owner,
                data={
                    "kind": kind,
                    "subject": subject,
                    "summary": summary,
                    "occurred_at": now - dt.timedelta(days=days_ago, hours=rng.randint(0, 8)),
                },
            )
            created += 1
    return created

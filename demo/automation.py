"""The rest of a believable CS organisation: support tickets and success plans from templates (seeded with the
accounts); once usage is in, a health timeline drawn from the recomputed history instead of the set-up's
red-to-green jumps, then segments and active triggers with their first executions. Deterministic and
idempotent: nothing is added twice."""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, LifecycleStage, Tier
from events.management.commands.simulate_usage import usage_profile
from health.models import HealthSnapshot, SnapshotSource
from playbooks.models import CTAType, Playbook
from segments.models import Segment
from segments.services import segment_create
from success.models import PlanTemplate, SuccessPlan
from success.services import plan_create, template_create
from support.models import Ticket, TicketPriority, TicketStatus
from timeline.models import EntryKind, TimelineEntry
from timeline.services import timeline_record
from triggers.models import Trigger
from triggers.services import trigger_create, triggers_evaluate_periodic

SUBJECTS = ["Cannot export report", "SSO login loop", "Dashboard slow to load", "Invite emails not arriving",
            "API rate limit question", "Billing address change", "Data missing after import",
            "Feature request"]  # fmt: skip
TEMPLATES = [
    ("90-day onboarding", "", LifecycleStage.ONBOARDING, {
        "objectives": [{"title": "Team live on the product", "success_criteria": "80% of seats active weekly",
                        "target_days": 60}],
        "milestones": [{"kind": "kickoff", "name": "Kickoff", "due_days": 7},
                       {"kind": "go_live", "name": "Go-live", "due_days": 45},
                       {"kind": "first_value", "name": "First report shared with leadership", "due_days": 75}],
        "tasks": [{"title": "Send the kickoff agenda", "due_days": 2},
                  {"title": "Technical setup call", "due_days": 14}],
    }),
    ("Enterprise adoption plan", Tier.ENTERPRISE, "", {
        "objectives": [{"title": "Roll out to every region", "success_criteria": "Each region has an active admin",
                        "target_days": 120},
                       {"title": "Executive sponsor sees ROI", "success_criteria": "QBR with measured savings",
                        "target_days": 90}],
        "milestones": [{"kind": "custom", "name": "Regional rollout", "due_days": 60}],
        "tasks": [{"title": "Map stakeholders per region", "due_days": 10},
                  {"title": "Prepare the QBR deck", "due_days": 80}],
    }),
    ("Renewal readiness", "", LifecycleStage.RENEWAL, {
        "objectives": [{"title": "Renew on time", "success_criteria": "Signed before the end date", "target_days": 90}],
        "milestones": [{"kind": "custom", "name": "Value review", "due_days": 30}],
        "tasks": [{"title": "Build the value summary", "due_days": 14}],
    }),
]  # fmt: skip
SEGMENTS = [
    ("Enterprise", {"op": "and", "conditions": [{"field": "tier", "operator": "eq", "value": "enterprise"}]}),
    ("Red health", {"op": "and", "conditions": [{"field": "health_band", "operator": "eq", "value": "red"}]}),
    ("Renewing within 90 days", {"op": "and", "conditions": [
        {"field": "days_to_renewal", "operator": "between", "value": [0, 90]}]}),
]  # fmt: skip


@transaction.atomic
def support_demo_seed(*, seed: int = 13) -> int:
    """0-5 tickets per demo account over the last 120 days; accounts whose usage declines or went dormant get
    more, urgent and escalated ones (escalations go on the timeline, as ``support.services`` records them).
    One bulk insert: the health score that follows the seed reads them all. Runs once."""
    if Ticket.objects.filter(external_id__startswith="DEMO-").exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    tickets = []
    for account in Account.objects.filter(external_id__startswith="DEMO-").order_by("id"):
        troubled = usage_profile(account) in ("declining", "dormant")
        for n in range(rng.randint(2, 5) if troubled else rng.randint(0, 2)):
            opened = now - dt.timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
            responded = opened + dt.timedelta(hours=rng.uniform(0.5, 30 if troubled else 8))
            solved = opened + dt.timedelta(days=rng.randint(1, 10))
            done = solved < now and rng.random() < 0.8
            ticket = Ticket(
                account=account, external_id=f"{account.external_id}-T{n + 1}", subject=rng.choice(SUBJECTS),
                priority=rng.choice([TicketPriority.HIGH, TicketPriority.URGENT]) if troubled and rng.random() < 0.5
                else rng.choice([TicketPriority.LOW, TicketPriority.NORMAL]),
                status=TicketStatus.SOLVED if done else rng.choice([TicketStatus.OPEN, TicketStatus.PENDING]),
                is_escalated=troubled and rng.random() < 0.3, opened_at=opened,
                first_response_at=responded if responded < now else None, solved_at=solved if done else None,
            )  # fmt: skip
            ticket.full_clean()
            tickets.append(ticket)
    Ticket.objects.bulk_create(tickets)
    for ticket in tickets:
        if ticket.is_escalated:
            timeline_record(
                account=ticket.account_id, kind=EntryKind.ESCALATION, title=f"Support escalation: {ticket}",
                occurred_at=ticket.opened_at, source=("ticket", ticket.pk),
                data={"priority": ticket.priority, "status": ticket.status, "external_id": ticket.external_id},
            )  # fmt: skip
    return len(tickets)


@transaction.atomic
def success_demo_seed(*, seed: int = 17) -> int:
    """Three plan templates and a plan from one of them on every onboarding and renewal-stage account and on
    a third of the enterprise ones, started in the past so milestones are spread around today."""
    templates = {}
    for name, tier, stage, items in TEMPLATES:
        templates[name] = PlanTemplate.objects.filter(name=name).first() or template_create(
            data={"name": name, "tier": tier, "lifecycle_stage": stage, "items": items}
        )
    rng = random.Random(seed)
    today = timezone.localdate()
    planned = set(SuccessPlan.objects.values_list("account_id", flat=True))
    created = 0
    for account in Account.objects.filter(external_id__startswith="DEMO-").select_related("owner").order_by("id"):
        if account.lifecycle_stage == LifecycleStage.ONBOARDING:
            template = templates["90-day onboarding"]
        elif account.lifecycle_stage == LifecycleStage.RENEWAL:
            template = templates["Renewal readiness"]
        elif account.tier == Tier.ENTERPRISE and rng.random() < 0.35:
            template = templates["Enterprise adoption plan"]
        else:
            continue
        start = today - dt.timedelta(days=rng.randint(5, 70))
        if account.pk in planned:
            continue
        plan_create(account=account, template=template, data={"start_date": start})
        created += 1
    return created


@transaction.atomic
def automation_demo_seed() -> int:
    """Segments and three active triggers an admin would set up first; they fire once usage is loaded."""
    segments = {}
    for name, rules in SEGMENTS:
        segments[name] = Segment.objects.filter(name=name).first() or segment_create(
            data={"name": name, "rules": rules}
        )
    risk = Playbook.objects.filter(cta_type=CTAType.RISK).order_by("id").first()
    renewal = Playbook.objects.filter(cta_type=CTAType.RENEWAL).order_by("id").first()
    triggers = [
        {"name": "Health turned red: recovery CTA", "condition_type": "health_band", "params": {"band": "red"},
         "open_cta": True, "cta_type": CTAType.RISK, "cta_priority": "high", "cta_playbook": risk,
         "cta_title": "Recover {{ account }}", "notify_owner": True},
        {"name": "Enterprise renewal in 90 days", "condition_type": "renewal_within", "params": {"days": 90},
         "scope_segment": segments["Enterprise"], "open_cta": True, "cta_type": CTAType.RENEWAL,
         "cta_priority": "medium", "cta_playbook": renewal, "cta_title": "Renew {{ account }}"},
        {"name": "No touchpoint for 45 days", "condition_type": "no_touchpoint", "params": {"days": 45},
         "open_cta": False, "notify_owner": True},
    ]  # fmt: skip
    created = 0
    for data in triggers:
        if not Trigger.objects.filter(name=data["name"]).exists():
            trigger_create(data={**data, "is_active": True})
            created += 1
    return created


def health_timeline_from_history() -> int:
    """Replace the health lines written while the demo was being set up (every account "red → green" today,
    because usage arrived after the first score) with the band changes of the recomputed daily history."""
    accounts = Account.objects.filter(external_id__startswith="DEMO-")
    TimelineEntry.objects.filter(account__in=accounts, kind=EntryKind.HEALTH).delete()
    snaps = (
        HealthSnapshot.objects.filter(account__in=accounts, source=SnapshotSource.HISTORY)
        .order_by("account_id", "as_of", "id")
        .values_list("account_id", "as_of", "band", "score")
    )
    entries, last = [], {}
    for account_id, as_of, band, score in snaps.iterator():
        old_band, old_score = last.get(account_id, ("", None))
        if old_band and band != old_band:
            entries.append(TimelineEntry(
                account_id=account_id, kind=EntryKind.HEALTH, title=f"Health: {old_band} → {band or 'unscored'}",
                occurred_at=dt.datetime.combine(as_of, dt.time(2, 15), tzinfo=dt.UTC), source_type="health",
                data={"old_band": old_band, "new_band": band, "old_score": old_score, "new_score": score},
            ))  # fmt: skip
        last[account_id] = (band, score)
    TimelineEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def demo_after_usage() -> dict[str, int]:
    """Once usage and health history are in: the health timeline from history, segments and active triggers,
    then the triggers' first run (as the periodic evaluation would), so the demo shows executions and the CTAs
    they opened."""
    lines = health_timeline_from_history()
    automation_demo_seed()
    return {"health_lines": lines, "fired": triggers_evaluate_periodic()}

"""Demo playbooks, CTA reasons and ~30 open CTAs over the demo accounts (run after ``demo.accounts.demo_seed``).

Deterministic and idempotent: the same CTAs for the same seed, nothing added twice."""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from playbooks.models import CTA, CTAPriority, CTAReason, CTATask, CTAType, Playbook, TaskType
from playbooks.services import cta_apply_playbook, playbook_save, reason_save

REASONS = [
    ("Health turned red", CTAType.RISK), ("Usage drop", CTAType.RISK), ("Champion left", CTAType.RISK),
    ("Support escalation", CTAType.RISK), ("Renewal in 90 days", CTAType.RENEWAL),
    ("Seats nearly full", CTAType.OPPORTUNITY), ("New team interested", CTAType.OPPORTUNITY),
    ("New customer", CTAType.LIFECYCLE), ("Low feature adoption", CTAType.LIFECYCLE),
    ("QBR due", CTAType.ACTIVITY), ("Other", ""),
]  # fmt: skip
PLAYBOOKS = [
    ("Risk: turn a red account around", CTAType.RISK, "Find out why, agree a recovery plan, escalate early.", [
        ("Review health drivers and recent tickets", TaskType.TODO, 0, "account_owner"),
        ("Call the champion", TaskType.CALL, 2, "account_owner"),
        ("Recovery plan meeting", TaskType.MEETING, 7, "account_owner"),
        ("Executive check-in if no progress", TaskType.EMAIL, 10, "owner_manager"),
    ]),
    ("Renewal: 90 days out", CTAType.RENEWAL, "Secure the renewal with value evidence and a clean quote.", [
        ("Prepare value summary", TaskType.TODO, 3, "account_owner"),
        ("Align with the account executive on pricing", TaskType.MEETING, 7, "account_team:ae"),
        ("Send renewal proposal", TaskType.EMAIL, 14, "account_owner"),
    ]),
    ("Onboarding kickoff", CTAType.LIFECYCLE, "From signature to first value in 30 days.", [
        ("Welcome email with kickoff agenda", TaskType.EMAIL, 0, "account_owner"),
        ("Kickoff meeting", TaskType.MEETING, 5, "account_owner"),
        ("Technical setup session", TaskType.CALL, 10, "account_team:implementation"),
        ("First-value check", TaskType.CALL, 30, "account_owner"),
    ]),
    ("Expansion: seats nearly full", CTAType.OPPORTUNITY, "Turn high utilisation into an upsell.", [
        ("Confirm utilisation and growth plans", TaskType.CALL, 2, "account_owner"),
        ("Hand over to the account executive", TaskType.EMAIL, 5, "account_team:ae"),
    ]),
]  # fmt: skip
GUIDANCE = {
    "Call the champion": "Ask what changed: people, priorities, budget. Listen first; agree one next step.",
    "Recovery plan meeting": "Bring the health drivers; agree 2-3 measurable goals with owners and dates.",
    "Prepare value summary": "ROI since the last renewal: usage trend, outcomes reached, support history.",
    "Kickoff meeting": "Confirm goals, success criteria, timeline and who does what on both sides.",
    "Confirm utilisation and growth plans": "Which teams are next? Is the seat limit blocking anyone?",
}
TITLES = {
    CTAType.RISK: "Recover {name}", CTAType.RENEWAL: "Renew {name}", CTAType.LIFECYCLE: "Onboard {name}",
    CTAType.OPPORTUNITY: "Expand {name}", CTAType.ACTIVITY: "Schedule QBR with {name}",
}  # fmt: skip
# Days from today to the due date: the demo CSM gets some of each cockpit group.
DUE_OFFSETS = [-6, -2, -1, 0, 0, 1, 2, 3, 5, 9, 14, 21, 30, 45]


@transaction.atomic
def playbooks_demo_seed(*, seed: int = 5, count: int = 30) -> dict[str, int]:
    """Reasons, four playbooks and ``count`` open CTAs on demo accounts (a third for the demo CSM)."""
    rng = random.Random(seed)
    today = timezone.localdate()
    reasons = {}
    for name, cta_type in REASONS:
        reasons[name] = CTAReason.objects.filter(name=name).first() or reason_save(
            data={"name": name, "cta_type": cta_type}
        )
    playbooks = {}
    for name, cta_type, description, steps in PLAYBOOKS:
        tasks = [
            {"title": t, "task_type": k, "due_in_days": d, "assignee_role": r, "guidance": GUIDANCE.get(t, "")}
            for t, k, d, r in steps
        ]
        playbooks[cta_type] = Playbook.objects.filter(name=name).first() or playbook_save(
            data={"name": name, "cta_type": cta_type, "description": description}, tasks=tasks
        )
    accounts = list(Account.objects.filter(external_id__startswith="DEMO-").select_related("owner").order_by("id"))
    if not accounts:
        return {"ctas_created": 0}
    mine = [a for a in accounts if a.owner and a.owner.email == "csm@demo.csp"]
    others = [a for a in accounts if a not in mine]
    picks = rng.sample(mine, min(len(mine), count // 3)) + rng.sample(others, count - min(len(mine), count // 3))
    existing = set(CTA.objects.filter(account__in=picks).values_list("account_id", "title"))
    created = 0
    for i, account in enumerate(picks):
        rng = random.Random(f"{seed}-{i}")  # one generator per CTA: skipping an existing one shifts nothing
        cta_type = rng.choice([CTAType.RISK, CTAType.RISK, CTAType.RENEWAL, CTAType.LIFECYCLE, CTAType.OPPORTUNITY,
                               CTAType.ACTIVITY])  # fmt: skip
        priority = rng.choice(list(CTAPriority))
        due = today + dt.timedelta(days=DUE_OFFSETS[i % len(DUE_OFFSETS)])
        reason = rng.choice([r for r in reasons.values() if r.cta_type in (cta_type, "")])
        title = TITLES[cta_type].format(name=account.name)
        if (account.pk, title) in existing:
            continue
        # Opened before its due date so the playbook's tasks fall around it, as if opened back then.
        playbook = playbooks.get(cta_type)
        span = max((t.due_in_days for t in playbook.tasks.all()), default=7) if playbook else 7
        opened = timezone.now() - dt.timedelta(days=max(0, (today - due).days + span))
        cta = CTA(account=account, cta_type=cta_type, priority=priority, reason=reason, title=title, due_date=due,
                  owner=account.owner, opened_at=opened)  # fmt: skip
        cta.full_clean()
        cta.save()
        if playbook is not None:
            for task in cta_apply_playbook(cta=cta, playbook=playbook):
                # Work already done: most steps that fell due before today are ticked off.
                if task.due_date < today and rng.random() < 0.6:
                    CTATask.objects.filter(pk=task.pk).update(
                        completed_at=opened + dt.timedelta(days=(task.due_date - opened.date()).days),
                        completed_by=task.assignee,
                    )
        created += 1
    return {"ctas_created": created, "ctas": CTA.objects.count()}

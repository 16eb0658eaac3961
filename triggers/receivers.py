"""Signal receivers: thin, they only enqueue evaluation once the sender's transaction commits."""

from functools import partial

from django.db import transaction

from triggers.conditions import SPECS
from triggers.models import Trigger


def _listening(source: str) -> bool:
    """Whether any active trigger reacts to this source: one indexed query saves a queued task per account
    (ingestion sends ``account_changed`` for every refresh)."""
    types = [k for k, spec in SPECS.items() if spec.source == source]
    return Trigger.objects.filter(is_active=True, condition_type__in=types).exists()


def on_health_changed_many(sender, changes=None, **kwargs) -> None:
    """``health.signals.health_changed_many`` → evaluate health conditions for every account whose band moved in
    one recompute: one query and one task however many bands changed (a nightly run can move thousands)."""
    from triggers.tasks import triggers_evaluate_accounts

    ids = sorted({int(c["account_id"]) for c in changes or []})
    if ids and _listening("health"):
        transaction.on_commit(partial(triggers_evaluate_accounts.delay, ids, "health"))


def on_account_changed(sender, account_ids=None, **kwargs) -> None:
    """``accounts.signals.account_changed`` → evaluate usage, event and escalation conditions for those accounts."""
    from triggers.tasks import triggers_evaluate_accounts

    ids = sorted({int(i) for i in account_ids or []})
    if ids and _listening("usage"):
        transaction.on_commit(partial(triggers_evaluate_accounts.delay, ids, "usage"))


def on_survey_answer(sender, account_id=None, kind=None, score=None, comment="", **kwargs) -> None:
    """``surveys.signals.answer_received`` → survey-answer triggers (the comment goes into the CTA)."""
    from triggers import services

    if account_id is not None and kind and score is not None:
        transaction.on_commit(
            partial(
                services.triggers_evaluate_survey_answer,
                account_id=int(account_id),
                kind=kind,
                score=int(score),
                comment=comment or "",
            )
        )

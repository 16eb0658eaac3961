"""Signal receivers: thin, they enqueue evaluation (or, for health changes, run it) once the sender's transaction
commits."""

import logging
from functools import partial

from django.db import transaction

from triggers.conditions import SPECS
from triggers.models import Trigger

logger = logging.getLogger(__name__)


def _listening(source: str) -> bool:
    """Whether any active trigger reacts to this source: one indexed query saves a queued task per account
    (edits in the app send ``account_changed``)."""
    types = [k for k, spec in SPECS.items() if spec.source == source]
    return Trigger.objects.filter(is_active=True, condition_type__in=types).exists()


def on_health_changed_many(sender, changes=None, **kwargs) -> None:
    """``health.signals.health_changed_many`` → evaluate health conditions for every account whose band moved in
    one recompute, once it commits: one query and one evaluation however many bands changed (a nightly run can
    move thousands)."""
    ids = sorted({int(c["account_id"]) for c in changes or []})
    if ids:  # no _listening() check: evaluated in place, the evaluation's own trigger query answers it
        transaction.on_commit(partial(_evaluate_health_now, ids))


def _evaluate_health_now(account_ids: list[int]) -> None:
    # Right here, in the worker that recomputed health: a queued task would wait behind every recompute queued on
    # the default queue meanwhile (tens of seconds under load), the largest share of event → CTA. If it fails, the
    # task (retried with backoff) takes over; evaluation is idempotent (edge-triggered matches, CTA dedupe).
    _evaluate_now(account_ids, "health")


def _evaluate_now(account_ids: list[int], source: str) -> None:
    from triggers import services
    from triggers.tasks import triggers_evaluate_accounts

    try:
        services.triggers_evaluate_accounts(account_ids=account_ids, source=source)
    except Exception:
        logger.warning("Evaluating %s triggers in place failed; queued for a retry", source, exc_info=True)
        triggers_evaluate_accounts.delay(account_ids, source)


def on_account_changed(sender, account_ids=None, **kwargs) -> None:
    """``accounts.signals.account_changed`` → evaluate usage, event and escalation conditions for those accounts.
    Sent by the usage pipeline (``sender`` is ``Event``), they are evaluated right here in the ingest worker that
    refreshed the rollups, as health is (``health.receivers``): an event trigger does not wait on the default
    queue either. Edits made in the app (tickets, contracts, activities) queue the evaluation."""
    from events.models import Event
    from triggers.tasks import triggers_evaluate_accounts

    ids = sorted({int(i) for i in account_ids or []})
    if not ids:
        return
    if sender is Event:  # in place: the evaluation's own trigger query tells whether any listens
        transaction.on_commit(partial(_evaluate_now, ids, "usage"))
    elif _listening("usage"):
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

"""Signal receivers: thin, they only enqueue the recompute task once the sender's transaction commits, except in
the ingest worker (below)."""

import logging

logger = logging.getLogger(__name__)


def on_account_changed(sender, account_ids=None, **kwargs) -> None:
    """``accounts.signals.account_changed`` → recompute those accounts in the worker, after commit.

    Sent by the usage pipeline (``sender`` is ``Event``, in the ingest worker, after the rollups committed), the
    recompute runs right here, and the triggers after it: queued, it would wait on the default queue behind every
    other recompute, the largest share of event → CTA under load, and cost a task and a waiting row per batch. If
    it fails, the usual queued recompute (retried with backoff) takes over."""
    from events.models import Event
    from health.services import health_recompute, health_recompute_enqueue

    ids = sorted({int(i) for i in account_ids or []})
    if sender is Event and ids:
        try:
            health_recompute(account_ids=ids)
            return
        except Exception:
            logger.warning("Recomputing health in place failed; queued for a retry", exc_info=True)
    health_recompute_enqueue(account_ids=ids)

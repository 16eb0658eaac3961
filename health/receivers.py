"""Signal receivers: thin, they only enqueue the recompute task once the sender's transaction commits."""

from functools import partial

from django.db import transaction


def on_account_changed(sender, account_ids=None, **kwargs) -> None:
    """``accounts.signals.account_changed`` → recompute those accounts in the worker, after commit."""
    from health.tasks import health_recompute_accounts

    ids = sorted({int(i) for i in account_ids or []})
    if ids:
        transaction.on_commit(partial(health_recompute_accounts.delay, ids))

"""Signal receivers: thin, they only enqueue the recompute task once the sender's transaction commits."""


def on_account_changed(sender, account_ids=None, **kwargs) -> None:
    """``accounts.signals.account_changed`` → recompute those accounts in the worker, after commit."""
    from health.services import health_recompute_enqueue

    health_recompute_enqueue(account_ids=list(account_ids or []))

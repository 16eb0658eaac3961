"""Signal sent when the revenue history of accounts changed (contracts created, amended, renewed, cancelled,
corrected; churn dated). The metrics ledger listens and refreshes its monthly snapshots of those accounts."""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

# Sent with ``account_ids: list[int]`` after the transaction that changed their contracts committed.
revenue_changed = Signal()


def revenue_changed_on_commit(account_ids: Iterable[int]) -> None:
    """Send ``revenue_changed`` once the current transaction commits (right away outside one)."""
    ids = sorted(set(account_ids))
    transaction.on_commit(lambda: revenue_changed.send(sender=None, account_ids=ids))

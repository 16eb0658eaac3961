"""Signals other apps react to. Sent from Celery tasks after the data they describe is committed."""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

# Sent with ``account_ids: list[int]`` once usage rollups (or tickets) of those accounts were refreshed.
# Health recompute and playbook triggers listen to it.
account_changed = Signal()


def account_changed_on_commit(account_ids: Iterable[int], sender: type | None = None) -> None:
    """Send ``account_changed`` once the current transaction commits (right away outside one). Account and
    contract writes and logged activities use it, so health and triggers follow edits made in the app."""
    ids = list(account_ids)
    transaction.on_commit(lambda: account_changed.send(sender=sender, account_ids=ids))

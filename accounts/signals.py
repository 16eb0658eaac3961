"""What accounts announce to the layers above it (docs/architecture.md): ``account_changed``, the one news that
an account's data moved (usage rollups, tickets, contracts, activities), received by health and triggers; and
``contract_changed``, received by timeline."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent with ``account_ids: list[int]`` once the data of those accounts is committed (usage rollups refreshed,
# tickets, contracts or activities written). Health recompute and triggers listen to it.
account_changed = Signal()

# Sent inside the writing transaction, before the row goes for "deleted", with ``contract: Contract`` and
# ``action: "created" | "updated" | "deleted"``. The timeline records it as a feed line (rolled back with the write).
contract_changed = Signal()


def account_changed_send(account_ids: Iterable[int], sender: type | None = None) -> None:
    """Send ``account_changed`` now. A failing receiver (a broker outage while it enqueues) is logged, never
    raised: the write that caused the news is already committed."""
    ids = list(account_ids)
    if not ids:
        return
    for receiver, result in account_changed.send_robust(sender=sender, account_ids=ids):
        if isinstance(result, Exception):
            logger.error("account_changed receiver %r failed", receiver, exc_info=result)


def account_changed_on_commit(account_ids: Iterable[int], sender: type | None = None) -> None:
    """Send ``account_changed`` once the current transaction commits (right away outside one). Account and
    contract writes, logged activities and tickets use it, so health and triggers follow edits made in the app."""
    ids = list(account_ids)
    transaction.on_commit(lambda: account_changed_send(ids, sender=sender))

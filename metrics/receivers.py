"""Keep the revenue ledger in step with contracts: accounts announce revenue changes with a signal (sent after
commit), metrics enqueues the refresh of those accounts on the ``long`` queue."""

from django.dispatch import receiver

from accounts.revenue_signals import revenue_changed
from metrics.tasks import CHUNK, ledger_refresh_accounts


@receiver(revenue_changed, dispatch_uid="metrics.ledger_refresh_on_revenue_changed")
def refresh_ledger(sender, account_ids: list[int], **kwargs) -> None:
    for i in range(0, len(account_ids), CHUNK):
        ledger_refresh_accounts.delay(account_ids[i : i + CHUNK])

"""Signals other apps react to. Sent from Celery tasks after the data they describe is committed."""

from django.dispatch import Signal

# Sent with ``account_ids: list[int]`` once usage rollups (or tickets) of those accounts were refreshed.
# Health recompute and playbook triggers listen to it.
account_changed = Signal()

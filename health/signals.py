"""Signals other apps react to (the playbook engine listens to ``health_changed``)."""

from django.dispatch import Signal

# Sent once per change of an account's computed band, after the new score is committed, with
# ``account_id: int, old_band: str | None, new_band: str | None, old_score: float | None, new_score: float | None``.
# ``old_band`` is None the first time an account is scored.
health_changed = Signal()

# Sent once per recompute, after the ``health_changed`` signals, with ``changes: list[dict]`` (the same keyword
# dicts). A listener with per-call overhead (a query, a task) should prefer this one: a nightly recompute or a
# scorecard edit can change the band of thousands of accounts at once.
health_changed_many = Signal()

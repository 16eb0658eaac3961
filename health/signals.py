"""Signals higher layers react to: ``triggers`` listens to ``health_changed_many`` (docs/architecture.md)."""

from django.dispatch import Signal

# Sent once per recompute that changed computed bands, after the new scores are committed, with
# ``changes: list[dict]``, one dict per account whose band moved: ``account_id: int, old_band: str | None,
# new_band: str | None, old_score: float | None, new_score: float | None`` (``old_band`` is None the first time an
# account is scored). One signal per recompute, not per account: a nightly run can move thousands of bands.
health_changed_many = Signal()

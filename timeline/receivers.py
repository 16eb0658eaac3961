"""Signal receivers: other apps' news becomes timeline lines (through services, no logic here)."""

from timeline.services import timeline_record_health_changes


def on_health_changed_many(sender, changes=None, **kwargs) -> None:
    """``health.signals.health_changed_many``: one bulk insert per recompute, whatever the number of changes."""
    if changes:
        timeline_record_health_changes(changes=changes)

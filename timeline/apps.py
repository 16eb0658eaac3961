from django.apps import AppConfig


class TimelineConfig(AppConfig):
    name = "timeline"
    verbose_name = "Timeline and activities"

    def ready(self) -> None:
        from health.signals import health_changed_many
        from timeline import receivers

        health_changed_many.connect(receivers.on_health_changed_many, dispatch_uid="timeline.health_changes")

from django.apps import AppConfig


class TimelineConfig(AppConfig):
    name = "timeline"
    verbose_name = "Timeline and activities"

    def ready(self) -> None:
        # accounts sits below timeline: it announces contract writes, the timeline records them.
        from accounts.signals import contract_changed
        from timeline import receivers

        contract_changed.connect(receivers.on_contract_changed, dispatch_uid="timeline.on_contract_changed")

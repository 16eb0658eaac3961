from django.apps import AppConfig


class TriggersConfig(AppConfig):
    name = "triggers"
    verbose_name = "Triggers"

    def ready(self) -> None:
        # Event-driven conditions: health changes and ingestion (rollups, tickets) re-evaluate the accounts named.
        from accounts.signals import account_changed
        from health.signals import health_changed_many
        from triggers import receivers
        from triggers.conditions import surveys_ready

        health_changed_many.connect(receivers.on_health_changed_many, dispatch_uid="triggers.on_health_changed")
        account_changed.connect(receivers.on_account_changed, dispatch_uid="triggers.on_account_changed")
        if surveys_ready():
            from surveys.signals import answer_received

            answer_received.connect(receivers.on_survey_answer, dispatch_uid="triggers.on_survey_answer")

from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Health scores"

    def ready(self) -> None:
        # Recompute when ingestion (or an edit in the app) says accounts changed.
        from accounts.signals import account_changed
        from health import receivers

        account_changed.connect(receivers.on_account_changed, dispatch_uid="health.on_account_changed")

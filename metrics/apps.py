from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self) -> None:
        from metrics import receivers  # noqa: F401  (connects the ledger refresh to revenue_changed)

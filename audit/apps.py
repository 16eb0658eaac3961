"""The audit trail (issue 14): who changed what and when, with old and new values.

django-auditlog records every save and delete of the registered models in its ``LogEntry`` table (no foreign
key to the object, so the log outlives it). This app sits above every domain app (below ``demo``) because it
names their models; nothing imports it.
"""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit.registry import register_models

        register_models()

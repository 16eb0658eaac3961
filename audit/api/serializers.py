from auditlog.models import LogEntry
from rest_framework import serializers

from audit.selectors import entry_changes


class AuditEntrySerializer(serializers.ModelSerializer):
    """One change: ``changes`` maps each field to ``[old, new]``."""

    action = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    object_id = serializers.CharField(source="object_pk")
    actor = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = LogEntry
        fields = ["id", "timestamp", "action", "model", "object_id", "object_repr", "actor", "changes", "remote_addr"]

    def get_action(self, obj) -> str:
        return {0: "create", 1: "update", 2: "delete", 3: "access"}.get(obj.action, str(obj.action))

    def get_model(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"

    def get_actor(self, obj) -> dict | None:
        return {"id": obj.actor_id, "email": obj.actor.email} if obj.actor else None

    def get_changes(self, obj) -> dict:
        return entry_changes(obj)

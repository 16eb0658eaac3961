from rest_framework import serializers

from accounts.models import Account
from support.models import Ticket, TicketPriority, TicketStatus


class TicketSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    response_seconds = serializers.SerializerMethodField()
    resolution_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id", "account", "account_name", "external_id", "subject", "priority", "status", "is_escalated",
            "opened_at", "first_response_at", "solved_at", "response_seconds", "resolution_seconds", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["updated_at"]

    def get_response_seconds(self, obj) -> float | None:
        return obj.response_time.total_seconds() if obj.response_time is not None else None

    def get_resolution_seconds(self, obj) -> float | None:
        return obj.resolution_time.total_seconds() if obj.resolution_time is not None else None


class TicketWebhookSerializer(serializers.Serializer):
    """A generic help-desk webhook: the desk's ticket id and the account by its external (CRM) id or csp id.
    Zendesk, Freshdesk or Intercom payloads map onto it with their own field names in a small adapter."""

    id = serializers.CharField(max_length=100, help_text="The help desk's ticket id.")
    account_external_id = serializers.CharField(max_length=100, required=False)
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all(), required=False)
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    status = serializers.ChoiceField(choices=TicketStatus.choices, default=TicketStatus.OPEN)
    is_escalated = serializers.BooleanField(default=False)
    created_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    solved_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        external = attrs.pop("account_external_id", None)
        if attrs.get("account") is None:
            if not external:
                raise serializers.ValidationError({"account_external_id": "Give account_external_id or account."})
            account = Account.objects.filter(external_id=external).first()
            if account is None:
                raise serializers.ValidationError({"account_external_id": f"No account has external id {external}."})
            attrs["account"] = account
        return attrs

from rest_framework import serializers

from accounts.models import Account, AccountTeamMember, Contact, Contract


class AccountTeamMemberSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = AccountTeamMember
        fields = ["user", "user_name", "role"]


class AccountSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.full_name", read_only=True, allow_null=True)
    parent_name = serializers.CharField(source="parent.name", read_only=True, allow_null=True)

    class Meta:
        model = Account
        fields = [
            "id", "name", "domain", "external_id", "parent", "parent_name", "tier", "industry", "employee_count",
            "region", "lifecycle_stage", "engagement_model", "owner", "owner_name", "status", "custom_fields",
            "arr", "next_renewal_date", "churned_on", "churn_reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["arr", "next_renewal_date", "churned_on", "churn_reason", "created_at", "updated_at"]


class AccountDetailSerializer(AccountSerializer):
    team_members = AccountTeamMemberSerializer(many=True, read_only=True)
    children = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "team_members", "children"]


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id", "account", "name", "email", "phone", "title", "role", "is_primary", "external_id",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness is checked by the service's full_clean, with a field-named 400.
        validators: list = []


class ContractSerializer(serializers.ModelSerializer):
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id", "account", "name", "external_id", "start_date", "end_date", "recurring_amount",
            "billing_period", "one_time_fees", "seats", "auto_renew", "status", "cancelled_on", "previous", "arr",
            "mrr", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["arr", "previous", "created_at", "updated_at"]

    def validate(self, attrs):
        # Cross-field check up front so the 400 names end_date even when only one date is sent.
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": "The end date must be on or after the start date."})
        return attrs

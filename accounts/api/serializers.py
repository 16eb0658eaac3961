from functools import cache

from django.db.models import F, QuerySet
from rest_framework import serializers
from rest_framework.relations import RelatedField

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


# --- the account list: AccountSerializer's output from plain rows ---------------------------------------------
# The list is the API's busiest read. Building model instances (with the owner's and parent's whole rows joined)
# and walking DRF's per-field machinery for 50 rows cost more than the rest of the request; here the page is read
# as ``values()`` rows with just the two names joined, and each value is formatted by AccountSerializer's own
# field, so the JSON is the same (tests/accounts/test_api.py compares both).
_ANNOTATED = {"owner_name": F("owner__full_name"), "parent_name": F("parent__name")}


@cache
def _list_columns() -> tuple[tuple[str, object], ...]:
    """(field name, formatter or None) in AccountSerializer's order; None = the value as stored (a related id)."""
    fields = AccountSerializer().fields
    return tuple(
        (name, None if isinstance(field, RelatedField) else field.to_representation)
        for name, field in fields.items()
        if not field.write_only
    )


def account_list_values(queryset: QuerySet[Account]) -> QuerySet:
    """The rows ``account_list_data`` formats: the serializer's columns (related ids under the field's name)."""
    names = [name for name, _ in _list_columns() if name not in _ANNOTATED]
    return queryset.values(*names, **_ANNOTATED)


def account_list_data(rows) -> list[dict]:
    """``AccountSerializer(many=True).data`` for rows of ``account_list_values``: None stays None, as DRF does."""
    columns = _list_columns()
    return [
        {name: value if (value := row[name]) is None or fmt is None else fmt(value) for name, fmt in columns}
        for row in rows
    ]


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

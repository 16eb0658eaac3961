import datetime as dt
import functools

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.relations import RelatedField
from rest_framework.settings import api_settings

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
# as ``values()`` rows with just the two names joined, and each value is formatted as AccountSerializer's own
# field formats it, so the JSON is the same (tests/accounts/test_api.py compares both).
_ANNOTATED = {"owner_name": F("owner__full_name"), "parent_name": F("parent__name")}


def _datetime_formatter(field: serializers.DateTimeField, tz):
    """``field.to_representation`` for aware datetimes in ``tz`` (the current time zone, read once a page rather
    than once a value: DRF's lookup of it was most of the list's formatting time); anything else goes to DRF."""

    def fmt(value):
        if type(value) is not dt.datetime or value.utcoffset() is None:
            return field.to_representation(value)
        try:
            text = value.astimezone(tz).isoformat()
        except OverflowError:
            return field.to_representation(value)  # DRF's validation error
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return fmt


def _date_formatter(field: serializers.DateField):
    def fmt(value):
        return value.isoformat() if type(value) is dt.date else field.to_representation(value)

    return fmt


def _choice_formatter(field: serializers.ChoiceField):
    choices = field.choice_strings_to_values

    def fmt(value):
        # A stored choice is a plain str (str(value) is value, and no Enum to unwrap).
        return choices.get(value, value) if type(value) is str and value else field.to_representation(value)

    return fmt


def _iso(field, setting) -> bool:
    output_format = getattr(field, "format", setting)  # as DRF reads it
    return isinstance(output_format, str) and output_format.lower() == ISO_8601


def _formatter(field, tz):
    """A function equal to ``field.to_representation`` on this list's values, cheaper where DRF's is a plain
    conversion; None for a related id (the value as stored)."""
    if isinstance(field, RelatedField):
        return None
    method = type(field).to_representation
    if method is serializers.CharField.to_representation:
        return str
    if method is serializers.IntegerField.to_representation or (
        method is serializers.BigIntegerField.to_representation
        and not getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
    ):
        return int
    if method is serializers.ChoiceField.to_representation:
        return _choice_formatter(field)
    if (
        method is serializers.DateTimeField.to_representation
        and tz is not None
        and not hasattr(field, "timezone")
        and _iso(field, api_settings.DATETIME_FORMAT)
    ):
        return _datetime_formatter(field, tz)
    if method is serializers.DateField.to_representation and _iso(field, api_settings.DATE_FORMAT):
        return _date_formatter(field)
    return field.to_representation


@functools.lru_cache(maxsize=16)
def _list_columns(tz) -> tuple[tuple[str, object], ...]:
    """(field name, formatter or None) in AccountSerializer's order, for the current time zone ``tz``."""
    fields = AccountSerializer().fields
    return tuple((name, _formatter(field, tz)) for name, field in fields.items() if not field.write_only)


@functools.cache
def _stored_columns() -> tuple[str, ...]:
    return tuple(name for name, field in AccountSerializer().fields.items() if not field.write_only)


def account_list_values(queryset: QuerySet[Account]) -> QuerySet:
    """The rows ``account_list_data`` formats: the serializer's columns (related ids under the field's name)."""
    return queryset.values(*(name for name in _stored_columns() if name not in _ANNOTATED), **_ANNOTATED)


def account_list_data(rows) -> list[dict]:
    """``AccountSerializer(many=True).data`` for rows of ``account_list_values``: None stays None, as DRF does."""
    columns = _list_columns(timezone.get_current_timezone() if settings.USE_TZ else None)
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

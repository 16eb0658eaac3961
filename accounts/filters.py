"""Account list filters, shared by the book of business page and ``/api/v1/accounts/``."""

import django_filters
from django import forms

from accounts.models import Account, AccountStatus, Contact, Contract, EngagementModel, LifecycleStage, Tier
from accounts.selectors import SCOPES, account_book_q, account_search_q
from csp.api.filtering import GivenFiltersMixin
from csp.models import User

SORTS = {
    "name": "name",
    "arr": "arr",
    "renewal": "next_renewal_date",
    "tier": "tier",
    "stage": "lifecycle_stage",
    "owner": "owner__full_name",
    "updated": "updated_at",
    "health": "health__score",
}


class AccountFilter(GivenFiltersMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    scope = django_filters.ChoiceFilter(
        choices=[(s, s.title()) for s in SCOPES], method="filter_scope", label="Book", empty_label="All"
    )
    tier = django_filters.MultipleChoiceFilter(choices=Tier.choices)
    lifecycle_stage = django_filters.MultipleChoiceFilter(choices=LifecycleStage.choices, label="Stage")
    engagement_model = django_filters.ChoiceFilter(choices=EngagementModel.choices)
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices)
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.exclude(role="viewer"))
    region = django_filters.CharFilter(lookup_expr="iexact")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    parent = django_filters.NumberFilter(field_name="parent_id")
    arr_min = django_filters.NumberFilter(field_name="arr", lookup_expr="gte", label="ARR from")
    arr_max = django_filters.NumberFilter(field_name="arr", lookup_expr="lte", label="ARR to")
    renewal_after = django_filters.DateFilter(
        field_name="next_renewal_date", lookup_expr="gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    renewal_before = django_filters.DateFilter(
        field_name="next_renewal_date", lookup_expr="lte", widget=forms.DateInput(attrs={"type": "date"})
    )
    # ``segment`` (a saved segment's live members) is added by the segments app: see account_filter_extend.
    ordering = django_filters.OrderingFilter(fields={v: k for k, v in SORTS.items()})

    class Meta:
        model = Account
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        # An empty value means "any": the page's selects send ``tier=&lifecycle_stage=`` on every change.
        if data is not None and not hasattr(data, "getlist"):
            data = {key: value for key, value in data.items() if value not in ("", None)}
        elif data is not None:
            data = data.copy()
            for key in list(data.keys()):
                values = [v for v in data.getlist(key) if v.strip()]
                if values:
                    data.setlist(key, values)
                else:
                    del data[key]
        super().__init__(data, *args, **kwargs)

    def filter_q(self, queryset, name, value):
        return queryset.filter(account_search_q(value.strip())) if value.strip() else queryset

    def filter_scope(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or value == "all" or user is None:
            return queryset
        return queryset.filter(account_book_q(user=user, scope=value))  # cheaper than combining querysets


def account_filter_extend(name: str, extra: django_filters.Filter) -> None:
    """Add a filter to the account list (book of business page and ``/api/v1/accounts/``), before the ordering.
    Higher layers call it from their ``AppConfig.ready()`` (segments adds ``segment``), so accounts offers
    filters by their data without importing them (docs/architecture.md)."""
    filters = dict(AccountFilter.base_filters)
    ordering = filters.pop("ordering")
    AccountFilter.base_filters = {**filters, name: extra, "ordering": ordering}


class ContactFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")

    class Meta:
        model = Contact
        fields = ["account", "role", "is_primary", "email"]


class ContractFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    end_after = django_filters.DateFilter(field_name="end_date", lookup_expr="gte")
    end_before = django_filters.DateFilter(field_name="end_date", lookup_expr="lte")

    class Meta:
        model = Contract
        fields = ["account", "status", "auto_renew", "billing_period"]

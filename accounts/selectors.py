"""Reads of accounts: querysets with their joins and prefetches applied, so lists run a fixed number of queries."""

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from accounts.models import Account, AccountTeamMember, Contact, Contract, ContractStatus
from csp.models import Role, User

SCOPES = ("mine", "team", "all")


def default_scope(user: User) -> str:
    """CSMs land on their own book, managers on their team's, admins and viewers on everything."""
    return {Role.CSM: "mine", Role.MANAGER: "team"}.get(user.role, "all")


def account_list(*, user: User, scope: str = "all") -> QuerySet[Account]:
    """Accounts for list pages and endpoints, restricted to a book: ``mine``, ``team`` or ``all``."""
    # health: score, band and trend column; health__override: the override marker (same query, no N+1).
    qs = Account.objects.select_related("owner", "parent", "health", "health__override")
    if scope == "mine":
        qs = qs.filter(owner=user)
    elif scope == "team":
        if user.role == Role.MANAGER:
            qs = qs.filter(Q(owner__team__manager=user) | Q(owner=user))
        elif user.team_id:
            qs = qs.filter(owner__team_id=user.team_id)
        else:
            qs = qs.filter(owner=user)
    return qs


def account_search_q(q: str) -> Q:
    """Search by name, domain or exact external id (shared by the book of business and the API)."""
    return Q(name__icontains=q) | Q(domain__icontains=q) | Q(external_id__iexact=q)


def account_totals(qs: QuerySet[Account]) -> dict[str, Decimal | int]:
    """Count and ARR of a filtered account list, in one aggregate query."""
    totals = qs.order_by().aggregate(accounts=Count("id"), arr=Sum("arr"))
    return {"accounts": totals["accounts"] or 0, "arr": totals["arr"] or Decimal("0")}


def account_detail(*, pk: int) -> Account:
    """One account with everything its 360 page shows, in a fixed number of queries."""
    return (
        Account.objects.select_related("owner", "owner__team", "parent")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "name")),
            Prefetch("contracts", queryset=Contract.objects.order_by("-end_date")),
            Prefetch("children", queryset=Account.objects.select_related("owner").order_by("name")),
            Prefetch("team_members", queryset=AccountTeamMember.objects.select_related("user")),
        )
        .get(pk=pk)
    )


def contact_list() -> QuerySet[Contact]:
    return Contact.objects.select_related("account")


def contract_list() -> QuerySet[Contract]:
    return Contract.objects.select_related("account")


def contract_in_force_q(day: dt.date, prefix: str = "") -> Q:
    """The contracts in force on ``day``: from start to end date, unless a draft or cancelled (an expired
    contract was in force during its term). Seats (license utilization) and ARR as of a day count these.
    (The revenue ledger's definition, with dated cancellations, replaces this one when it lands.)"""
    return Q(
        **{
            f"{prefix}status__in": [ContractStatus.ACTIVE, ContractStatus.EXPIRED],
            f"{prefix}start_date__lte": day,
            f"{prefix}end_date__gte": day,
        }
    )

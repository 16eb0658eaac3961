"""Reads of accounts: querysets with their joins and prefetches applied, so lists run a fixed number of queries."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Sum, Value, When

from accounts.models import Account, AccountTeamMember, Contact, Contract
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


def upcoming_renewals(*, owner_ids: Iterable[int], today: dt.date, days: int = 90) -> QuerySet[Account]:
    """Active accounts of these owners whose next renewal falls within ``days`` days from ``today``, soonest
    first. Reads ``Account.next_renewal_date``, the one stored definition of the next renewal."""
    return (
        Account.objects.select_related("owner", "health", "health__override")
        .filter(owner_id__in=owner_ids, status="active")
        .filter(next_renewal_date__gte=today, next_renewal_date__lte=today + dt.timedelta(days=days))
        .order_by("next_renewal_date", "name")
    )


def account_scope_q(*, user: User, scope: str, prefix: str = "") -> Q:
    """Q restricting rows to a book, for accounts (``prefix=""``) or rows of an account (``prefix="account__"``):
    ``mine`` = accounts the user owns or is on the account team of; ``team`` = as ``account_list``; ``all``."""
    if scope == "mine":
        on_team = AccountTeamMember.objects.filter(user=user).values("account_id")
        id_field = "id" if not prefix else prefix.replace("__", "_") + "id"  # "account__" -> "account_id"
        return Q(**{f"{prefix}owner": user}) | Q(**{f"{id_field}__in": on_team})
    if scope == "team":
        if user.role == Role.MANAGER:
            return Q(**{f"{prefix}owner__team__manager": user}) | Q(**{f"{prefix}owner": user})
        if user.team_id:
            return Q(**{f"{prefix}owner__team_id": user.team_id})
        return Q(**{f"{prefix}owner": user})
    return Q()


def account_picker(*, q: str, exclude: str | int | None = None, limit: int = 20) -> list[dict]:
    """Accounts whose name or domain contains ``q``, names starting with it first (one query)."""
    q = (q or "").strip()[:100]
    if not q:
        return []
    qs = Account.objects.filter(Q(name__icontains=q) | Q(domain__icontains=q))
    if str(exclude or "").isdigit():
        qs = qs.exclude(pk=int(exclude))
    starts = Case(When(name__istartswith=q, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(qs.annotate(starts=starts).order_by("starts", "name", "id").values("id", "name", "domain")[:limit])

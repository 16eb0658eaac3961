"""Reads of accounts: querysets with their joins and prefetches applied, so lists run a fixed number of queries."""

import datetime as dt
from decimal import Decimal

from django.db.models import Case, CharField, Count, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When

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


def account_detail(*, pk: int, today: dt.date | None = None) -> Account:
    """One account with everything its 360 page shows, in a fixed number of queries. Contracts carry
    ``term_state`` (``contract_term_state``)."""
    from django.utils import timezone

    today = today or timezone.localdate()
    contracts = Contract.objects.annotate(term_state=contract_term_state(today)).order_by("-end_date")
    return (
        Account.objects.select_related("owner", "owner__team", "parent")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "name")),
            Prefetch("contracts", queryset=contracts),
            Prefetch("children", queryset=Account.objects.select_related("owner").order_by("name")),
            Prefetch("team_members", queryset=AccountTeamMember.objects.select_related("user")),
        )
        .get(pk=pk)
    )


# --- the one definition of the current contract term and the next renewal ------------------------------------
# Dates decide, not the stored status label: a contract is current on a day when its term contains that day and
# it is neither a draft nor cancelled (a nightly job marking it "expired" late, or early, changes nothing). The
# next renewal is the earliest end of a current term, so the account header, the health measure "days to
# renewal", the contract list and the renewal lists agree.


def next_renewal_subquery(day: dt.date) -> Subquery:
    """Per account (``OuterRef("pk")``): the end date of its current term ending first, or NULL."""
    current = Contract.objects.filter(contract_in_force_q(day), account=OuterRef("pk"))
    return Subquery(current.values("account").annotate(first=Min("end_date")).values("first"))


def contract_term_state(day: dt.date) -> Case:
    """Annotation for contract lists: draft, cancelled, current, upcoming or ended, by the same definition."""
    return Case(
        When(status=ContractStatus.DRAFT, then=Value("draft")),
        When(status=ContractStatus.CANCELLED, then=Value("cancelled")),
        When(contract_in_force_q(day), then=Value("current")),
        When(start_date__gt=day, then=Value("upcoming")),
        default=Value("ended"),
        output_field=CharField(),
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

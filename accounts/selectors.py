"""Reads of accounts: querysets with their joins and prefetches applied, so lists run a fixed number of queries."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)

from accounts.models import Account, AccountTeamMember, Contact, Contract, ContractRevision, ContractStatus
from csp.models import Role, User

SCOPES = ("mine", "team", "all")


def default_scope(user: User) -> str:
    """CSMs land on their own book, managers on their team's, admins and viewers on everything."""
    return {Role.CSM: "mine", Role.MANAGER: "team"}.get(user.role, "all")


def account_list(*, user: User, scope: str = "all") -> QuerySet[Account]:
    """Accounts for list pages and endpoints, restricted to a book: ``mine``, ``team`` or ``all``."""
    # health: score, band and trend column; health__override: the override marker (same query, no N+1).
    qs = Account.objects.select_related("owner", "parent", "health", "health__override")
    return qs.filter(account_book_q(user=user, scope=scope)) if scope in ("mine", "team") else qs


def account_book_q(*, user: User, scope: str) -> Q:
    """The accounts of ``account_list``'s book, as a condition: ``mine``, ``team``; anything else is every account."""
    if scope == "mine":
        return Q(owner=user)
    if scope == "team":
        if user.role == Role.MANAGER:
            return Q(owner__team__manager=user) | Q(owner=user)
        if user.team_id:
            return Q(owner__team_id=user.team_id)
        return Q(owner=user)
    return Q()


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


# --- Revenue in force: the one definition of MRR on a day (issue 11, docs/metrics.md) -------------------------
CENT = Decimal("0.01")


def contract_counts_q(prefix: str = "") -> Q:
    """Contracts that ever count toward MRR: not drafts, and a cancelled contract only with its effective date
    (a cancelled contract without ``cancelled_on`` never counts)."""
    return ~Q(**{f"{prefix}status": ContractStatus.DRAFT}) & (
        Q(**{f"{prefix}cancelled_on__isnull": False}) | ~Q(**{f"{prefix}status": ContractStatus.CANCELLED})
    )


def contract_in_force_q(day: dt.date, prefix: str = "") -> Q:
    """Contracts counting toward MRR on ``day``: ``start_date <= day <= end_date``, not a draft, and not
    cancelled on or before ``day`` (``day < cancelled_on``)."""
    return (
        contract_counts_q(prefix)
        & Q(**{f"{prefix}start_date__lte": day, f"{prefix}end_date__gte": day})
        & (Q(**{f"{prefix}cancelled_on__isnull": True}) | Q(**{f"{prefix}cancelled_on__gt": day}))
    )


def mrr_from_arr(arr: Decimal | None) -> Decimal:
    """MRR = ARR / 12 (glossary ARR = MRR x 12). The ledger sums the exact annualised amounts (a monthly
    contract counts recurring_amount x 12, a yearly one recurring_amount; one-time fees never) and divides
    once, so totals never drift by rounded cents."""
    return ((arr or Decimal("0")) / 12).quantize(CENT)


def account_arr_on(*, day: dt.date, accounts: Iterable[int] | QuerySet | None = None) -> dict[int, Decimal]:
    """Annualised recurring revenue in force on ``day`` per account with any (one GROUP BY query)."""
    qs = Contract.objects.filter(contract_in_force_q(day), arr__gt=0)
    if accounts is not None:
        qs = qs.filter(account_id__in=accounts if isinstance(accounts, QuerySet) else list(accounts))
    rows = qs.order_by().values("account_id").annotate(total=Sum("arr")).values_list("account_id", "total")
    return dict(rows)


def account_mrr_on(*, day: dt.date, accounts: Iterable[int] | QuerySet | None = None) -> dict[int, Decimal]:
    """MRR in force on ``day`` per account (accounts with none are absent): the sum of the monthly amounts of
    the contracts counting that day (``contract_in_force_q``). ``accounts``: ids or an id queryset."""
    return {account_id: mrr_from_arr(arr) for account_id, arr in account_arr_on(day=day, accounts=accounts).items()}


def contract_revision_list(*, contract_id: int) -> QuerySet:
    """Recorded changes of one contract, newest first, with who made them."""
    return ContractRevision.objects.filter(contract_id=contract_id).select_related("changed_by")


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

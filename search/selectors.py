"""Global search: accounts, contacts, CTAs, success plans and timeline notes matching a query, ranked.

Every term of the query must appear in one of a kind's searched fields (case-insensitive substring). On PostgreSQL
the substring tests are served by pg_trgm GIN indexes (migration ``search.0001``) and ties are broken by trigram
word similarity; on SQLite the same filters run as plain LIKE scans. One query per kind, so a search costs a fixed
number of queries. Results respect the user's book (``scope``), like the book of business.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, F, FloatField, Model, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast
from django.urls import reverse

from accounts.models import Account, Contact
from accounts.selectors import account_scope_q, default_scope
from csp.models import User
from playbooks.models import CTA
from success.models import SuccessPlan
from timeline.models import Activity

MIN_LENGTH = 2
MAX_LENGTH = 200
MAX_TERMS = 6

KINDS = (
    ("account", "Accounts"),
    ("contact", "Contacts"),
    ("cta", "CTAs"),
    ("plan", "Success plans"),
    ("note", "Timeline notes"),
)


class QueryError(ValueError):
    """The query is too long (too short queries simply find nothing)."""


@dataclass(frozen=True)
class Hit:
    """One search result, already shaped for the dropdown, the results page and the API."""

    kind: str
    id: int
    title: str
    subtitle: str
    url: str
    score: float


def terms_of(q: str) -> list[str]:
    """The words of a query (at most ``MAX_TERMS``); raises ``QueryError`` past ``MAX_LENGTH`` characters."""
    q = (q or "").strip()
    if len(q) > MAX_LENGTH:
        raise QueryError(f"Search for at most {MAX_LENGTH} characters.")
    if len(q) < MIN_LENGTH:
        return []
    return q.split()[:MAX_TERMS]


def _match(fields: tuple[str, ...], terms: list[str]) -> Q:
    """Each term in at least one field."""
    q = Q()
    for term in terms:
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": term})
        q &= any_field
    return q


def _rank(field: str, phrase: str):
    """Exact match > prefix > a word starting with the phrase > anywhere; plus trigram word similarity on
    PostgreSQL (0..1) to order within each class."""
    rank = Case(
        When(**{f"{field}__iexact": phrase}, then=Value(3.0)),
        When(**{f"{field}__istartswith": phrase}, then=Value(2.0)),
        When(**{f"{field}__icontains": f" {phrase}"}, then=Value(1.5)),
        default=Value(1.0),
        output_field=FloatField(),
    )
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramWordSimilarity

        rank = rank + TrigramWordSimilarity(phrase, Cast(field, output_field=TextField()))
    return rank


def _search(qs: QuerySet, *, fields: tuple[str, ...], rank_field: str, terms: list[str], limit: int) -> list[Model]:
    phrase = " ".join(terms)
    return list(
        qs.filter(_match(fields, terms))
        .annotate(rank=_rank(rank_field, phrase))
        .order_by(F("rank").desc(), "pk")[:limit]
    )


def global_search(*, user: User, q: str, scope: str | None = None, limit: int = 8) -> dict[str, list[Hit]]:
    """Up to ``limit`` hits of each kind for ``q`` in the user's book (``scope``: ``mine``, ``team`` or
    ``all``; default the user's own, as on the book of business), best first. Five queries, or none for a query
    under ``MIN_LENGTH`` characters."""
    terms = terms_of(q)
    results: dict[str, list[Hit]] = {kind: [] for kind, _ in KINDS}
    if not terms:
        return results
    scope = scope or default_scope(user)
    own = account_scope_q(user=user, scope=scope)
    rows = account_scope_q(user=user, scope=scope, prefix="account__")

    accounts = _search(
        Account.objects.filter(own).select_related("owner"),
        fields=("name", "domain", "external_id"),
        rank_field="name",
        terms=terms,
        limit=limit,
    )
    results["account"] = [
        Hit("account", a.pk, a.name, " · ".join(filter(None, [a.domain, str(a.owner or "Unassigned")])),
            reverse("accounts:detail", args=[a.pk]), a.rank)
        for a in accounts
    ]  # fmt: skip
    contacts = _search(
        Contact.objects.filter(rows).select_related("account"),
        fields=("name", "email"),
        rank_field="name",
        terms=terms,
        limit=limit,
    )
    results["contact"] = [
        Hit("contact", c.pk, c.name, " · ".join(filter(None, [c.title, c.email, c.account.name])),
            reverse("accounts:detail", args=[c.account_id]) + f"#contact-{c.pk}", c.rank)
        for c in contacts
    ]  # fmt: skip
    ctas = _search(
        CTA.objects.filter(rows).select_related("account"),
        fields=("title",),
        rank_field="title",
        terms=terms,
        limit=limit,
    )
    results["cta"] = [
        Hit("cta", c.pk, c.title, f"{c.account.name} · {c.get_status_display()} · due {c.due_date:%Y-%m-%d}",
            reverse("playbooks:cta_detail", args=[c.pk]), c.rank)
        for c in ctas
    ]  # fmt: skip
    plans = _search(
        SuccessPlan.objects.filter(rows).select_related("account"),
        fields=("name",),
        rank_field="name",
        terms=terms,
        limit=limit,
    )
    results["plan"] = [
        Hit("plan", p.pk, p.name, f"{p.account.name} · {p.get_status_display()}",
            reverse("success:plan", args=[p.pk]), p.rank)
        for p in plans
    ]  # fmt: skip
    notes = _search(
        Activity.objects.filter(rows).select_related("account"),
        fields=("subject", "summary"),
        rank_field="subject",
        terms=terms,
        limit=limit,
    )
    results["note"] = [
        Hit("note", n.pk, n.subject or n.summary[:80], f"{n.account.name} · {n.get_kind_display()} · "
            f"{n.occurred_at:%Y-%m-%d}", reverse("timeline:account", args=[n.account_id]) + f"#activity-{n.pk}",
            n.rank)
        for n in notes
    ]  # fmt: skip
    return results


def flat(results: dict[str, list[Hit]]) -> list[Hit]:
    """All hits, best first across kinds (ties: the order of ``KINDS``)."""
    order = {kind: i for i, (kind, _) in enumerate(KINDS)}
    return sorted((h for hits in results.values() for h in hits), key=lambda h: (-h.score, order[h.kind], h.id))

"""Reads of surveys: THE score formulas (NPS, CSAT, CES - one definition each, reused by the results pages,
the API, health measures and the metrics dashboards), role scopes, result breakdowns and the CSM home slot.

Formulas (glossary): NPS = % promoters (9-10) - % detractors (0-6), passives 7-8 count in the base only;
CSAT = % of answers scoring 4-5; CES = mean score (1-7). Every one is ``None`` without answers.
"""

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from csp.models import Role, User
from csp.roles import owner_scope_q
from surveys.models import Band, SendStatus, Survey, SurveyBatch, SurveyKind, SurveySend, Unsubscribe, score_band
from surveys.models import Response as SurveyResponse

# --- the formulas -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """What every formula needs: answers, low-band and high-band answers, and the sum of scores."""

    n: int = 0
    low: int = 0
    high: int = 0
    total: int = 0


def score_from_counts(kind: str, c: Counts) -> float | None:
    """The one place the three formulas live. NPS and CSAT are percentages, CES a mean; rounded to 0.1."""
    if not c.n:
        return None
    if kind == SurveyKind.NPS:
        return round(100.0 * (c.high - c.low) / c.n, 1)
    if kind == SurveyKind.CSAT:
        return round(100.0 * c.high / c.n, 1)
    return round(c.total / c.n, 2)


def _count_aggregates() -> dict[str, Any]:
    return {
        "n": Count("id"),
        "low": Count("id", filter=Q(band=Band.LOW)),
        "high": Count("id", filter=Q(band=Band.HIGH)),
        "total": Sum("score"),
    }


def counts_of(kind: str, answers: QuerySet | Iterable[int]) -> Counts:
    """Counts of a Response queryset (one aggregate query) or of plain scores."""
    if isinstance(answers, QuerySet):
        row = answers.order_by().aggregate(**_count_aggregates())
        return Counts(row["n"] or 0, row["low"] or 0, row["high"] or 0, row["total"] or 0)
    scores = [int(s) for s in answers]
    bands = Counter(score_band(kind, s) for s in scores)
    return Counts(len(scores), bands[Band.LOW], bands[Band.HIGH], sum(scores))


def nps(answers: QuerySet | Iterable[int]) -> float | None:
    """Net Promoter Score of NPS answers (a Response queryset or 0-10 scores): -100..100, None when empty."""
    return score_from_counts(SurveyKind.NPS, counts_of(SurveyKind.NPS, answers))


def csat(answers: QuerySet | Iterable[int]) -> float | None:
    """CSAT: % of 1-5 answers scoring 4 or 5; None when empty."""
    return score_from_counts(SurveyKind.CSAT, counts_of(SurveyKind.CSAT, answers))


def ces(answers: QuerySet | Iterable[int]) -> float | None:
    """CES: mean of 1-7 answers; None when empty."""
    return score_from_counts(SurveyKind.CES, counts_of(SurveyKind.CES, answers))


def score_of(kind: str, answers: QuerySet | Iterable[int]) -> float | None:
    return score_from_counts(kind, counts_of(kind, answers))


def score_unit(kind: str) -> str:
    return "" if kind == SurveyKind.CES else ("%" if kind == SurveyKind.CSAT else "")


# --- scopes and filters -------------------------------------------------------------------------------------------


def responses_visible(user: User) -> QuerySet[SurveyResponse]:
    """Answers a user may read: admins and viewers all; managers their teams' accounts; CSMs their accounts."""
    qs = SurveyResponse.objects.all()
    if user.role in (Role.ADMIN, Role.VIEWER):
        return qs
    return qs.filter(owner_scope_q(user, prefix="account__owner"))


def sends_visible(user: User) -> QuerySet[SurveySend]:
    qs = SurveySend.objects.all()
    if user.role in (Role.ADMIN, Role.VIEWER):
        return qs
    return qs.filter(owner_scope_q(user, prefix="account__owner"))


@dataclass
class ResultFilter:
    """A breakdown of results: any of survey, account, segment (live membership), CSM, team, period."""

    survey: Survey | None = None
    account_id: int | None = None
    segment: Any = None
    owner_id: int | None = None
    team_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    def apply(self, qs: QuerySet, date_field: str) -> QuerySet:
        if self.survey is not None:
            qs = qs.filter(survey=self.survey)
        if self.account_id:
            qs = qs.filter(account_id=self.account_id)
        if self.segment is not None:
            from segments.selectors import segment_accounts

            qs = qs.filter(account_id__in=segment_accounts(self.segment).order_by().values("id"))
        if self.owner_id:
            qs = qs.filter(account__owner_id=self.owner_id)
        if self.team_id:
            qs = qs.filter(account__owner__team_id=self.team_id)
        if self.start:
            qs = qs.filter(**{f"{date_field}__date__gte": self.start})
        if self.end:
            qs = qs.filter(**{f"{date_field}__date__lte": self.end})
        return qs


def response_rate(sends: QuerySet[SurveySend]) -> float | None:
    """Answered sends ÷ delivered sends x 100 (one query); None when nothing was delivered."""
    row = (
        sends.filter(status=SendStatus.SENT)
        .order_by()
        .aggregate(n=Count("id"), answered=Count("id", filter=Q(response__isnull=False)))
    )
    return round(100.0 * row["answered"] / row["n"], 1) if row["n"] else None


_STOP_TEXT = """
    a about above after again all also am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
    other our ours out over own same she should so some such than that the their them then there these they
    this those through to too under until up us very was we were what when where which while who whom why will
    with would you your yours really much get got us im ive dont cant its very lot lots thing things
"""
STOPWORDS = frozenset(_STOP_TEXT.split())
WORD_RE = re.compile(r"[a-z][a-z'-]{2,}")


def themes(comments: Iterable[str], top: int = 10) -> list[tuple[str, int]]:
    """The most frequent themes of the comments: words and two-word phrases (stop words left out), each counted
    once per comment, bigrams preferred when they recur."""
    words_count: Counter[str] = Counter()
    pairs_count: Counter[str] = Counter()
    for text in comments:
        words = [w.strip("'-") for w in WORD_RE.findall((text or "").lower())]
        words = [w for w in words if w and w not in STOPWORDS]
        words_count.update(set(words))
        pairs_count.update({f"{a} {b}" for a, b in itertools.pairwise(words)})
    merged = {k: v for k, v in pairs_count.items() if v >= 2}
    covered = {w for pair in merged for w in pair.split()}
    merged.update(
        {k: v for k, v in words_count.items() if v >= 2 and (k not in covered or v > 2 * pairs_count.get(k, 0))}
    )
    return sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


def survey_results(*, user: User, survey: Survey, flt: ResultFilter, comments_limit: int = 50) -> dict[str, Any]:
    """Everything the results page and the results endpoint show, in a fixed handful of queries: score, answer
    count, distribution, response rate, monthly trend, latest comments with sentiment and the frequent themes."""
    flt.survey = survey
    answers = flt.apply(responses_visible(user), "answered_at")
    sends = flt.apply(sends_visible(user), "created_at")
    low, high = survey.scale
    dist_rows = dict(answers.order_by().values_list("score").annotate(n=Count("id")))
    counts = Counts(
        n=sum(dist_rows.values()),
        low=sum(n for s, n in dist_rows.items() if score_band(survey.kind, s) == Band.LOW),
        high=sum(n for s, n in dist_rows.items() if score_band(survey.kind, s) == Band.HIGH),
        total=sum(s * n for s, n in dist_rows.items()),
    )
    distribution = [
        {"score": s, "count": dist_rows.get(s, 0), "band": score_band(survey.kind, s)} for s in range(low, high + 1)
    ]
    trend = [
        {
            "month": row["month"].date().isoformat() if hasattr(row["month"], "date") else str(row["month"]),
            "n": row["n"],
            "score": score_from_counts(survey.kind, Counts(row["n"], row["low"], row["high"], row["total"] or 0)),
        }
        for row in answers.annotate(month=TruncMonth("answered_at"))
        .order_by()
        .values("month")
        .annotate(**_count_aggregates())
        .order_by("month")
    ]
    comments = list(
        answers.exclude(comment="")
        .select_related("account", "contact")
        .order_by("-answered_at", "-id")[:comments_limit]
    )
    all_comments = answers.exclude(comment="").order_by("-answered_at").values_list("comment", flat=True)[:2000]
    return {
        "kind": survey.kind,
        "score": score_from_counts(survey.kind, counts),
        "answers": counts.n,
        "low": counts.low,
        "high": counts.high,
        "mid": counts.n - counts.low - counts.high,
        "distribution": distribution,
        "response_rate": response_rate(sends),
        "sent": sends.filter(status=SendStatus.SENT).count(),
        "trend": trend,
        "comments": comments,
        "themes": themes(all_comments),
    }


def surveys_with_scores(*, user: User) -> list[Survey]:
    """Every survey with its score, answer count and response rate within the user's scope: three queries."""
    surveys = list(Survey.objects.select_related("segment").order_by("name"))
    by_survey = {
        row["survey_id"]: row
        for row in responses_visible(user).order_by().values("survey_id").annotate(**_count_aggregates())
    }
    sends = {
        row["survey_id"]: row
        for row in sends_visible(user)
        .filter(status=SendStatus.SENT)
        .order_by()
        .values("survey_id")
        .annotate(n=Count("id"), answered=Count("id", filter=Q(response__isnull=False)))
    }
    for s in surveys:
        row = by_survey.get(s.pk, {})
        s.answers = row.get("n", 0)
        s.score = score_from_counts(
            s.kind, Counts(s.answers, row.get("low", 0), row.get("high", 0), row.get("total") or 0)
        )
        sent = sends.get(s.pk, {})
        s.sent = sent.get("n", 0)
        s.response_rate = round(100.0 * sent["answered"] / sent["n"], 1) if sent.get("n") else None
    return surveys


def batches_of(survey: Survey, limit: int = 10) -> list[SurveyBatch]:
    return list(survey.batches.order_by("-created_at", "-id")[:limit])


def failed_sends(survey: Survey, limit: int = 50) -> list[SurveySend]:
    return list(
        survey.sends.filter(status=SendStatus.FAILED).select_related("account", "contact").order_by("-id")[:limit]
    )


# --- for other apps -------------------------------------------------------------------------------------------------


def recent_detractors(*, user: User, days: int = 30, limit: int = 10) -> list[SurveyResponse]:
    """NPS detractor answers of the last ``days`` days on the accounts the user sees (CSM home slot): one query."""
    since = timezone.now() - dt.timedelta(days=days)
    return list(
        responses_visible(user)
        .filter(kind=SurveyKind.NPS, band=Band.LOW, answered_at__gte=since)
        .select_related("account", "contact", "survey")
        .order_by("-answered_at", "-id")[:limit]
    )


def last_nps_category_subquery() -> Subquery:
    """The NPS category of an account's latest NPS answer (correlated on ``pk``): the segment rule field."""
    return Subquery(
        SurveyResponse.objects.filter(account=OuterRef("pk"), kind=SurveyKind.NPS)
        .order_by("-answered_at", "-id")
        .values("nps_category")[:1]
    )


def account_survey_rows(account_ids: list[int] | None, as_of: dt.date) -> dict[int, dict[str, Any]]:
    """Per account as of a day, for health measures (three GROUP BY queries): the latest NPS answer score (0-10),
    the NPS of the last 180 days and of the 180 before (its trend), and the response rate over 365 days."""
    end = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min))
    mid, start = end - dt.timedelta(days=180), end - dt.timedelta(days=360)
    answers = SurveyResponse.objects.filter(kind=SurveyKind.NPS, answered_at__lt=end)
    sends = SurveySend.objects.filter(status=SendStatus.SENT, sent_at__lt=end, sent_at__gte=end - dt.timedelta(365))
    if account_ids is not None:
        answers = answers.filter(account_id__in=account_ids)
        sends = sends.filter(account_id__in=account_ids)
    rows: dict[int, dict[str, Any]] = {}
    latest_id = (
        SurveyResponse.objects.filter(account_id=OuterRef("account_id"), kind=SurveyKind.NPS, answered_at__lt=end)
        .order_by("-answered_at", "-id")
        .values("id")[:1]
    )
    for acc, score in answers.filter(id=Subquery(latest_id)).values_list("account_id", "score"):
        rows.setdefault(acc, {})["latest_nps"] = score
    windows = (
        answers.filter(answered_at__gte=start)
        .order_by()
        .values("account_id")
        .annotate(
            n_now=Count("id", filter=Q(answered_at__gte=mid)),
            low_now=Count("id", filter=Q(answered_at__gte=mid, band=Band.LOW)),
            high_now=Count("id", filter=Q(answered_at__gte=mid, band=Band.HIGH)),
            n_prev=Count("id", filter=Q(answered_at__lt=mid)),
            low_prev=Count("id", filter=Q(answered_at__lt=mid, band=Band.LOW)),
            high_prev=Count("id", filter=Q(answered_at__lt=mid, band=Band.HIGH)),
        )
    )
    for r in windows:
        now_ = score_from_counts(SurveyKind.NPS, Counts(r["n_now"], r["low_now"], r["high_now"]))
        prev = score_from_counts(SurveyKind.NPS, Counts(r["n_prev"], r["low_prev"], r["high_prev"]))
        row = rows.setdefault(r["account_id"], {})
        row["nps_now"], row["nps_prev"] = now_, prev
        row["nps_trend"] = None if now_ is None or prev is None else round(now_ - prev, 1)
    for r in (
        sends.order_by()
        .values("account_id")
        .annotate(n=Count("id"), answered=Count("id", filter=Q(response__answered_at__lt=end)))
    ):
        rows.setdefault(r["account_id"], {})["response_rate"] = round(100.0 * r["answered"] / r["n"], 1)
    return rows


def is_unsubscribed(email: str) -> bool:
    return Unsubscribe.objects.filter(email=(email or "").strip().lower()).exists()

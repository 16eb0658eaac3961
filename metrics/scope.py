"""Dashboard filters (team, CSM, segment, tier, period) and the role scope they must stay inside.

CSMs see their own book and may open the team view of their own team; managers see the teams they lead;
admins and viewers see everything. A filter outside the user's scope is refused (``PermissionDenied`` -> 403),
never silently emptied, so a shared link never shows a misleading "0".
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account, Tier
from csp.models import Role, Team, User
from segments.models import Segment
from segments.selectors import segment_account_ids_q

PERIODS = (
    ("this_quarter", "This quarter"),
    ("last_quarter", "Last quarter"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("ytd", "Year to date"),
    ("last_12_months", "Last 12 months"),
)
_QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return add_months(month_start(day), 1) - dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_label(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of a named period: a preset, ``YYYY-Qn`` or ``YYYY-MM``; ValueError otherwise."""
    if period == "this_quarter":
        start = quarter_start(today)
        return start, add_months(start, 3) - dt.timedelta(days=1)
    if period == "last_quarter":
        start = add_months(quarter_start(today), -3)
        return start, quarter_start(today) - dt.timedelta(days=1)
    if period == "this_month":
        return month_start(today), month_end(today)
    if period == "last_month":
        start = add_months(today, -1)
        return start, month_start(today) - dt.timedelta(days=1)
    if period == "ytd":
        return dt.date(today.year, 1, 1), today
    if period == "last_12_months":
        return add_months(today, -11), month_end(today)
    if m := _QUARTER_RE.match(period):
        start = dt.date(int(m[1]), 3 * int(m[2]) - 2, 1)
        return start, add_months(start, 3) - dt.timedelta(days=1)
    if m := _MONTH_RE.match(period):
        start = dt.date(int(m[1]), int(m[2]), 1)
        return start, month_end(start)
    raise ValueError(period)


@dataclass
class DashboardFilters:
    """Validated filters of a dashboard request, and the accounts they select."""

    user: User
    start: dt.date
    end: dt.date
    period: str = "this_quarter"
    team: Team | None = None
    csm: User | None = None
    segment: Segment | None = None
    tier: str = ""
    today: dt.date = field(default_factory=timezone.localdate)
    # The portfolio reads the whole company (admins, managers, viewers) rather than the user's default book.
    whole_company: bool = False

    def accounts(self) -> QuerySet[Account]:
        """The accounts in scope and matching the filters (lazy; use ``.values("id")`` as a subquery)."""
        qs = Account.objects.all()
        if self.csm is not None:
            qs = qs.filter(owner=self.csm)
        elif self.team is not None:
            qs = qs.filter(Q(owner__team=self.team) | Q(owner=self.team.manager_id))
        elif not self.whole_company:
            qs = qs.filter(default_scope_q(self.user))
        if self.segment is not None:
            qs = qs.filter(**segment_account_ids_q(self.segment, today=self.today))
        if self.tier:
            qs = qs.filter(tier=self.tier)
        return qs

    def owner_ids(self) -> QuerySet | None:
        """Owners shown in per-CSM tables (None: everyone with accounts)."""
        if self.csm is not None:
            return User.objects.filter(pk=self.csm.pk).values("id")
        if self.team is not None:
            return User.objects.filter(Q(team=self.team) | Q(pk=self.team.manager_id)).values("id")
        if self.whole_company:
            return None
        if self.user.role == Role.MANAGER:
            return User.objects.filter(Q(team__manager=self.user) | Q(pk=self.user.pk)).values("id")
        if self.user.role == Role.CSM:
            return User.objects.filter(pk=self.user.pk).values("id")
        return None

    def params(self, **overrides) -> dict[str, str]:
        values = {
            "period": self.period,
            "start": self.start.isoformat() if self.period == "custom" else "",
            "end": self.end.isoformat() if self.period == "custom" else "",
            "team": str(self.team.pk) if self.team else "",
            "csm": str(self.csm.pk) if self.csm else "",
            "segment": str(self.segment.pk) if self.segment else "",
            "tier": self.tier,
            "company": "1" if self.whole_company else "",
        }
        values.update({k: str(v) for k, v in overrides.items()})
        return {k: v for k, v in values.items() if v}

    def querystring(self, **overrides) -> str:
        return urlencode(self.params(**overrides))


def default_scope_q(user: User) -> Q:
    """Accounts a user sees on dashboards without filters: CSM their book, manager their teams, others all."""
    if user.role == Role.CSM:
        return Q(owner=user)
    if user.role == Role.MANAGER:
        return Q(owner__team__manager=user) | Q(owner=user)
    return Q()


def _pick(model, raw: str, label: str):
    try:
        return model.objects.get(pk=int(raw))
    except (ValueError, model.DoesNotExist) as exc:
        raise ValidationError({label: f"Unknown {label} {raw!r}."}) from exc


def parse_filters(
    user: User, params, *, today: dt.date | None = None, period: str = "this_quarter"
) -> DashboardFilters:
    """Validate the query parameters of a dashboard. Bad values raise ValidationError (400); values outside the
    user's scope raise PermissionDenied (403). Empty values mean "any"."""
    today = today or timezone.localdate()
    period = (params.get("period") or "").strip() or period
    raw_start, raw_end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if raw_start or raw_end:
        try:
            start, end = dt.date.fromisoformat(raw_start), dt.date.fromisoformat(raw_end)
        except ValueError as exc:
            raise ValidationError({"start": "Give both start and end as YYYY-MM-DD."}) from exc
        if end < start:
            raise ValidationError({"end": "The end is before the start."})
        period = "custom"
    else:
        try:
            start, end = period_bounds(period, today)
        except ValueError as exc:
            raise ValidationError({"period": f"Unknown period {period!r}."}) from exc
        # A period running now ends today: the days ahead would count contracts that merely end later in the
        # period as churned before anyone had a chance to renew them.
        if start <= today < end:
            end = today
    flt = DashboardFilters(user=user, start=start, end=end, period=period, today=today)
    if raw := (params.get("team") or "").strip():
        flt.team = _pick(Team, raw, "team")
    if raw := (params.get("csm") or "").strip():
        flt.csm = _pick(User, raw, "csm")
    if raw := (params.get("segment") or "").strip():
        flt.segment = _pick(Segment, raw, "segment")
    if raw := (params.get("tier") or "").strip():
        if raw not in Tier.values:
            raise ValidationError({"tier": f"Unknown tier {raw!r}."})
        flt.tier = raw
    if (params.get("company") or "").strip() in ("1", "true"):
        flt.whole_company = True
    check_scope(flt)
    return flt


def check_scope(flt: DashboardFilters) -> None:
    """Refuse (403) a team or CSM filter outside what the user may see."""
    user = flt.user
    if flt.whole_company and user.role == Role.CSM:
        raise PermissionDenied("The whole company's figures are for admins, managers and viewers.")
    if user.role in (Role.ADMIN, Role.VIEWER):
        return
    if user.role == Role.MANAGER:
        if flt.team is not None and flt.team.manager_id != user.id:
            raise PermissionDenied("You may only look at the teams you manage.")
        if flt.csm is not None and flt.csm.id != user.id and flt.csm.team_id is None:
            raise PermissionDenied("You may only look at the CSMs of your teams.")
        if (
            flt.csm is not None
            and flt.csm.id != user.id
            and not Team.objects.filter(pk=flt.csm.team_id, manager=user).exists()
        ):
            raise PermissionDenied("You may only look at the CSMs of your teams.")
        return
    # CSM: their own book, or the team view of their own team (and its members' rows).
    if flt.csm is not None and flt.csm.id != user.id and not (user.team_id and flt.csm.team_id == user.team_id):
        raise PermissionDenied("You may only look at your own book or your team's.")
    if flt.team is not None and flt.team.pk != user.team_id:
        raise PermissionDenied("You may only open the team view of your own team.")


def team_choices(user: User) -> QuerySet[Team]:
    qs = Team.objects.order_by("name")
    if user.role == Role.MANAGER:
        return qs.filter(manager=user)
    if user.role == Role.CSM:
        return qs.filter(pk=user.team_id)
    return qs


def csm_choices(user: User) -> QuerySet[User]:
    qs = User.objects.filter(role__in=[Role.CSM, Role.MANAGER], is_active=True).order_by("full_name", "email")
    if user.role == Role.MANAGER:
        return qs.filter(Q(team__manager=user) | Q(pk=user.pk))
    if user.role == Role.CSM:
        return qs.filter(pk=user.pk)
    return qs

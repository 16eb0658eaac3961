"""Trigger condition types: their parameters and validation, and, for state conditions, the ONE annotated account
queryset that says which accounts satisfy the condition now (set-based: no per-account queries).

Kinds of conditions:
- state conditions (everything except segment entered/left and survey answers): true or false for an account at
  a moment; the trigger fires when an account starts satisfying it (edge-triggered, see ``TriggerMatch``);
- segment entered / left: the diff of a segment's stored membership (``segments.selectors.segment_membership_diff``);
- survey answers: events, evaluated on the answer itself (ready for the surveys issue, disabled until then).
"""

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.template import Context, Engine, TemplateSyntaxError

from accounts.models import LifecycleStage
from events.metrics import active_users_subquery, annotate_license_utilization
from events.models import AccountDailyEvent
from support.models import Ticket, TicketStatus
from triggers.models import ConditionType, Trigger

HEALTH_BANDS = (("red", "Red"), ("yellow", "Yellow"), ("green", "Green"))
USAGE_METRICS = (("events", "Events"), ("active_users", "Active users"))
SURVEY_KINDS = (("nps", "NPS (0-10)"), ("csat", "CSAT (1-5)"), ("ces", "CES (1-7)"))
TEXT_ENGINE = Engine(autoescape=False)


@dataclass(frozen=True)
class Param:
    """One setting of a condition type (also a form field of the same name)."""

    name: str
    label: str
    kind: str  # "int", "choice", "text"
    minimum: int = 0
    maximum: int = 100
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ConditionSpec:
    key: str
    params: tuple[Param, ...] = ()
    # Which signal re-evaluates it for the accounts concerned: "health" (health_changed_many), "usage"
    # (account_changed: rollups, tickets), "survey" (an answer), or "" (periodic only).
    source: str = ""
    periodic: bool = True
    build: Callable[..., QuerySet] | None = None
    describe: Callable[[dict[str, Any], dict[str, Any]], str] = field(default=lambda row, p: "")


def _health_band(qs, p, today, now):
    return qs.filter(health__band=p["band"]).annotate(t_score=F("health__score"))


def _score_drop(qs, p, today, now):
    return (
        qs.filter(health__score__isnull=False, health__previous_score__isnull=False)
        .annotate(t_drop=F("health__previous_score") - F("health__score"), t_score=F("health__score"))
        .filter(t_drop__gte=p["points"])
    )


def usage_windows(days: int, today: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """Current period: the ``days`` complete days ending yesterday (today is still filling up); previous:
    the ``days`` days before it."""
    cur_last = today - dt.timedelta(days=1)
    cur_first = cur_last - dt.timedelta(days=days - 1)
    prev_last = cur_first - dt.timedelta(days=1)
    return (cur_first, cur_last), (prev_last - dt.timedelta(days=days - 1), prev_last)


def _events_sum(first: dt.date, last: dt.date, event: str | None = None) -> Subquery:
    rows = AccountDailyEvent.objects.filter(account=OuterRef("pk"), day__gte=first, day__lte=last)
    if event is not None:
        rows = rows.filter(event=event)
    return Subquery(rows.order_by().values("account").annotate(n=Sum("count")).values("n"), output_field=IntegerField())


def _usage_drop(qs, p, today, now):
    (c1, c2), (p1, p2) = usage_windows(p["days"], today)
    if p["metric"] == "active_users":
        cur, prev = active_users_subquery(first=c1, last=c2), active_users_subquery(first=p1, last=p2)
    else:
        cur, prev = _events_sum(c1, c2), _events_sum(p1, p2)
    # Integer arithmetic at the boundary: cur ≤ prev x (100 - N)/100 ⇔ cur x 100 ≤ prev x (100 - N).
    return (
        qs.annotate(t_cur=Coalesce(cur, Value(0)), t_prev=Coalesce(prev, Value(0)))
        .filter(t_prev__gt=0)
        .annotate(t_cur100=F("t_cur") * 100)
        .filter(t_cur100__lte=F("t_prev") * (100 - p["percent"]))
    )


def _license(qs, p, today, now):
    return annotate_license_utilization(qs, day=today, name="t_util").filter(t_util__lt=p["percent"])


def _renewal(qs, p, today, now):
    return qs.filter(
        next_renewal_date__gte=today, next_renewal_date__lte=today + dt.timedelta(days=p["days"])
    ).annotate(t_renewal=F("next_renewal_date"))


def _no_touchpoint(qs, p, today, now):
    # An account never touched counts from its creation, so a brand-new account is not "dark" on day one.
    return qs.annotate(t_last=Coalesce("last_touchpoint_at", "created_at")).filter(
        t_last__lte=now - dt.timedelta(days=p["days"])
    )


def _escalation(qs, p, today, now):
    escalated = Ticket.objects.filter(
        account=OuterRef("pk"), is_escalated=True, status__in=[TicketStatus.OPEN, TicketStatus.PENDING]
    )
    return qs.filter(Exists(escalated)).annotate(
        t_ticket=Subquery(escalated.order_by("-opened_at").values("external_id")[:1])
    )


def _lifecycle(qs, p, today, now):
    return qs.filter(lifecycle_stage=p["stage"])


def _product_event(qs, p, today, now):
    first = today - dt.timedelta(days=p["days"] - 1)
    return qs.annotate(t_count=Coalesce(_events_sum(first, today, p["event"]), Value(0))).filter(
        t_count__gte=p["min_count"]
    )


def _fmt(value: Any) -> str:
    return (
        "—" if value is None else (f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value))
    )


SPECS: dict[str, ConditionSpec] = {
    s.key: s
    for s in (
        ConditionSpec(
            ConditionType.HEALTH_BAND,
            (Param("band", "Band", "choice", choices=HEALTH_BANDS, default="red"),),
            source="health",
            build=_health_band,
            describe=lambda r, p: f"Health turned {p['band']} (score {_fmt(r.get('t_score'))})",
        ),
        ConditionSpec(
            ConditionType.SCORE_DROP,
            (Param("points", "Points", "int", 1, 100, 10),),
            source="health",
            build=_score_drop,
            describe=lambda r, p: f"Health score dropped {_fmt(r.get('t_drop'))} points to {_fmt(r.get('t_score'))}",
        ),
        ConditionSpec(
            ConditionType.USAGE_DROP,
            (
                Param("percent", "Drop %", "int", 1, 100, 30),
                Param("days", "Period (days)", "int", 1, 90, 30),
                Param("metric", "Usage measure", "choice", choices=USAGE_METRICS, default="events"),
            ),
            source="usage",
            build=_usage_drop,
            describe=lambda r, p: (
                f"{dict(USAGE_METRICS)[p['metric']]} fell from {r.get('t_prev')} to {r.get('t_cur')} "
                f"over the last {p['days']} days"
            ),
        ),
        ConditionSpec(
            ConditionType.LICENSE_UTILIZATION,
            (Param("percent", "Below %", "int", 1, 100, 30),),
            source="usage",
            build=_license,
            describe=lambda r, p: f"License utilization {_fmt(r.get('t_util'))}% (below {p['percent']}%)",
        ),
        ConditionSpec(
            ConditionType.RENEWAL_WITHIN,
            (Param("days", "Days", "int", 0, 730, 90),),
            build=_renewal,
            describe=lambda r, p: f"Renewal on {r.get('t_renewal')} (within {p['days']} days)",
        ),
        ConditionSpec(
            ConditionType.NO_TOUCHPOINT,
            (Param("days", "Days", "int", 1, 3650, 30),),
            build=_no_touchpoint,
            describe=lambda r, p: f"No touchpoint since {r['t_last']:%Y-%m-%d}" if r.get("t_last") else "No touchpoint",
        ),
        ConditionSpec(
            ConditionType.SUPPORT_ESCALATION,
            source="usage",
            build=_escalation,
            describe=lambda r, p: f"Escalated support ticket #{r.get('t_ticket')}",
        ),
        ConditionSpec(
            ConditionType.LIFECYCLE_ENTERED,
            (Param("stage", "Stage", "choice", choices=tuple(LifecycleStage.choices), default="renewal"),),
            build=_lifecycle,
            describe=lambda r, p: f"Entered lifecycle stage {p['stage']}",
        ),
        ConditionSpec(ConditionType.SEGMENT_ENTERED, describe=lambda r, p: "Entered the segment"),
        ConditionSpec(ConditionType.SEGMENT_LEFT, describe=lambda r, p: "Left the segment"),
        ConditionSpec(
            ConditionType.PRODUCT_EVENT,
            (
                Param("event", "Event name", "text"),
                Param("min_count", "At least (times)", "int", 1, 100000, 1),
                Param("days", "Within (days)", "int", 1, 90, 1),
            ),
            source="usage",
            build=_product_event,
            describe=lambda r, p: f"“{p['event']}” received {r.get('t_count')} time(s) in the last {p['days']} day(s)",
        ),
        ConditionSpec(
            ConditionType.SURVEY_ANSWER,
            (
                Param("kind", "Survey", "choice", choices=SURVEY_KINDS, default="nps"),
                Param("score_min", "Score from", "int", 0, 10, 0),
                Param("score_max", "Score to", "int", 0, 10, 6),
            ),
            source="survey",
            periodic=False,
            describe=lambda r, p: f"{p['kind'].upper()} answer {r.get('score')}",
        ),
    )
}
PARAM_NAMES = sorted({param.name for spec in SPECS.values() for param in spec.params})
SEGMENT_TYPES = frozenset({ConditionType.SEGMENT_ENTERED, ConditionType.SEGMENT_LEFT})
STATE_TYPES = frozenset(k for k, s in SPECS.items() if s.build is not None)


def surveys_ready() -> bool:
    """Survey answers exist once the surveys app sends ``surveys.signals.answer_received``."""
    try:
        from surveys import signals
    except ImportError:
        return False
    return hasattr(signals, "answer_received")


SURVEYS_NOT_READY = (
    "NPS/CSAT answers arrive with the surveys module, which is not installed yet: this trigger can be saved "
    "but not activated."
)


def clean_params(condition_type: str, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Cast and check the parameters a condition type uses; returns (params, errors by param name)."""
    spec = SPECS.get(condition_type)
    if spec is None:
        return {}, {"condition_type": f"Unknown condition type '{condition_type}'."}
    params, errors = {}, {}
    raw = raw if isinstance(raw, dict) else {}
    for p in spec.params:
        value = raw.get(p.name)
        if value in (None, ""):
            value = p.default
        if value in (None, ""):
            errors[p.name] = f"{p.label} is required."
            continue
        if p.kind == "int":
            try:
                value = int(str(value))
            except ValueError:
                errors[p.name] = f"{p.label} must be a whole number."
                continue
            if not p.minimum <= value <= p.maximum:
                errors[p.name] = f"{p.label} must be between {p.minimum} and {p.maximum}."
                continue
        elif p.kind == "choice":
            if value not in dict(p.choices):
                errors[p.name] = f"{p.label}: '{value}' is not one of {', '.join(dict(p.choices))}."
                continue
        else:
            value = str(value).strip()[:200]
        params[p.name] = value
    if condition_type == ConditionType.SURVEY_ANSWER and not errors and params["score_min"] > params["score_max"]:
        errors["score_max"] = "Score to must not be below score from."
    return params, errors


@functools.lru_cache(maxsize=256)
def _compiled(template: str):
    # A trigger firing for a batch renders one title per account: the template is parsed once.
    return TEXT_ENGINE.from_string(template)


def render_title(template: str, context: dict[str, Any]) -> str:
    return _compiled(template).render(Context(context)).strip()[:200]


def validate_trigger(trigger: Trigger) -> None:
    """Model-level validation (called by ``full_clean``): params per type, segment for segment conditions,
    CTA title template, and no activation of survey triggers before surveys exist."""
    params, errors = clean_params(trigger.condition_type, trigger.params)
    messages: dict[str, list[str]] = {}
    if errors:
        if "condition_type" in errors:
            messages["condition_type"] = [errors.pop("condition_type")]
        if errors:
            messages["params"] = [f"{name}: {msg}" for name, msg in errors.items()]
    else:
        trigger.params = params
    if trigger.condition_type in SEGMENT_TYPES and trigger.condition_segment_id is None:
        messages["condition_segment"] = ["Pick the segment to watch."]
    if trigger.open_cta:
        try:
            TEXT_ENGINE.from_string(trigger.cta_title)
        except TemplateSyntaxError as exc:
            messages["cta_title"] = [f"Invalid template: {exc}"]
    if trigger.is_active and trigger.condition_type == ConditionType.SURVEY_ANSWER and not surveys_ready():
        messages["is_active"] = [SURVEYS_NOT_READY]
    if not (
        trigger.open_cta
        or trigger.notify_owner
        or trigger.webhook_url
        or trigger.set_lifecycle_stage
        or trigger.send_survey_id
    ):
        messages.setdefault("open_cta", []).append("Pick at least one action.")
    if trigger.notify_email and not trigger.notify_owner:
        trigger.notify_owner = True  # an email is a notification too; keep the in-app one beside it
    if messages:
        raise ValidationError(messages)


def state_queryset(trigger: Trigger, base: QuerySet, *, today: dt.date, now: dt.datetime) -> QuerySet:
    """The accounts of ``base`` satisfying a state condition now, annotated with the values its reason shows."""
    spec = SPECS[trigger.condition_type]
    return spec.build(base, trigger.params, today, now)


def detail_fields(trigger: Trigger) -> list[str]:
    """The annotations a condition adds (``t_*``), read back with ``values()`` for the reason text."""
    names = {
        ConditionType.HEALTH_BAND: ["t_score"],
        ConditionType.SCORE_DROP: ["t_drop", "t_score"],
        ConditionType.USAGE_DROP: ["t_cur", "t_prev"],
        ConditionType.LICENSE_UTILIZATION: ["t_util"],
        ConditionType.RENEWAL_WITHIN: ["t_renewal"],
        ConditionType.NO_TOUCHPOINT: ["t_last"],
        ConditionType.SUPPORT_ESCALATION: ["t_ticket"],
        ConditionType.PRODUCT_EVENT: ["t_count"],
    }
    return names.get(trigger.condition_type, [])


def describe(trigger: Trigger, row: dict[str, Any]) -> str:
    return SPECS[trigger.condition_type].describe(row, trigger.params)[:300]

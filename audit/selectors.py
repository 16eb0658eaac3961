"""Reads of the audit log: one filtered queryset shared by the page, the CSV export and the API."""

import datetime as dt
from collections.abc import Mapping

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone

from audit.registry import audited_models

ACTIONS = {"create": LogEntry.Action.CREATE, "update": LogEntry.Action.UPDATE, "delete": LogEntry.Action.DELETE}


def model_choices() -> list[tuple[str, str]]:
    """(``app_label.model``, verbose name) for every audited model: the values of the ``model`` filter."""
    models = audited_models()
    return [(f"{m._meta.app_label}.{m._meta.model_name}", str(m._meta.verbose_name).capitalize()) for m in models]


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_entries(*, params: Mapping[str, str]) -> QuerySet[LogEntry]:
    """Log entries newest first, narrowed by ``model`` (app_label.model), ``object`` (primary key), ``actor``
    (user id or email), ``action`` (create/update/delete), ``since``/``until`` (ISO dates, inclusive).
    Unknown or malformed filter values match nothing rather than everything (an admin filtering on a typo
    must not read the whole log as the answer)."""
    qs = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")
    model = (params.get("model") or "").strip().lower()
    if model:
        app_label, _, name = model.partition(".")
        ct = ContentType.objects.filter(app_label=app_label, model=name).first() if name else None
        if ct is None:
            return qs.none()
        qs = qs.filter(content_type=ct)
    obj = (params.get("object") or "").strip()
    if obj:
        qs = qs.filter(object_pk=obj)
    actor = (params.get("actor") or "").strip()
    if actor:
        qs = qs.filter(actor_id=int(actor)) if actor.isdigit() else qs.filter(actor__email__iexact=actor)
    action = (params.get("action") or "").strip().lower()
    if action:
        if action not in ACTIONS:
            return qs.none()
        qs = qs.filter(action=ACTIONS[action])
    tz = timezone.get_current_timezone()
    since, until = _day(params.get("since")), _day(params.get("until"))
    if since:
        qs = qs.filter(timestamp__gte=dt.datetime.combine(since, dt.time.min, tzinfo=tz))
    if until:
        qs = qs.filter(timestamp__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs


def entry_changes(entry: LogEntry) -> dict[str, list]:
    """``{field: [old, new]}`` of one entry (auditlog stores the values as strings)."""
    changes = entry.changes_dict or {}
    return {field: list(values) if isinstance(values, list | tuple) else values for field, values in changes.items()}

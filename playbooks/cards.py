"""What a CTA card shows (``templates/playbooks/_cta_card.html``), computed in one Python pass into plain dicts.

The cockpit renders 50 cards of three tasks each. Left to the template, that was ~6,400 variable lookups on
model instances, ~250 ``date`` filters, ~1,000 ``{% if %}`` comparisons and an ``{% url %}`` per card: about
60 ms of CPU a page. Here every value the card prints is ready (labels, CSS classes, formatted dates, URLs,
who may tick what), dates are formatted once per distinct value, and the template only looks keys up in dicts.
Values that repeat (names, dates, labels) are escaped once and handed over as safe strings, and constant CSS
classes are safe literals, so the template's autoescape does not redo that work on every card; text unique to a
card (titles, comments) is left to autoescape. The output is the same HTML; the cockpit, the CTA page and the
htmx answers of the card's actions all build their card here, from ``selectors.card_rows``.
"""

import datetime as dt
from typing import Any

from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from csp.models import User
from playbooks import policies
from playbooks.models import CTAOutcome, CTAPriority, CTASource, CTAStatus, CTAType, TaskType

S = SafeString  # constants below hold no markup-significant character
PRIORITY_CLASS = {
    CTAPriority.URGENT: S("text-bg-danger"),
    CTAPriority.HIGH: S("text-bg-warning"),
    CTAPriority.MEDIUM: S("text-bg-info"),
}
PRIORITY_CLASS_OTHER = S("text-bg-light border")
OUTCOME_CLASS = {CTAOutcome.SUCCESS: S("text-bg-success"), CTAOutcome.LOST: S("text-bg-danger")}
OUTCOME_CLASS_OTHER = S("text-bg-secondary")
TASK_ICON = {TaskType.CALL: S("bi-telephone"), TaskType.EMAIL: S("bi-envelope"), TaskType.MEETING: S("bi-people")}
TASK_ICON_OTHER = S("bi-check2-square")
FRAME_CLOSED, FRAME_LATE, NONE = S(" border-secondary opacity-75"), S(" border-danger"), S("")
DUE_LATE = S(" text-danger fw-semibold")
DONE_TITLE = S("text-decoration-line-through text-muted")
# A pk no URL holds, reversed once and replaced per card: one reverse() a page instead of two a card.
_SENTINEL = 900_000_000_001


def _url_format(name: str) -> str:
    return reverse(name, args=[_SENTINEL]).replace(str(_SENTINEL), "{}")


def _labels(choices) -> dict[str, SafeString]:
    """A choices field's ``get_FOO_display()`` labels, escaped."""
    return {str(value): conditional_escape(label) for value, label in choices}


def form_errors(*forms) -> SafeString:
    """The card's error line: every error of every bound form, as the template's ``join:" "`` printed them."""
    return mark_safe(
        "".join(
            " ".join(conditional_escape(message) for message in errors) + " "
            for form in forms
            if form is not None
            for errors in form.errors.values()
        )
    )


class CardBuilder:
    """Builds the card dicts of one page for one user. ``can_act``: ``{cta id: may act}`` from
    ``policies.cta_action_map_rows``."""

    def __init__(self, *, user: User, today: dt.date, can_act: dict[int, bool]):
        self.user, self.today, self.can_act = user, today, can_act
        self.detail_url = _url_format("playbooks:cta_detail")
        self.account_url = _url_format("accounts:detail")
        # Labels as the models' get_FOO_display() gives them, read once a page.
        self.priorities = _labels(CTAPriority.choices)
        self.types = _labels(CTAType.choices)
        self.outcomes = _labels(CTAOutcome.choices)
        self.task_types = _labels(TaskType.choices)
        self._formatted: dict[tuple[Any, str], SafeString] = {}
        self._names: dict[tuple[str | None, str | None], SafeString | None] = {}

    def date(self, value: dt.date | dt.datetime | None, fmt: str) -> SafeString:
        """The template's ``{{ value|date:fmt }}`` (in the current time zone and language), escaped, once per
        value."""
        key = (value, fmt)
        text = self._formatted.get(key)
        if text is None:
            local = template_localtime(value) if isinstance(value, dt.datetime) else value
            text = self._formatted[key] = conditional_escape(date_filter(local, fmt) if value is not None else "")
        return text

    def name(self, full_name: str | None, email: str | None) -> SafeString | None:
        """A joined user's ``str()`` (``User.__str__``: the full name, else the e-mail), escaped, once per user;
        None without a user."""
        key = (full_name, email)
        if key not in self._names:
            text = full_name or email
            self._names[key] = conditional_escape(text) if text else None
        return self._names[key]

    def card(self, row: dict[str, Any]) -> dict[str, Any]:
        """One card from a ``selectors.card_rows`` row."""
        pk, today, due = row["id"], self.today, row["due_date"]
        closed = row["status"] == CTAStatus.CLOSED
        can_act = self.can_act.get(pk, False)
        url = mark_safe(self.detail_url.format(pk))  # a reversed path: nothing to escape
        snoozed = ""
        if row["status"] == CTAStatus.SNOOZED:
            until = row["snoozed_until"]
            snoozed = self.date(until, "D j M Y") + (S(" (back)") if until is not None and until <= today else NONE)
        return {
            "id": S(pk),
            "url": url,
            "frame": FRAME_CLOSED if closed else FRAME_LATE if due < today else NONE,
            "priority": self.priorities.get(row["priority"], row["priority"]),
            "priority_class": PRIORITY_CLASS.get(row["priority"], PRIORITY_CLASS_OTHER),
            "type": self.types.get(row["cta_type"], row["cta_type"]),
            "title": row["title"],
            "account": row["account__name"],
            "account_url": mark_safe(self.account_url.format(row["account_id"])),
            "reason": row["reason__name"],
            "trigger": row["source"] == CTASource.TRIGGER,
            "due": self.date(due, "D j M Y"),
            "due_class": DUE_LATE if not closed and due < today else NONE,
            "owner": self.name(row["owner__full_name"], row["owner__email"]) or "Unassigned",
            "snoozed": row["status"] == CTAStatus.SNOOZED,
            "snoozed_text": snoozed,
            "closed": closed,
            "outcome": self.outcomes.get(row["outcome"], row["outcome"]),
            "outcome_class": OUTCOME_CLASS.get(row["outcome"], OUTCOME_CLASS_OTHER),
            "closed_at": self.date(row["closed_at"], "j M Y H:i"),
            "closed_by": self.name(row["closed_by__full_name"], row["closed_by__email"]),
            "outcome_note": row["outcome_note"],
            "description": row["description"],
            "tasks": [self.task(task, url, can_act, closed) for task in row["tasks"]],
            "comments": [
                {
                    "author": self.name(c["author__full_name"], c["author__email"]) or "?",
                    "at": self.date(c["created_at"], "j M H:i"),
                    "body": c["body"],
                }
                for c in row["comments"]
            ],
            "can_act": can_act,
            "actions": can_act and not closed,
            "errors": "",
        }

    def task(self, task: dict[str, Any], url: str, can_act: bool, closed: bool) -> dict[str, Any]:
        done = task["completed_at"] is not None
        pk = task["id"]
        return {
            "id": S(pk),
            "title": task["title"],
            "done": done,
            "enabled": policies.may_tick(self.user, task["assignee_id"], can_act) and not closed,
            "toggle_url": S(f"{url}tasks/{pk}/toggle/"),
            "next": S("0" if done else "1"),
            "title_class": DONE_TITLE if done else NONE,
            "icon": TASK_ICON.get(task["task_type"], TASK_ICON_OTHER),
            "type": self.task_types.get(task["task_type"], task["task_type"]),
            "assignee": self.name(task["assignee__full_name"], task["assignee__email"]) or "unassigned",
            "due": self.date(task["due_date"], "j M"),
            "overdue": not done and task["due_date"] < self.today and not closed,
            "done_at": self.date(task["completed_at"], "j M H:i"),
            "done_by": self.name(task["completed_by__full_name"], task["completed_by__email"]) or "?",
            "guidance": task["guidance"],
        }

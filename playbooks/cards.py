"""What a CTA card shows (``templates/playbooks/_cta_card.html``), computed in one Python pass into plain dicts.

The cockpit renders 50 cards of three tasks each. Left to the template, that was ~6,400 variable lookups on
model instances, ~250 ``date`` filters, ~1,000 ``{% if %}`` comparisons and an ``{% url %}`` per card: about
60 ms of CPU a page. Here every value the card prints is ready (labels, CSS classes, formatted dates, URLs,
who may tick what), dates are formatted once per distinct value, and the template only looks keys up in dicts.
The output is the same HTML; the cockpit, the CTA page and the htmx answers of the card's actions all build
their card here, from ``selectors.card_rows``.
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

PRIORITY_CLASS = {
    CTAPriority.URGENT: "text-bg-danger",
    CTAPriority.HIGH: "text-bg-warning",
    CTAPriority.MEDIUM: "text-bg-info",
}
OUTCOME_CLASS = {CTAOutcome.SUCCESS: "text-bg-success", CTAOutcome.LOST: "text-bg-danger"}
TASK_ICON = {TaskType.CALL: "bi-telephone", TaskType.EMAIL: "bi-envelope", TaskType.MEETING: "bi-people"}
# A pk no URL holds, reversed once and replaced per card: one reverse() a page instead of two a card.
_SENTINEL = 900_000_000_001


def _url_format(name: str) -> str:
    return reverse(name, args=[_SENTINEL]).replace(str(_SENTINEL), "{}")


def _name(full_name: str | None, email: str | None) -> str | None:
    """A joined user's ``str()`` (``User.__str__``: the full name, else the e-mail); None without a user."""
    return full_name or email or None


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
        self.priorities = {str(v): str(label) for v, label in CTAPriority.choices}
        self.types = {str(v): str(label) for v, label in CTAType.choices}
        self.outcomes = {str(v): str(label) for v, label in CTAOutcome.choices}
        self.task_types = {str(v): str(label) for v, label in TaskType.choices}
        self._formatted: dict[tuple[Any, str], str] = {}

    def date(self, value: dt.date | dt.datetime | None, fmt: str) -> str:
        """The template's ``{{ value|date:fmt }}`` (in the current time zone and language), once per value."""
        key = (value, fmt)
        text = self._formatted.get(key)
        if text is None:
            local = template_localtime(value) if isinstance(value, dt.datetime) else value
            text = self._formatted[key] = date_filter(local, fmt) if value is not None else ""
        return text

    def card(self, row: dict[str, Any]) -> dict[str, Any]:
        """One card from a ``selectors.card_rows`` row."""
        pk, today, due = row["id"], self.today, row["due_date"]
        closed = row["status"] == CTAStatus.CLOSED
        can_act = self.can_act.get(pk, False)
        url = self.detail_url.format(pk)
        snoozed = ""
        if row["status"] == CTAStatus.SNOOZED:
            until = row["snoozed_until"]
            snoozed = self.date(until, "D j M Y") + (" (back)" if until is not None and until <= today else "")
        return {
            "id": str(pk),
            "url": url,
            "frame": " border-secondary opacity-75" if closed else " border-danger" if due < today else "",
            "priority": self.priorities.get(row["priority"], row["priority"]),
            "priority_class": PRIORITY_CLASS.get(row["priority"], "text-bg-light border"),
            "type": self.types.get(row["cta_type"], row["cta_type"]),
            "title": row["title"],
            "account": row["account__name"],
            "account_url": self.account_url.format(row["account_id"]),
            "reason": row["reason__name"],
            "trigger": row["source"] == CTASource.TRIGGER,
            "due": self.date(due, "D j M Y"),
            "due_class": " text-danger fw-semibold" if not closed and due < today else "",
            "owner": _name(row["owner__full_name"], row["owner__email"]) or "Unassigned",
            "snoozed": row["status"] == CTAStatus.SNOOZED,
            "snoozed_text": snoozed,
            "closed": closed,
            "outcome": self.outcomes.get(row["outcome"], row["outcome"]),
            "outcome_class": OUTCOME_CLASS.get(row["outcome"], "text-bg-secondary"),
            "closed_at": self.date(row["closed_at"], "j M Y H:i"),
            "closed_by": _name(row["closed_by__full_name"], row["closed_by__email"]),
            "outcome_note": row["outcome_note"],
            "description": row["description"],
            "tasks": [self.task(task, url, can_act, closed) for task in row["tasks"]],
            "comments": [
                {
                    "author": _name(c["author__full_name"], c["author__email"]) or "?",
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
            "id": str(pk),
            "title": task["title"],
            "done": done,
            "enabled": policies.may_tick(self.user, task["assignee_id"], can_act) and not closed,
            "toggle_url": f"{url}tasks/{pk}/toggle/",
            "next": "0" if done else "1",
            "title_class": "text-decoration-line-through text-muted" if done else "",
            "icon": TASK_ICON.get(task["task_type"], "bi-check2-square"),
            "type": self.task_types.get(task["task_type"], task["task_type"]),
            "assignee": _name(task["assignee__full_name"], task["assignee__email"]) or "unassigned",
            "due": self.date(task["due_date"], "j M"),
            "overdue": not done and task["due_date"] < self.today and not closed,
            "done_at": self.date(task["completed_at"], "j M H:i"),
            "done_by": _name(task["completed_by__full_name"], task["completed_by__email"]) or "?",
            "guidance": task["guidance"],
        }

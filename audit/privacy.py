"""Export and erase one person (a contact) for data-subject requests, recorded in the audit log.

A person's data: the contact row, the raw events their product user id sent (``Event.user_id`` =
``Contact.external_id``) to their account or still unmatched, their daily-activity rollup rows, and the
timeline activities they attended, and their survey answers. Erasing deletes the answers (they cascade with
the contact); an unsubscribe keeps its address, as a suppression list must.
"""

import hashlib
import re

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Contact
from events.models import AccountDailyUser, Event
from surveys.models import Response as SurveyResponse
from timeline.models import Activity

ERASED = "[erased]"
CONTACT_FIELDS = ["id", "name", "email", "phone", "title", "role", "is_primary", "external_id", "traits"]


def _events(contact: Contact):
    if not contact.external_id:
        return Event.objects.none()
    return Event.objects.filter(Q(account_id=contact.account_id) | Q(account__isnull=True), user_id=contact.external_id)


def person_export(*, contact: Contact) -> dict:
    """Everything csp holds about this person, as JSON-ready data; the export is recorded (action "access")."""
    activities = Activity.objects.filter(attendee_contacts=contact).order_by("occurred_at")
    data = {
        "exported_at": timezone.now().isoformat(),
        "contact": {
            **{f: getattr(contact, f) for f in CONTACT_FIELDS},
            "account": {"id": contact.account_id, "name": contact.account.name},
            "last_seen_at": contact.last_seen_at.isoformat() if contact.last_seen_at else None,
            "created_at": contact.created_at.isoformat(),
        },
        "events": [
            {
                "message_id": e.message_id,
                "type": e.type,
                "event": e.event,
                "timestamp": e.timestamp.isoformat(),
                "properties": e.properties,
                "context": e.context,
            }
            for e in _events(contact).order_by("timestamp").iterator(chunk_size=2000)
        ],
        # A contact without a product user id has no rollup rows (PostgreSQL refuses a NUL byte as a sentinel).
        "daily_activity": list(
            AccountDailyUser.objects.filter(account_id=contact.account_id, user_key=contact.external_id)
            .order_by("day")
            .values("day", "events")
        )
        if contact.external_id
        else [],
        "timeline_mentions": [
            {
                "id": a.id,
                "kind": a.kind,
                "occurred_at": a.occurred_at.isoformat(),
                "subject": a.subject,
                "summary": a.summary,
                "next_steps": a.next_steps,
            }
            for a in activities
        ],
        "survey_answers": [
            {
                "survey": r.survey_id,
                "kind": r.kind,
                "score": r.score,
                "comment": r.comment,
                "answered_at": r.answered_at.isoformat(),
            }
            for r in SurveyResponse.objects.filter(contact=contact).order_by("answered_at")
        ],
    }
    LogEntry.objects.log_create(
        contact,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes={},
        additional_data={"privacy": "export", "events": len(data["events"])},
    )
    return data


def _redact(text: str, needles: list[str]) -> str:
    for needle in needles:
        text = re.sub(re.escape(needle), ERASED, text, flags=re.IGNORECASE)
    return text


@transaction.atomic
def person_erase(*, contact: Contact) -> dict:
    """Erase the person: delete the contact and their raw events, pseudonymise their rollup rows (so past
    active-user counts stay true), blank their name and email out of timeline text, and strip the personal
    values from earlier audit entries of the contact. One audit entry records the erasure, with counts only."""
    needles = [n for n in (contact.name, contact.email) if n and len(n) >= 3]
    counts = {"events": 0, "daily_activity": 0, "timeline_mentions": 0}
    counts["survey_answers"] = SurveyResponse.objects.filter(contact=contact).count()  # deleted with the contact
    if contact.external_id:
        counts["events"] = _events(contact).delete()[0]
        pseudonym = "erased:" + hashlib.sha256(f"{contact.account_id}:{contact.external_id}".encode()).hexdigest()[:32]
        counts["daily_activity"] = AccountDailyUser.objects.filter(
            account_id=contact.account_id, user_key=contact.external_id
        ).update(user_key=pseudonym)
    for activity in Activity.objects.filter(Q(attendee_contacts=contact) | Q(account_id=contact.account_id)).distinct():
        fields = {f: _redact(getattr(activity, f), needles) for f in ("subject", "summary", "next_steps")}
        mentioned = activity.attendee_contacts.filter(pk=contact.pk).exists()
        if mentioned or any(fields[f] != getattr(activity, f) for f in fields):
            Activity.objects.filter(pk=activity.pk).update(**fields)
            counts["timeline_mentions"] += 1
    ct = ContentType.objects.get_for_model(Contact)
    pk = contact.pk
    LogEntry.objects.filter(content_type=ct, object_pk=str(pk)).update(
        changes={"personal data": [ERASED, ERASED]}, object_repr=f"Contact #{pk} (erased)", serialized_data=None
    )
    LogEntry.objects.log_create(
        contact,
        force_log=True,
        action=LogEntry.Action.DELETE,
        changes={"personal data": ["", ERASED]},
        object_repr=f"Contact #{pk} (erased)",
        serialized_data=None,
        additional_data={"privacy": "erase", **counts},
    )
    with disable_auditlog():  # the usual delete entry would copy every personal value into the log
        contact.delete()
    return counts

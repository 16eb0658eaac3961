"""Writes of surveys: definitions, audiences and sending jobs (throttled, never to unsubscribed addresses),
answers (one per send, changeable by its own recipient), reminders, scheduled runs and unsubscribes."""

import datetime as dt
import logging
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Account, AccountStatus, Contact
from csp.models import User
from surveys.mail import survey_message
from surveys.models import (
    SCHEDULE_MONTHS,
    BatchStatus,
    Channel,
    Response,
    SendStatus,
    Survey,
    SurveyBatch,
    SurveyMode,
    SurveySend,
    Unsubscribe,
    nps_category,
    score_band,
)
from surveys.signals import answer_received
from timeline.models import EntryKind, TimelineEntry
from timeline.sentiment import sentiment_suggest
from timeline.services import timeline_record

logger = logging.getLogger(__name__)

CHUNK = 500  # sends per task run: a run stays far below the task time limit
PARALLEL = 2  # task chains per job
MAX_ATTEMPTS = 3
COMMENT_MAX = 5000


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return dt.date(year, month, min(day.day, days[month - 1]))


@transaction.atomic
def survey_save(*, survey: Survey, user: User | None = None) -> Survey:
    """Validate and store a survey (from the form or the API). A scheduled relationship survey without a next
    run date starts today."""
    if survey.pk is None and user is not None:
        survey.created_by = user
    if survey.mode == SurveyMode.RELATIONSHIP and survey.schedule and survey.next_run_on is None:
        survey.next_run_on = timezone.localdate()
    survey.full_clean()
    survey.save()
    return survey


# --- audience and sending ---------------------------------------------------------------------------------------------


def survey_audience(*, survey: Survey, account_ids: list[int] | None = None, now: dt.datetime) -> tuple[QuerySet, int]:
    """(contacts to ask, contacts left out by throttling or unsubscribe). Contacts with an address, of active
    accounts (the survey's segment for a relationship survey, or the given accounts), of the asked roles."""
    contacts = Contact.objects.filter(account__status=AccountStatus.ACTIVE).exclude(email="")
    if account_ids is not None:
        contacts = contacts.filter(account_id__in=account_ids)
    elif survey.segment_id:
        from segments.selectors import segment_accounts

        contacts = contacts.filter(account_id__in=segment_accounts(survey.segment).order_by().values("id"))
    if survey.contact_roles:
        contacts = contacts.filter(role__in=survey.contact_roles)
    cutoff = now - dt.timedelta(days=survey.throttle_days)
    contacts = contacts.annotate(email_l=Lower("email"))
    recent = SurveySend.objects.filter(email=OuterRef("email_l"), created_at__gte=cutoff)
    gone = Unsubscribe.objects.filter(email=OuterRef("email_l"))
    eligible = contacts.filter(~Exists(recent), ~Exists(gone))
    skipped = contacts.filter(Exists(recent) | Exists(gone)).count()
    return eligible.order_by("id"), skipped


@transaction.atomic
def survey_batch_create(
    *, survey: Survey, user: User | None = None, account_ids: list[int] | None = None, source: str = "manual"
) -> SurveyBatch:
    """Create a sending job: one send per eligible contact (one per address), then the background task sends
    them once this transaction commits."""
    if not survey.is_active:
        raise ValidationError("This survey is paused: activate it before sending.")
    now = timezone.now()
    contacts, skipped = survey_audience(survey=survey, account_ids=account_ids, now=now)
    batch = SurveyBatch.objects.create(survey=survey, source=source[:60], created_by=user, skipped=skipped)
    seen: set[str] = set()
    sends = []
    for contact_id, account_id, email in contacts.values_list("id", "account_id", "email_l").iterator(chunk_size=2000):
        if email in seen:  # the same person at two accounts: asked once
            batch.skipped += 1
            continue
        seen.add(email)
        sends.append(SurveySend(survey=survey, batch=batch, account_id=account_id, contact_id=contact_id, email=email))
    SurveySend.objects.bulk_create(sends, batch_size=1000)
    batch.total = len(sends)
    if not sends:
        batch.status, batch.finished_at = BatchStatus.DONE, now
    batch.save(update_fields=["total", "skipped", "status", "finished_at"])
    # Chunks are claimed with SKIP LOCKED, so a few task chains can send one job side by side.
    for _ in range(min(PARALLEL, -(-len(sends) // CHUNK))):
        _enqueue_batch(batch.pk)
    return batch


def _enqueue_batch(batch_id: int, countdown: int = 0) -> None:
    from surveys.tasks import survey_batch_send

    transaction.on_commit(partial(survey_batch_send.apply_async, (batch_id,), countdown=countdown))


def survey_send_to_account(*, survey: Survey, account: Account, source: str = "trigger") -> SurveyBatch:
    """Transactional send: the survey to one account's contacts (the survey's roles, throttle and unsubscribes
    apply). Used by the triggers' "send survey" action."""
    return survey_batch_create(survey=survey, account_ids=[account.pk], source=source)


def _fields(batch: SurveyBatch) -> tuple[str, str, str]:
    """(batch FK, status field, timestamp field) of the sends a batch mails: first mails or reminders."""
    if batch.purpose == SurveyBatch.Purpose.REMINDER:
        return "reminder_batch", "reminder_status", "reminded_at"
    return "batch", "status", "sent_at"


def survey_batch_send(*, batch_id: int) -> int:
    """Send up to ``CHUNK`` pending sends of a batch over one SMTP connection, record each outcome and the batch
    progress, and hand the rest to the next task run. Rows are claimed with SKIP LOCKED, so two runs never send
    the same mail. Failed sends are retried (``MAX_ATTEMPTS``) with backoff, then stay visible as failed."""
    batch = SurveyBatch.objects.select_related("survey").filter(pk=batch_id).first()
    if batch is None or batch.status in (BatchStatus.DONE, BatchStatus.FAILED):
        return 0
    fk, status, stamp = _fields(batch)
    mine = SurveySend.objects.filter(**{fk: batch})
    if batch.started_at is None:
        SurveyBatch.objects.filter(pk=batch_id).update(started_at=timezone.now(), status=BatchStatus.RUNNING)
    with transaction.atomic():
        pending = list(
            mine.select_for_update(skip_locked=True, of=("self",))
            .filter(**{status: SendStatus.PENDING})
            .select_related("contact")
            .order_by("id")[:CHUNK]
        )
        sent, failed = _deliver(batch, pending, status=status, stamp=stamp)
        SurveyBatch.objects.filter(pk=batch_id).update(sent=F("sent") + sent, failed=F("failed") + failed)
    if mine.filter(**{status: SendStatus.PENDING}).exists():
        # Nothing claimable: the rest is being sent by another chain; look again shortly.
        _enqueue_batch(batch_id, countdown=0 if pending else 1)
        return sent
    retry = mine.filter(**{status: SendStatus.FAILED}, attempts__lt=MAX_ATTEMPTS)
    attempt = retry.order_by("attempts").values_list("attempts", flat=True).first()
    if attempt is not None:
        n = retry.update(**{status: SendStatus.PENDING})
        SurveyBatch.objects.filter(pk=batch_id).update(failed=F("failed") - n)
        _enqueue_batch(batch_id, countdown=min(30 * 2 ** (attempt - 1), 900))
        return sent
    batch.refresh_from_db()
    batch.status = BatchStatus.FAILED if batch.failed else BatchStatus.DONE
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "finished_at"])
    return sent


def _deliver(batch: SurveyBatch, sends: list[SurveySend], *, status: str, stamp: str) -> tuple[int, int]:
    """Mail the sends over one connection; set each one's status, attempts, error and timestamp (one UPDATE)."""
    if not sends:
        return 0, 0
    reminder = batch.purpose == SurveyBatch.Purpose.REMINDER
    now = timezone.now()
    sent = failed = 0
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # the server is down: this attempt failed for the whole chunk
        logger.warning("survey batch %s: mail server unavailable: %s", batch.pk, exc)
        for send in sends:
            setattr(send, status, SendStatus.FAILED)
            send.attempts, send.last_error = send.attempts + 1, f"{type(exc).__name__}: {exc}"[:500]
        SurveySend.objects.bulk_update(sends, [status, "attempts", "last_error"])
        return 0, len(sends)
    gone = set(Unsubscribe.objects.filter(email__in=[s.email for s in sends]).values_list("email", flat=True))
    try:
        for send in sends:
            send.survey = batch.survey
            send.attempts += 1
            if send.email in gone:  # unsubscribed after the job was created: never mailed, never retried
                setattr(send, status, SendStatus.FAILED)
                send.attempts, send.last_error = MAX_ATTEMPTS, "Unsubscribed"
                failed += 1
                continue
            try:
                connection.send_messages([survey_message(send, reminder=reminder)])
            except Exception as exc:
                setattr(send, status, SendStatus.FAILED)
                send.last_error = f"{type(exc).__name__}: {exc}"[:500]
                failed += 1
                continue
            setattr(send, status, SendStatus.SENT)
            setattr(send, stamp, now)
            send.last_error = ""
            sent += 1
    finally:
        connection.close()
    SurveySend.objects.bulk_update(sends, [status, "attempts", "last_error", stamp])
    return sent, failed


@transaction.atomic
def survey_batch_retry(*, batch: SurveyBatch) -> int:
    """An admin retries a job's failed sends: they get fresh attempts and the job runs again."""
    fk, status, _ = _fields(batch)
    n = SurveySend.objects.filter(**{fk: batch, status: SendStatus.FAILED}).update(
        **{status: SendStatus.PENDING}, attempts=0
    )
    if n:
        SurveyBatch.objects.filter(pk=batch.pk).update(
            failed=F("failed") - n, status=BatchStatus.RUNNING, finished_at=None
        )
        _enqueue_batch(batch.pk)
    return n


@transaction.atomic
def survey_reminders_create(*, survey: Survey, now: dt.datetime | None = None) -> SurveyBatch | None:
    """Remind once, ``reminder_after_days`` after the first mail, the recipients who have not answered (and
    have not unsubscribed since)."""
    if not survey.reminder_after_days or not survey.is_active:
        return None
    now = now or timezone.now()
    due = SurveySend.objects.filter(
        survey=survey,
        status=SendStatus.SENT,
        reminder_status="",
        response__isnull=True,
        sent_at__lte=now - dt.timedelta(days=survey.reminder_after_days),
    ).exclude(email__in=Unsubscribe.objects.values("email"))
    ids = list(due.values_list("id", flat=True))
    if not ids:
        return None
    batch = SurveyBatch.objects.create(
        survey=survey, purpose=SurveyBatch.Purpose.REMINDER, source="reminder", total=len(ids)
    )
    SurveySend.objects.filter(id__in=ids).update(reminder_batch=batch, reminder_status=SendStatus.PENDING, attempts=0)
    _enqueue_batch(batch.pk)
    return batch


def surveys_run_scheduled(*, today: dt.date | None = None) -> list[int]:
    """Periodic: start every relationship survey whose next run is due (and move its date on by its schedule),
    then send the reminders that are due. Returns the ids of the batches created."""
    today = today or timezone.localdate()
    created = []
    due = Survey.objects.filter(is_active=True, mode=SurveyMode.RELATIONSHIP, next_run_on__lte=today).exclude(
        schedule=""
    )
    for survey in due.order_by("id"):
        with transaction.atomic():
            locked = Survey.objects.select_for_update().get(pk=survey.pk)
            if locked.next_run_on is None or locked.next_run_on > today:
                continue  # another run took it
            next_run = locked.next_run_on
            while next_run <= today:
                next_run = add_months(next_run, SCHEDULE_MONTHS[locked.schedule])
            Survey.objects.filter(pk=locked.pk).update(next_run_on=next_run)
            created.append(survey_batch_create(survey=locked, source="schedule").pk)
    for survey in Survey.objects.filter(is_active=True, reminder_after_days__isnull=False).order_by("id"):
        batch = survey_reminders_create(survey=survey)
        if batch:
            created.append(batch.pk)
    return created


# --- answers ------------------------------------------------------------------------------------------------------


def _score(survey: Survey, raw: Any) -> int:
    low, high = survey.scale
    try:
        score = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationError({"score": f"The score must be a whole number from {low} to {high}."}) from None
    if not low <= score <= high:
        raise ValidationError({"score": f"The score must be from {low} to {high}."})
    return score


@transaction.atomic
def response_record(
    *,
    send: SurveySend,
    score: Any,
    comment: str | None = None,
    channel: str = Channel.EMAIL,
    complete: bool = False,
    now: dt.datetime | None = None,
) -> Response:
    """Record or change the answer of one send. The send row is locked first, so a double submit (two clicks,
    two tabs) stores one answer. ``comment=None`` keeps the comment already given. The answer goes on the
    account timeline; triggers hear of it once final (``complete``) or after a grace period."""
    now = now or timezone.now()
    send = SurveySend.objects.select_for_update().select_related("survey", "contact").get(pk=send.pk)
    survey = send.survey
    score = _score(survey, score)
    if comment is not None:
        comment = comment.strip()
        if len(comment) > COMMENT_MAX:
            raise ValidationError({"comment": f"Please keep the comment under {COMMENT_MAX} characters."})
    response = Response.objects.filter(send=send).first()
    created = response is None
    if created:
        response = Response(
            send=send, survey=survey, account_id=send.account_id, contact_id=send.contact_id, kind=survey.kind,
            answered_at=now, channel=channel,
        )  # fmt: skip
    response.score = score
    response.band = score_band(survey.kind, score)
    response.nps_category = nps_category(score) if survey.kind == "nps" else ""
    if comment is not None and comment != response.comment:
        response.comment = comment
        response.sentiment, response.sentiment_score = sentiment_suggest(comment)
    response.completed = response.completed or complete
    response.save()
    _timeline(response, send, created=created)
    from surveys.tasks import survey_response_notify

    grace = 0 if complete else _grace_seconds()
    transaction.on_commit(partial(survey_response_notify.apply_async, (response.pk,), countdown=grace))
    return response


def _grace_seconds() -> int:
    from django.conf import settings

    return settings.SURVEY_NOTIFY_GRACE_MINUTES * 60


def _timeline(response: Response, send: SurveySend, *, created: bool) -> None:
    label = response.nps_category or response.get_band_display().split(" / ")[-1].lower()
    title = f"{response.kind.upper()} {response.score} ({label}) from {send.contact.name}"
    data = {
        "survey_id": response.survey_id,
        "contact_id": response.contact_id,
        "kind": response.kind,
        "score": response.score,
        "category": response.nps_category,
        "sentiment": response.sentiment,
    }
    if created:
        timeline_record(
            account=response.account_id, kind=EntryKind.SURVEY, title=title, body=response.comment,
            occurred_at=response.answered_at, source=("survey_response", response.pk), data=data,
        )  # fmt: skip
    else:
        TimelineEntry.objects.filter(source_type="survey_response", source_id=str(response.pk)).update(
            title=title[:300], body=response.comment, data=data
        )


def response_notify(*, response_id: int) -> bool:
    """Tell listeners (triggers) about an answer: once, and again only if a changed answer moved band.
    Idempotent: the claim is a conditional UPDATE."""
    response = Response.objects.filter(pk=response_id).first()
    if response is None or response.notified_band == response.band:
        return False
    with transaction.atomic():
        claimed = (
            Response.objects.filter(pk=response_id)
            .exclude(notified_band=response.band)
            .update(notified_at=timezone.now(), notified_band=response.band)
        )
        if not claimed:
            return False
        answer_received.send(
            sender=Response, account_id=response.account_id, kind=response.kind, score=response.score,
            comment=response.comment, response_id=response.pk,
        )  # fmt: skip
    return True


@transaction.atomic
def unsubscribe_create(*, send: SurveySend) -> Unsubscribe:
    """The recipient of this send never gets a survey again (mails still queued to the address are not sent)."""
    email = send.email.strip().lower()
    row, _ = Unsubscribe.objects.get_or_create(email=email, defaults={"contact_id": send.contact_id})
    return row

"""The usage pipeline: dirty-account marks, one queued refresh per account, set-based rollup refresh.

1. An ingest marks each touched account in ``DirtyAccount`` (upsert: ``version`` + 1, ``since`` = earliest
   event time) inside its transaction.
2. After commit it claims the marks nobody has enqueued yet (conditional UPDATE ``enqueued_at IS NULL``)
   and enqueues one ``refresh_usage`` task for the claimed accounts, so 1,000 events of one account make
   one task. If the broker is down the claim is released and ``usage_sweep`` (beat) enqueues it later.
3. The task releases the claim (new events now enqueue a follow-up), recomputes the account's rollups from
   ``since`` with INSERT ... SELECT ... GROUP BY, updates contacts' last seen, deletes the mark only if its
   version is unchanged, and sends ``account_changed``. Re-running it is harmless.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Exists, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import Account, Contact
from events.messages import ENGAGEMENT_TYPES
from events.models import AccountDailyEvent, AccountDailyUser, DirtyAccount, Event
from events.signals import account_changed

logger = logging.getLogger(__name__)
STALE_CLAIM = dt.timedelta(minutes=10)  # a claim older than this lost its task (worker died, broker flushed)
TASK_CHUNK = 100


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def mark_dirty(touched: dict[int, dt.datetime]) -> None:
    """Mark accounts as having new events since the given times (one upsert), and claim and enqueue their
    refresh once the surrounding transaction commits."""
    if not touched:
        return
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    ids = sorted(touched)  # a fixed lock order: concurrent ingests cannot deadlock on the marks
    table = _table(DirtyAccount)
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    values = ", ".join(["(%s, %s, 1, %s, NULL)"] * len(ids))
    params: list = []
    for account_id in ids:
        params += [account_id, ops.adapt_datetimefield_value(touched[account_id]), now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, since, version, marked_at, enqueued_at) VALUES {values} "
            f"ON CONFLICT (account_id) DO UPDATE SET version = {table}.version + 1, "
            f"since = {least}({table}.since, EXCLUDED.since), marked_at = EXCLUDED.marked_at",
            params,
        )
    transaction.on_commit(lambda: claim_and_enqueue(ids))


def claim_and_enqueue(account_ids: Iterable[int]) -> list[int]:
    """Claim unclaimed marks with one conditional UPDATE and enqueue one task for them. Never raises for a
    broker outage: the claim is released and the periodic sweep retries."""
    ids = sorted(set(account_ids))
    if not ids:
        return []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(DirtyAccount)} SET enqueued_at = %s "
            f"WHERE enqueued_at IS NULL AND account_id IN ({marks}) RETURNING account_id",
            [now, *ids],
        )
        claimed = sorted(row[0] for row in cursor.fetchall())
    for start in range(0, len(claimed), TASK_CHUNK):
        _enqueue(claimed[start : start + TASK_CHUNK])
    return claimed


def _enqueue(account_ids: list[int]) -> None:
    from events.tasks import refresh_usage  # tasks import this module

    try:
        refresh_usage.apply_async(args=(account_ids,), retry=False)
    except Exception:  # any broker error: the events are safe in the database, the sweep will enqueue
        logger.exception("Could not enqueue the usage refresh of %d accounts; the sweep will", len(account_ids))
        DirtyAccount.objects.filter(account_id__in=account_ids).update(enqueued_at=None)


def sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Periodic: attribute unmatched events whose account now exists, then enqueue the marks with no live
    claim (never enqueued, broker was down, or the claim went stale). Returns the accounts enqueued."""
    now = now or timezone.now()
    attribute_by_group_id()
    pending = DirtyAccount.objects.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - STALE_CLAIM))
    ids = list(pending.order_by("marked_at").values_list("account_id", flat=True)[:5000])
    enqueued = []
    for start in range(0, len(ids), TASK_CHUNK):
        chunk = ids[start : start + TASK_CHUNK]
        claimed = list(pending.filter(account_id__in=chunk).values_list("account_id", flat=True))
        if pending.filter(account_id__in=claimed).update(enqueued_at=now):
            _enqueue(claimed)
            enqueued += claimed
    return enqueued


def attribute_by_group_id() -> int:
    """Unmatched events whose group id is now an account's external id get that account (set-based)."""
    backlog = Event.objects.filter(account__isnull=True).exclude(group_id="")
    matching = Account.objects.filter(external_id=OuterRef("group_id"))
    found = backlog.filter(Exists(matching))
    firsts = dict(found.order_by().values("group_id").annotate(first=Min("timestamp")).values_list("group_id", "first"))
    if not firsts:
        return 0
    count = found.update(account=Subquery(matching.values("id")[:1]))
    accounts = dict(Account.objects.filter(external_id__in=firsts).values_list("external_id", "id"))
    with transaction.atomic():
        mark_dirty({accounts[g]: t for g, t in firsts.items() if g in accounts})
    return count


def _day_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def rollups_refresh(*, account_id: int, since_day: dt.date) -> None:
    """Recompute one account's daily rollups from ``since_day`` (UTC) on: delete, then INSERT ... SELECT ...
    GROUP BY over its raw events, in one transaction. Only engagement calls (track, page, screen) count;
    AccountDailyEvent holds track event names. Contacts' ``last_seen_at`` moves forward to their latest
    engagement."""
    ops = connection.ops
    start_at = dt.datetime.combine(since_day, dt.time.min, tzinfo=dt.UTC)
    start = ops.adapt_datetimefield_value(start_at)
    day = _day_sql("timestamp")
    events_t = _table(Event)
    types = ", ".join(f"'{t}'" for t in ENGAGEMENT_TYPES)
    with transaction.atomic(), connection.cursor() as cursor:
        AccountDailyEvent.objects.filter(account_id=account_id, day__gte=since_day).delete()
        AccountDailyUser.objects.filter(account_id=account_id, day__gte=since_day).delete()
        cursor.execute(
            f"INSERT INTO {_table(AccountDailyEvent)} (account_id, day, event, count) "
            f"SELECT account_id, {day}, event, COUNT(*) FROM {events_t} "
            f"WHERE account_id = %s AND timestamp >= %s AND type = 'track' "
            f"GROUP BY account_id, {day}, event",
            [account_id, start],
        )
        user_key = "COALESCE(NULLIF(user_id, ''), anonymous_id)"
        cursor.execute(
            f"INSERT INTO {_table(AccountDailyUser)} (account_id, day, user_key, events) "
            f"SELECT account_id, {day}, {user_key}, COUNT(*) FROM {events_t} "
            f"WHERE account_id = %s AND timestamp >= %s AND type IN ({types}) "
            f"GROUP BY account_id, {day}, {user_key}",
            [account_id, start],
        )
        latest = Subquery(
            Event.objects.filter(
                account_id=account_id,
                user_id=OuterRef("external_id"),
                type__in=ENGAGEMENT_TYPES,
                timestamp__gte=start_at,
            )
            .order_by()
            .values("user_id")
            .annotate(last=Max("timestamp"))
            .values("last")[:1]
        )
        Contact.objects.filter(account_id=account_id).exclude(external_id="").annotate(latest=latest).filter(
            Q(last_seen_at__isnull=True, latest__isnull=False) | Q(last_seen_at__lt=latest)
        ).update(last_seen_at=latest)


def usage_refresh(*, account_ids: Iterable[int]) -> list[int]:
    """The task body: refresh the marked accounts among ``account_ids`` and drop their marks if no new event
    came meanwhile. Returns the accounts refreshed (idempotent: an account with no mark is skipped)."""
    ids = sorted(set(account_ids))
    marks = DirtyAccount.objects.filter(account_id__in=ids)
    marks.update(enqueued_at=None)  # from now on, new events enqueue a follow-up task
    seen = list(marks.values_list("account_id", "version", "since"))
    done = []
    for account_id, version, since in seen:
        rollups_refresh(account_id=account_id, since_day=since.astimezone(dt.UTC).date())
        DirtyAccount.objects.filter(account_id=account_id, version=version).delete()
        done.append(account_id)
    return done


def notify(account_ids: list[int]) -> None:
    """Tell health and playbooks (``account_changed``); a failing receiver is logged, not retried here."""
    if not account_ids:
        return
    for receiver, result in account_changed.send_robust(sender=Event, account_ids=account_ids):
        if isinstance(result, Exception):
            logger.error("account_changed receiver %r failed", receiver, exc_info=result)

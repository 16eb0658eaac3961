"""The usage pipeline: marks, one queued refresh per account, set-based rollup refresh.

1. An ingest inserts a ``UsageMark`` (account, earliest event time) per touched account inside its
   transaction; marks are plain inserts, so concurrent ingests of the same account never wait on each other.
2. As its last statement it claims the accounts with ``INSERT INTO UsageClaim ... ON CONFLICT DO NOTHING
   RETURNING``: only accounts with no queued task come back, and after commit one ``refresh_usage`` task is
   enqueued for them, so 1,000 events of one account make one task. If the broker is down the claims are
   dropped and ``usage_sweep`` (beat, every minute) enqueues the marked accounts later; if the broker comes back
   empty (its queued tasks lost), the sweep releases every claim at once (``csp.celery.broker_lost_messages``).
3. The task deletes the claims (new events now enqueue a follow-up), then per account, in one transaction,
   deletes the marks it can see (DELETE ... RETURNING since) and rewrites the rollups from the earliest day
   with INSERT ... SELECT ... GROUP BY; contacts' last seen moves forward. A crash rolls the marks back, and
   the message is redelivered (acks_late). Marks committed meanwhile get a follow-up task; the sweep catches
   the last rare race. Then ``account_changed`` is sent.
"""

import datetime as dt
import logging
import zlib
from collections.abc import Iterable

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Account, Contact
from accounts.signals import account_changed_send
from csp.celery import broker_lost_messages
from events import storage
from events.messages import EARLIEST_TIMESTAMP, ENGAGEMENT_TYPES, MAX_FUTURE
from events.models import AccountDailyEvent, AccountDailyUser, Event, UsageClaim, UsageMark

logger = logging.getLogger(__name__)
STALE_CLAIM = dt.timedelta(minutes=10)  # a claim older than this lost its task (worker died, broker flushed)
TASK_CHUNK = 100
COALESCE = 500  # other marked accounts one refresh task takes on (see usage_refresh)
# Advisory lock keys of the per-account refresh lock: a namespace in the high 32 bits, the account in the low ones.
REFRESH_LOCK_SPACE = (zlib.crc32(b"usage-refresh") & 0x7FFFFFFF) << 32


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def mark_dirty(touched: dict[int, dt.datetime]) -> None:
    """Mark accounts as having events since the given times and claim those with no queued task; their
    refresh is enqueued once the surrounding transaction commits. Call inside a transaction."""
    if not touched:
        return
    ids = sorted(touched)
    if connection.vendor == "postgresql":
        claimed = _mark_and_claim_pg(ids, [touched[i] for i in ids])
    else:
        ops = connection.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        params: list = []
        for account_id in ids:
            params += [account_id, ops.adapt_datetimefield_value(touched[account_id]), now]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_table(UsageMark)} (account_id, since, created_at) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(ids)),
                params,
            )
        claimed = claim(ids)
    if claimed:
        transaction.on_commit(lambda: enqueue(claimed))


def _mark_and_claim_pg(ids: list[int], since: list[dt.datetime]) -> list[int]:
    # Hot path of every ingest call: marks and claims in one statement (one round trip), with arrays so the
    # SQL text is the same for any number of accounts and it is prepared once per connection.
    sql = (
        f"WITH marks AS (INSERT INTO {_table(UsageMark)} (account_id, since, created_at) "
        "SELECT a, s, %(now)s FROM unnest(%(ids)s::bigint[], %(since)s::timestamptz[]) AS t(a, s)) "
        f"INSERT INTO {_table(UsageClaim)} (account_id, enqueued_at) "
        "SELECT a, %(now)s FROM unnest(%(ids)s::bigint[]) AS t(a) ORDER BY a "
        "ON CONFLICT (account_id) DO NOTHING RETURNING account_id"
    )
    return sorted(row[0] for row in storage.fetch_prepared(sql, {"ids": ids, "since": since, "now": timezone.now()}))


def claim(account_ids: Iterable[int]) -> list[int]:
    """Claim the accounts that have no queued task (insert-or-nothing, in a fixed order); returns them."""
    ids = sorted(set(account_ids))
    if not ids:
        return []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list = []
    for account_id in ids:
        params += [account_id, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(UsageClaim)} (account_id, enqueued_at) VALUES "
            + ", ".join(["(%s, %s)"] * len(ids))
            + " ON CONFLICT (account_id) DO NOTHING RETURNING account_id",
            params,
        )
        return sorted(row[0] for row in cursor.fetchall())


def enqueue(account_ids: list[int]) -> None:
    """Enqueue one refresh task per chunk of claimed accounts. Never raises for a broker outage."""
    for start in range(0, len(account_ids), TASK_CHUNK):
        _enqueue(account_ids[start : start + TASK_CHUNK])


def _enqueue(account_ids: list[int]) -> None:
    from events.tasks import refresh_usage  # tasks import this module

    try:
        refresh_usage.apply_async(args=(account_ids,), retry=False)
    except Exception:  # any broker error: the events and marks are safe in the database, the sweep enqueues
        logger.exception("Could not enqueue the usage refresh of %d accounts; the sweep will", len(account_ids))
        UsageClaim.objects.filter(account_id__in=account_ids).delete()


def sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Periodic: attribute unmatched events whose account now exists, then enqueue marked accounts that have
    no live claim (never claimed, broker was down, or the claim went stale). Returns the accounts enqueued."""
    now = now or timezone.now()
    attribute_by_group_id()
    # A broker that lost its data (Redis restarted empty) lost the tasks of every claim made before now: release
    # them at once rather than after STALE_CLAIM, so rollups catch up within a sweep of the broker's return.
    UsageClaim.objects.filter(enqueued_at__lt=now if broker_lost_messages() else now - STALE_CLAIM).delete()
    marked = list(UsageMark.objects.order_by().values_list("account_id", flat=True).distinct()[:10_000])
    with transaction.atomic():
        claimed = claim(marked)
    enqueue(claimed)
    return claimed


def attribute_by_group_id() -> int:
    """Unmatched events whose group id is now an account's external id get that account (set-based)."""
    backlog = Event.objects.filter(account__isnull=True).exclude(group_id="")
    matching = Account.objects.filter(external_id=OuterRef("group_id"))
    found = backlog.filter(Exists(matching))
    firsts = dict(found.order_by().values("group_id").annotate(first=Min("timestamp")).values_list("group_id", "first"))
    if not firsts:
        return 0
    # Attribution and marks commit together: if marking fails (and the task retries), the events are still
    # unmatched on the retry, rather than attributed with their rollups never refreshed.
    with transaction.atomic():
        count = found.update(account=Subquery(matching.values("id")[:1]))
        accounts = dict(Account.objects.filter(external_id__in=firsts).values_list("external_id", "id"))
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


def _refresh_many_pg(own: list[int], others: list[int]) -> list[int]:
    """``usage_refresh`` of many accounts in one transaction and a fixed number of statements (PostgreSQL): lock
    the accounts (waiting for ``own``, skipping ``others`` another refresh holds), take their marks, rewrite their
    rollups from each one's earliest marked day, move contacts' last seen forward. Returns the accounts refreshed.
    The same result as ``rollups_refresh`` per account, with statements that do not grow with the batch."""
    low, high = EARLIEST_TIMESTAMP, timezone.now() + MAX_FUTURE
    types = list(ENGAGEMENT_TYPES)
    events_t, marks_t = _table(Event), _table(UsageMark)
    user_key = "COALESCE(NULLIF(e.user_id, ''), e.anonymous_id)"
    day = "(e.timestamp AT TIME ZONE 'UTC')::date"
    with transaction.atomic(), connection.cursor() as cursor:
        # Own accounts first, waiting, in a fixed order; then the others without waiting: never a lock cycle.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s | a) FROM (SELECT a FROM unnest(%s::bigint[]) a ORDER BY a) s",
            [REFRESH_LOCK_SPACE, own],
        )
        cursor.execute(
            "SELECT array_agg(a) FROM unnest(%s::bigint[]) a WHERE pg_try_advisory_xact_lock(%s | a)",
            [others, REFRESH_LOCK_SPACE],
        )
        locked = own + (cursor.fetchone()[0] or [])
        # Marks carry no database foreign key (see UsageMark): a mark whose account is gone was left by an ingest
        # that raced the account's deletion, so it is consumed here with that ingest's events, as the deletion's
        # cascade would have deleted them, and only existing accounts are refreshed.
        cursor.execute(
            f"WITH m AS (DELETE FROM {marks_t} WHERE account_id = ANY(%s) RETURNING account_id, since), "
            # = ANY(ARRAY(...)): an index scan of (account, timestamp) for a list that is nearly always empty,
            # never a join the planner might turn into a scan of the events table.
            f"gone AS (DELETE FROM {events_t} WHERE account_id = ANY(ARRAY(SELECT account_id FROM m WHERE NOT EXISTS "
            f"(SELECT 1 FROM {_table(Account)} a WHERE a.id = m.account_id)))) "
            "SELECT account_id, min(CASE WHEN since < %s THEN %s WHEN since > %s THEN %s ELSE since END) "
            f"FROM m WHERE EXISTS (SELECT 1 FROM {_table(Account)} a WHERE a.id = m.account_id) GROUP BY 1",
            [locked, low, low, high, high],
        )
        marked = cursor.fetchall()
        if not marked:
            return []
        accounts = [row[0] for row in marked]
        starts = [dt.datetime.combine(row[1].astimezone(dt.UTC).date(), dt.time.min, tzinfo=dt.UTC) for row in marked]
        days = [start.date() for start in starts]
        # Each account's events through the (account, timestamp) index, whatever the planner thinks of the batch:
        # OFFSET 0 keeps the LATERAL subquery from being flattened into a join that may scan the whole table.
        scope = (
            f"FROM unnest(%s::bigint[], %s::timestamptz[]) t(a, s) CROSS JOIN LATERAL (SELECT * FROM {events_t} x "
            "WHERE x.account_id = t.a AND x.timestamp >= t.s OFFSET 0) e"
        )
        for model in (AccountDailyEvent, AccountDailyUser):
            cursor.execute(
                f"DELETE FROM {_table(model)} WHERE id IN (SELECT x.id FROM unnest(%s::bigint[], %s::date[]) t(a, d) "
                f"CROSS JOIN LATERAL (SELECT id FROM {_table(model)} r WHERE r.account_id = t.a AND r.day >= t.d "
                "OFFSET 0) x)",
                [accounts, days],
            )
        cursor.execute(
            f"INSERT INTO {_table(AccountDailyEvent)} (account_id, day, event, count) "
            f"SELECT e.account_id, {day}, e.event, COUNT(*) {scope} "
            f"WHERE e.type = 'track' GROUP BY e.account_id, {day}, e.event",
            [accounts, starts],
        )
        cursor.execute(
            f"INSERT INTO {_table(AccountDailyUser)} (account_id, day, user_key, events) "
            f"SELECT e.account_id, {day}, {user_key}, COUNT(*) {scope} "
            f"WHERE e.type = ANY(%s) GROUP BY e.account_id, {day}, {user_key}",
            [accounts, starts, types],
        )
        cursor.execute(
            f"UPDATE {_table(Contact)} c SET last_seen_at = x.latest FROM ("
            f"SELECT e.account_id, e.user_id, MAX(e.timestamp) AS latest {scope} "
            "WHERE e.type = ANY(%s) AND e.user_id <> '' GROUP BY e.account_id, e.user_id) x "
            "WHERE c.account_id = x.account_id AND c.external_id = x.user_id "
            "AND (c.last_seen_at IS NULL OR c.last_seen_at < x.latest)",
            [accounts, starts, types],
        )
    return sorted(accounts)


def _coalesced(ids: list[int]) -> list[int]:
    """Other marked accounts a refresh takes on beside its own (see ``usage_refresh``)."""
    others = UsageMark.objects.exclude(account_id__in=ids).order_by().values_list("account_id", flat=True)
    return sorted(set(others.distinct()[:COALESCE]))


def _lock_account(account_id: int, *, wait: bool) -> bool:
    """Hold the account's refresh lock until the end of the transaction, so two refreshes never rewrite one
    account's rollups at once (the second would collide with the first's rows). ``wait=False`` gives up at once
    when another holds it and returns False. Other databases serialize writing transactions already (SQLite)."""
    if connection.vendor != "postgresql":
        return True
    key = REFRESH_LOCK_SPACE | (account_id & 0xFFFFFFFF)
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return cursor.fetchone()[0]


def _take_marks(account_id: int) -> dt.datetime | None:
    """Delete the account's visible marks and return their earliest ``since`` (inside the refresh's transaction,
    so a failed refresh puts them back). ``since`` is clamped in SQL to the ingestion window: a mark left by an
    event stored before timestamps were bounded (year 0 or 10000) must not be unreadable in Python."""
    ops = connection.ops
    low = ops.adapt_datetimefield_value(EARLIEST_TIMESTAMP)
    high = ops.adapt_datetimefield_value(timezone.now() + MAX_FUTURE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_table(UsageMark)} WHERE account_id = %s "
            "RETURNING CASE WHEN since < %s THEN %s WHEN since > %s THEN %s ELSE since END",
            [account_id, low, low, high, high],
        )
        values = [row[0] for row in cursor.fetchall()]
    if not values:
        return None
    parsed = []
    for value in values:
        if isinstance(value, str):  # SQLite hands back text in UTC
            value = parse_datetime(value)
        parsed.append(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return min(parsed)


def usage_refresh(*, account_ids: Iterable[int]) -> list[int]:
    """The task body: release the claims, then for each marked account consume its marks and rewrite its
    rollups in one transaction; marks committed meanwhile get a follow-up task. Returns the accounts refreshed
    (idempotent: an account with no mark is skipped).

    Coalescing: it also refreshes up to ``COALESCE`` other marked accounts, whose tasks are queued behind it (they
    then find no mark and return at once). When the workers fall behind, one task thus refreshes every account
    that was waiting and sends one ``account_changed`` for all of them, so health and triggers run once per batch
    instead of once per account: the cost per event falls as the load rises, instead of a backlog growing."""
    ids = sorted(set(account_ids))
    UsageClaim.objects.filter(account_id__in=ids).delete()  # from now on, new events enqueue a follow-up
    # Under load most queued tasks find their accounts already taken on by an earlier one (coalescing, below): two
    # statements then, not a transaction with locks, a coalescing query and a follow-up check. A mark committed
    # after this check claimed its account after the delete above, so it has its own task (but for the race the
    # follow-up check below narrows and the sweep closes: a claim conflicting just before the delete, its mark
    # committed just after the check; the ingest commits right after that statement, so the window is tiny).
    if not UsageMark.objects.filter(account_id__in=ids).exists():
        return []
    done, failed = [], []
    own = set(ids)
    todo = ids + _coalesced(ids)
    if connection.vendor == "postgresql":
        try:
            done = _refresh_many_pg(ids, todo[len(ids) :])
            todo = []
        except (OperationalError, InterfaceError):
            raise  # transient (connection lost, failover): the task retries the whole chunk
        except (DatabaseError, ValueError, OverflowError):
            # Some account's data breaks the set-based statements: one account at a time below, so only that
            # account's marks stay.
            logger.warning("Set-based usage refresh of %d accounts failed; one by one", len(todo), exc_info=True)
    for account_id in todo:
        try:
            with transaction.atomic():
                if not _lock_account(account_id, wait=account_id in own):
                    continue  # another refresh has it: its marks stay for that one, or its own queued task
                since = _take_marks(account_id)
                if since is None:
                    continue
                rollups_refresh(account_id=account_id, since_day=since.astimezone(dt.UTC).date())
        except (OperationalError, InterfaceError):
            raise  # transient (connection lost, failover): the task retries the whole chunk
        except (DatabaseError, ValueError, OverflowError):
            # One account's bad data must not freeze the others in its chunk: its marks roll back and stay for
            # the sweep, the others go on.
            logger.exception("Usage refresh of account %s failed; its marks are kept", account_id)
            failed.append(account_id)
            continue
        done.append(account_id)
    # A failed account is left to the sweep (once a minute), not chased by an immediate follow-up in a hot loop.
    late = (
        UsageMark.objects.filter(account_id__in=ids)
        .exclude(account_id__in=failed)
        .order_by()
        .values_list("account_id", flat=True)
        .distinct()
    )
    with transaction.atomic():
        followup = claim(list(late))
    enqueue(followup)
    return done


def notify(account_ids: list[int]) -> None:
    """Tell health and triggers (``accounts.signals.account_changed``); a failing receiver is logged, not
    retried here."""
    account_changed_send(account_ids, sender=Event)

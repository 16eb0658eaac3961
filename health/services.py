"""Writes of health: recompute (current and history), overrides and the CSM sentiment pulse.
Scorecard edits live in ``health.scorecards``."""

import datetime as dt
import zlib
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from csp.locks import advisory_xact_lock
from csp.models import User
from health.assignment import account_q
from health.bulk import insert_snapshots, snapshot_writer, upsert_current
from health.engine import Prepared, compute, iter_scored, load_scorecards, prepare
from health.measures import active_overrides
from health.models import (
    AccountHealth,
    Band,
    HealthOverride,
    HealthPending,
    HealthSnapshot,
    SentimentPulse,
    SnapshotSource,
    Trend,
)
from health.signals import health_changed_many
from timeline.services import timeline_record_health_changes

# A move smaller than this (in score points) shows as a flat trend.
TREND_DEADBAND = 1.0
MAX_OVERRIDE_DAYS = 365
HISTORY_DAYS = 180
COALESCE = 1000  # other waiting accounts one event-driven recompute takes on (see health_recompute_pending)
STALE_PENDING = dt.timedelta(minutes=10)  # a waiting account older than this lost its task (see _pending_add)


@dataclass
class RecomputeStats:
    scored: int = 0
    snapshots: int = 0
    band_changes: int = 0


def _fingerprint(day: str, card_id: int, score: float | None, breakdown_json: str) -> str:
    # Stable across processes (unlike hash()): a cheap CRC of what the snapshot would record.
    return format(zlib.crc32(f"{day}|{card_id}|{score}|{breakdown_json}".encode()), "08x")


def _trend(score: float | None, previous: float | None) -> str:
    if score is None or previous is None or abs(score - previous) < TREND_DEADBAND:
        return Trend.FLAT
    return Trend.UP if score > previous else Trend.DOWN


def health_recompute(
    *,
    account_ids: list[int] | None = None,
    as_of: dt.date | None = None,
    source: str = SnapshotSource.LIVE,
) -> RecomputeStats:
    """Recompute the current health of the given accounts (None = all) set-based: the sources' aggregate queries,
    scoring in Python, one bulk insert of snapshots and one bulk upsert of current rows (COPY on PostgreSQL).

    A snapshot is written when anything scored changed, and at least once a day per account. A change of computed
    band is written as a timeline line in the same transaction, and after commit one ``health_changed_many``
    lists every change of the recompute. ``previous_score``/``trend`` keep the last move of the score.

    A full recompute on PostgreSQL, outside any transaction, runs its aggregate queries side by side on separate
    connections (they only read committed rollups); the writes then happen in one transaction."""
    now = timezone.now()
    as_of = as_of or timezone.localdate(now)
    parallel = account_ids is None and connection.vendor == "postgresql" and not connection.in_atomic_block
    prepared = prepare(as_of=as_of, account_ids=account_ids, parallel=parallel)
    if prepared is None:
        return RecomputeStats()
    with transaction.atomic():
        return _persist(prepared, account_ids is None, now, source)


def _drop_vanished(prepared: Prepared, everyone: bool) -> None:
    """Accounts deleted since ``prepare`` read them are skipped: writing their rows would break a foreign key and
    abort the whole recompute. (A deletion after this check fails the commit; the task retries, see tasks.)"""
    ids = prepared.account_ids
    if not ids:
        return
    # For every account, read every id: an IN list of 100,000 ids costs the server far more than the plain scan.
    alive = set(
        (Account.objects.order_by() if everyone else Account.objects.filter(id__in=ids)).values_list("id", flat=True)
    )
    if not alive.issuperset(ids):
        prepared.assigned = [a for a in prepared.assigned if a[0] in alive]


def _persist(prepared: Prepared, everyone: bool, now: dt.datetime, source: str) -> RecomputeStats:
    _drop_vanished(prepared, everyone)
    # Concurrent recomputes (a redelivered task, overlapping event-driven ones) write one after the other, so each
    # reads the fingerprints the previous one stored and an unchanged score is not snapshotted twice.
    advisory_xact_lock("health-current")
    as_of = prepared.as_of
    ids = None if everyone else prepared.account_ids
    current_qs = AccountHealth.objects.all() if ids is None else AccountHealth.objects.filter(account_id__in=ids)
    current = {
        row[0]: row
        for row in current_qs.values_list(
            "account_id", "score", "band", "previous_score", "previous_band", "fingerprint"
        )
    }
    overrides = active_overrides(ids, as_of)
    stats = RecomputeStats(scored=len(prepared.assigned))
    rows, changes = [], []
    day, now_text = as_of.isoformat(), now.isoformat()  # written as text: one conversion, not one per row
    with snapshot_writer(expected=len(prepared.assigned)) as add_snapshot:
        for account_id, card, score, band, breakdown_json in iter_scored(prepared):
            # The day is part of the fingerprint: every account gets at least one snapshot a day.
            fp = _fingerprint(day, card.id, score, breakdown_json)
            cur = current.get(account_id)
            changed_at = None  # None keeps the stored value (see health.bulk)
            if cur is None:
                old_score = old_band = prev_score = prev_band = None
                changed_at = now
            else:
                _aid, old_score, old_band, prev_score, prev_band, _fp = cur
                if old_score != score:
                    prev_score, prev_band, changed_at = old_score, old_band, now
            if cur is None or cur[5] != fp:
                add_snapshot((account_id, card.id, now_text, day, score, band, breakdown_json, source))
                stats.snapshots += 1
            if (old_band or "") != band:
                changes.append(
                    {
                        "account_id": account_id,
                        "old_band": old_band or None,
                        "new_band": band or None,
                        "old_score": old_score,
                        "new_score": score,
                    }
                )
            override = overrides.get(account_id)
            trend = _trend(score, prev_score)
            rows.append(
                (
                    account_id, card.id, score, band, prev_score, prev_band or "", trend, fp, now,
                    changed_at, override.id if override else None,
                )
            )  # fmt: skip
    upsert_current(rows)
    stats.band_changes = len(changes)
    if changes:
        timeline_record_health_changes(changes=changes)  # timeline is a lower layer: called, not signalled
        transaction.on_commit(partial(health_changed_many.send, sender=AccountHealth, changes=changes))
    return stats


def health_recompute_history(
    *, scorecard_id: int | None = None, days: int = HISTORY_DAYS, today: dt.date | None = None
) -> int:
    """Recompute past days' snapshots from the stored rollups (after a scorecard changed): for each of the last
    ``days`` days before today, replace the day's snapshots of the accounts the scorecard scores (all accounts
    when None) with one recomputed snapshot. One transaction per day, so a retry resumes cheaply; idempotent.
    Current rows and signals are left alone: history is not news. Returns the number of snapshots written."""
    today = today or timezone.localdate()
    written = 0
    for offset in range(days, 0, -1):
        day = today - dt.timedelta(days=offset)
        with transaction.atomic():
            # Two runs (a redelivered task) take turns per day: the second deletes what the first wrote.
            advisory_xact_lock("health-history")
            results = compute(as_of=day, scorecard_id=scorecard_id)
            alive = set(Account.objects.filter(id__in=[r.account_id for r in results]).values_list("id", flat=True))
            results = [r for r in results if r.account_id in alive]  # deleted meanwhile (see _drop_vanished)
            old = HealthSnapshot.objects.filter(as_of=day)
            if scorecard_id is not None:
                cards = load_scorecards()
                card = next((c for c in cards if c.id == scorecard_id), None)
                if card is None:
                    return written
                old = old.filter(account_q(card, cards, prefix="account__"))
            old.delete()
            stamp = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))
            snaps = [
                (r.account_id, r.scorecard.id, stamp, day, r.score, r.band, r.breakdown_json, SnapshotSource.HISTORY)
                for r in results
            ]
            insert_snapshots(snaps)
            written += len(snaps)
    return written


def _enqueue_recompute(account_ids: list[int]) -> None:
    health_recompute_enqueue(account_ids=account_ids)


def health_recompute_enqueue(*, account_ids: list[int]) -> None:
    """Once the current transaction commits: mark the accounts as waiting for a recompute and enqueue the task
    that takes them (with any other waiting accounts, see ``health_recompute_pending``)."""
    ids = sorted({int(i) for i in account_ids})
    if ids:
        transaction.on_commit(partial(_pending_add_and_enqueue, ids))


def _pending_add_and_enqueue(account_ids: list[int]) -> None:
    from health.tasks import health_recompute_accounts

    # Only accounts that were not waiting yet need a task: a waiting one is taken by the task already queued for it
    # (or by an earlier one), and it reads the data this change committed. So a burst of changes makes one task,
    # and the default queue stays short for the triggers behind it.
    added = _pending_add(account_ids)
    if added:
        health_recompute_accounts.delay(added)


def _pending_add(account_ids: list[int]) -> list[int]:
    """Mark the accounts as waiting; returns those that were not (one statement). An account deleted meanwhile is
    left out. A row older than ``STALE_PENDING`` lost its task (worker killed, broker flushed): it is renewed and
    returned, so the change at hand enqueues a task again (the nightly recompute covers accounts that never change
    again)."""
    now = timezone.now()
    pending, accounts = HealthPending._meta.db_table, Account._meta.db_table
    ids = [int(i) for i in account_ids]
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {pending} (account_id, queued_at) SELECT id, %s FROM {accounts} "
            f"WHERE id IN ({', '.join(['%s'] * len(ids))}) ON CONFLICT (account_id) DO UPDATE "
            f"SET queued_at = excluded.queued_at WHERE {pending}.queued_at < %s RETURNING account_id",
            [adapt(now), *ids, adapt(now - STALE_PENDING)],
        )
        return sorted(row[0] for row in cursor.fetchall())


def health_recompute_pending(*, account_ids: list[int]) -> RecomputeStats:
    """The event-driven recompute: take the given accounts if they still wait, plus up to ``COALESCE`` other
    waiting accounts (the oldest first; those whose tasks are queued behind this one then find nothing), and
    recompute them together. Rows another task is taking are skipped. If the recompute fails the accounts wait
    again, for the retry."""
    with transaction.atomic():
        waiting = HealthPending.objects.select_for_update(skip_locked=True).values_list("account_id", flat=True)
        taken = list(waiting.filter(account_id__in=account_ids))
        taken += list(waiting.exclude(account_id__in=account_ids).order_by("queued_at")[:COALESCE])
        HealthPending.objects.filter(account_id__in=taken).delete()
    if not taken:
        return RecomputeStats()
    try:
        return health_recompute(account_ids=sorted(taken))
    except Exception:
        _pending_add(taken)
        raise


@transaction.atomic
def override_create(
    *,
    account: Account,
    band: str,
    reason: str,
    expires_on: dt.date,
    user: User,
    replace: bool = False,
    today: dt.date | None = None,
) -> HealthOverride:
    """Override an account's band with a reason until a date. An override already in force is never silently
    replaced: without ``replace=True`` this refuses; with it the old one is ended (by ``user``) and kept."""
    today = today or timezone.localdate()
    errors = {}
    if band not in Band.values:
        errors["band"] = "Choose red, yellow or green."
    if not (reason or "").strip():
        errors["reason"] = "Say why the computed band is wrong."
    if expires_on is None or expires_on < today:
        errors["expires_on"] = "The expiry date must be today or later."
    elif expires_on > today + dt.timedelta(days=MAX_OVERRIDE_DAYS):
        errors["expires_on"] = f"An override may last at most {MAX_OVERRIDE_DAYS} days."
    current = (
        HealthOverride.objects.select_for_update()
        .filter(account=account, ended_at__isnull=True, expires_on__gte=today)
        .first()
    )
    if current and not replace:
        errors["replace"] = (
            f"An override ({current.get_band_display()} until {current.expires_on:%Y-%m-%d}) is already in force. "
            "End it first or confirm you replace it."
        )
    if errors:
        raise ValidationError(errors)
    if current:
        override_end(override=current, user=user)
    override = HealthOverride(account=account, band=band, reason=reason.strip(), expires_on=expires_on, created_by=user)
    override.full_clean()
    override.save()
    AccountHealth.objects.filter(account=account).update(override=override)
    return override


@transaction.atomic
def override_end(*, override: HealthOverride, user: User) -> HealthOverride:
    """End an override now; it stays in the account's history as ended by ``user``."""
    if override.ended_at is not None:
        raise ValidationError({"override": "This override has already ended."})
    override.ended_at = timezone.now()
    override.ended_by = user
    override.save(update_fields=["ended_at", "ended_by"])
    AccountHealth.objects.filter(account_id=override.account_id, override=override).update(override=None)
    return override


@transaction.atomic
def sentiment_set(*, account: Account, sentiment: str, user: User, note: str = "") -> SentimentPulse:
    """Record the CSM's red/yellow/green pulse and recompute the account's health after commit."""
    pulse = SentimentPulse(account=account, sentiment=sentiment, note=note, set_by=user, set_at=timezone.now())
    pulse.full_clean()
    pulse.save()
    _enqueue_recompute([account.id])
    return pulse

"""Demo usage history for every demo account, through the real ingest service (``events.services.ingest``) in
process: the same messages ``simulate_usage`` sends over HTTP, built from the same per-account profiles, so each
account's health follows its story. In-process ingestion keeps ``make run`` under a few minutes on SQLite; the
rollups are refreshed by the usual pipeline (``refresh_usage``, enqueued after each commit)."""

import datetime as dt
import random
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from events import services
from events.management.commands.simulate_usage import FEATURES
from events.management.commands.simulate_usage import Command as Simulator
from events.messages import parse_message
from events.models import EventSource, KeyFeature

SOURCE_NAME = "Demo history"
CHUNK = 20  # accounts per transaction: short write locks, so pages keep answering while it loads


def _source() -> EventSource:
    source = EventSource.objects.filter(name=SOURCE_NAME).first()
    return source or services.source_create(name=SOURCE_NAME)[0]


def usage_demo_load(
    *,
    days: int,
    accounts: list[Account] | None = None,
    max_users: int = 5,
    seed: int = 7,
    progress: Callable[[int, int, int], None] | None = None,
) -> int:
    """Ingest ``days`` of usage for ``accounts`` (default: every demo account); returns the messages stored.
    Idempotent: message ids are stable, so a re-run stores nothing twice."""
    for name, event in FEATURES:
        if not KeyFeature.objects.filter(event_name=event).exists():
            services.key_feature_create(name=name, event_name=event)
    if accounts is None:
        accounts = list(
            Account.objects.filter(external_id__startswith="DEMO-")
            .order_by("external_id")
            .prefetch_related("contacts", "contracts")
        )
    source = _source()
    sim = Simulator()
    rng = random.Random(seed)
    today = timezone.now().date()
    now = timezone.now()
    stored = 0
    for start in range(0, len(accounts), CHUNK):
        plans = [sim._plan(account, rng, max_users) for account in accounts[start : start + CHUNK]]
        raw = [m for plan in plans for m in sim._introductions(plan)]
        for offset in range(days, -1, -1):
            day = today - dt.timedelta(days=offset)
            day_rng = random.Random(f"{seed}-{day}-{start}")
            for plan in plans:
                for user in plan["users"]:
                    raw += sim._day_of(plan, user, day, 1 - offset / max(days, 1), day_rng)
        messages = [parse_message(m, msg_type=None, received_at=now, check_nul=False) for m in raw]
        messages = [m for m in messages if m.timestamp <= now]
        with transaction.atomic():
            stored += services.ingest(source=source, messages=messages, rejections=[])
        if progress:
            progress(min(start + CHUNK, len(accounts)), len(accounts), stored)
    return stored

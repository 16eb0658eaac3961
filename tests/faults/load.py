"""SDK-like clients for the fault tests, and the checks: what was acknowledged is stored once, and the rollups
equal a plain SQL aggregate of the stored events."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
import psycopg

DAYS = 30  # events spread over the last 30 days: each refresh rewrites up to a month of rollups
USERS_PER_ACCOUNT = 3


@dataclass
class LoadResult:
    """What the clients saw: every messageId sent, those acknowledged (answered 200), and the failed attempts."""

    sent: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    batches: int = 0
    attempts: int = 0
    failures: Counter = field(default_factory=Counter)
    elapsed: float = 0.0
    acks: list[tuple[float, int]] = field(default_factory=list)  # (time.monotonic(), events) of each 200

    def acknowledged_between(self, start: float, end: float) -> int:
        """Events acknowledged between two ``time.monotonic()`` readings."""
        return sum(n for at, n in self.acks if start <= at <= end)

    def summary(self) -> str:
        return (
            f"{len(self.sent)} events sent in {self.batches} batches ({self.attempts} calls) over "
            f"{self.elapsed:.1f} s, {len(self.acknowledged)} acknowledged; "
            f"failed calls: {dict(self.failures) or 'none'}"
        )


class Client:
    """One SDK: a keep-alive connection, Basic auth with the write key, and the SDK retry rule (a call that fails
    or answers other than 200 is sent again, same body and messageIds, after a short pause)."""

    def __init__(self, port: int, write_key: str):
        self.port, self.conn = port, None
        self.headers = {
            "Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
            "Content-Type": "application/json",
        }

    def post(self, body: bytes) -> tuple[int, bytes]:
        try:
            self.conn = self.conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("POST", "/v1/batch", body, self.headers)
            response = self.conn.getresponse()
            data = response.read()
            if response.will_close:
                self.conn.close()
                self.conn = None
            return response.status, data
        except (OSError, http.client.HTTPException) as exc:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return 0, type(exc).__name__.encode()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def send(self, body: bytes, *, give_up_at: float, result: LoadResult, lock: threading.Lock) -> bool:
        """Send until acknowledged (True) or ``give_up_at`` passes (False)."""
        while time.monotonic() < give_up_at:
            status, data = self.post(body)
            with lock:
                result.attempts += 1
            if status == 200 and orjson.loads(data) == {"success": True}:
                return True
            with lock:
                result.failures[str(status or data.decode())] += 1
            time.sleep(0.1)
        return False


def group_batch(prefix: str, accounts: int) -> list[dict]:
    """group calls that create the accounts (the source auto-creates them) and tie their users to them."""
    return [
        {"type": "group", "messageId": f"{prefix}-g-{a}-{u}", "userId": f"{prefix}-u{a}-{u}",
         "groupId": f"{prefix}-A{a:03d}", "traits": {"name": f"{prefix} account {a}"}}
        for a in range(accounts) for u in range(USERS_PER_ACCOUNT)
    ]  # fmt: skip


def usage_batch(prefix: str, client: int, number: int, *, size: int, accounts: int, now: dt.datetime) -> list[dict]:
    """``size`` track and page calls with stable messageIds, attributed through each user's group (no groupId)."""
    rng = random.Random(f"{prefix}-{client}-{number}")
    messages = []
    for i in range(size):
        account, user = rng.randrange(accounts), rng.randrange(USERS_PER_ACCOUNT)
        when = now - dt.timedelta(seconds=rng.randrange(DAYS * 86400))
        message = {"messageId": f"{prefix}-{client}-{number}-{i}", "userId": f"{prefix}-u{account}-{user}",
                   "timestamp": when.isoformat()}  # fmt: skip
        if rng.random() < 0.8:
            message |= {"type": "track", "event": rng.choice(["Report Exported", "Login", "Search"])}
        else:
            message |= {"type": "page", "name": "Docs"}
        messages.append(message)
    return messages


def run_load(
    port: int,
    write_key: str,
    prefix: str,
    *,
    clients: int,
    duration: float,
    accounts: int,
    size: int = 50,
    pause: float = 0.1,
    give_up_after: float = 60,
) -> LoadResult:
    """``clients`` threads send new batches for ``duration`` seconds (a pause between batches), each retried until
    acknowledged; returns once every client has its last batch acknowledged or gave up."""
    result, lock, now = LoadResult(), threading.Lock(), dt.datetime.now(dt.UTC)
    started = time.monotonic()
    stop_at, give_up_at = started + duration, started + duration + give_up_after

    def work(number: int) -> None:
        client, batch_number = Client(port, write_key), 0
        while time.monotonic() < stop_at:
            batch = usage_batch(prefix, number, batch_number, size=size, accounts=accounts, now=now)
            batch_number += 1
            ids = [m["messageId"] for m in batch]
            with lock:
                result.sent.update(ids)
                result.batches += 1
            if not client.send(orjson.dumps({"batch": batch}), give_up_at=give_up_at, result=result, lock=lock):
                break
            with lock:
                result.acknowledged.update(ids)
                result.acks.append((time.monotonic(), len(ids)))
            time.sleep(pause)
        client.close()

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.monotonic() - started
    return result


class Database:
    """Reads of the private database for the checks (autocommit, reconnecting after a restart)."""

    def __init__(self, url: str):
        self.url, self.conn = url, None

    def rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        for attempt in range(50):
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg.connect(self.url, autocommit=True)
                return self.conn.execute(sql, params or {}).fetchall()
            except psycopg.OperationalError:
                self.conn = None
                if attempt == 49:
                    raise
                time.sleep(0.2)
        return []

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


ACCOUNTS = "SELECT id FROM accounts_account WHERE external_id LIKE %(prefix)s || '-A%%'"
EXPECTED_EVENTS = f"""
SELECT account_id, (timestamp AT TIME ZONE 'UTC')::date, event, count(*) FROM events_event
WHERE account_id IN ({ACCOUNTS}) AND type = 'track' GROUP BY 1, 2, 3"""
EXPECTED_USERS = f"""
SELECT account_id, (timestamp AT TIME ZONE 'UTC')::date, COALESCE(NULLIF(user_id, ''), anonymous_id), count(*)
FROM events_event WHERE account_id IN ({ACCOUNTS}) AND type IN ('track', 'page', 'screen') GROUP BY 1, 2, 3"""
ROLLUP_EVENTS = f"SELECT account_id, day, event, count FROM events_accountdailyevent WHERE account_id IN ({ACCOUNTS})"
ROLLUP_USERS = f"SELECT account_id, day, user_key, events FROM events_accountdailyuser WHERE account_id IN ({ACCOUNTS})"


@dataclass
class Stored:
    """The events of a run as stored: distinct messageIds, rows, and messageIds stored more than once."""

    message_ids: set[str]
    rows: int
    duplicates: int


def stored(db: Database, prefix: str) -> Stored:
    rows = db.rows(
        "SELECT message_id, count(*) FROM events_event WHERE message_id LIKE %(p)s || '-%%' AND type <> 'group' "
        "GROUP BY message_id",
        {"p": prefix},
    )
    return Stored({r[0] for r in rows}, sum(r[1] for r in rows), sum(1 for r in rows if r[1] > 1))


def backlog(db: Database, prefix: str) -> tuple[int, int]:
    """Usage marks and claims still pending for the run's accounts."""
    marks = db.rows(f"SELECT count(*) FROM events_usagemark WHERE account_id IN ({ACCOUNTS})", {"prefix": prefix})
    claims = db.rows(f"SELECT count(*) FROM events_usageclaim WHERE account_id IN ({ACCOUNTS})", {"prefix": prefix})
    return marks[0][0], claims[0][0]


def rollups_match(db: Database, prefix: str) -> bool:
    """The rollups equal a from-scratch aggregate of the stored events (row for row)."""
    params = {"prefix": prefix}
    return set(db.rows(ROLLUP_EVENTS, params)) == set(db.rows(EXPECTED_EVENTS, params)) and set(
        db.rows(ROLLUP_USERS, params)
    ) == set(db.rows(EXPECTED_USERS, params))


def wait_converged(db: Database, prefix: str, timeout: float) -> float | None:
    """Seconds until no mark or claim is pending and the rollups match the events; None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if backlog(db, prefix) == (0, 0) and rollups_match(db, prefix):
            return time.monotonic() - started
        time.sleep(0.25)
    return None

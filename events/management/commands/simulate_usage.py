"""Believable product usage for the demo accounts (external ids DEMO-0001...), sent through the real HTTP API.

    python manage.py simulate_usage --days 90            # 90 days of history, then exit (idempotent)
    python manage.py simulate_usage --duration 600       # live events for 10 minutes (0: until Ctrl-C)

Events go to ``--url`` (default http://127.0.0.1:8000) exactly as an SDK sends them: gzip batches of up to
100 messages, Basic auth with the write key. Without ``--write-key`` the "Usage simulator" source is created
(or its key rotated, since keys are stored only hashed). Each account gets a stable profile (healthy,
steady, declining or dormant) so health scores and the Usage tab tell different stories.
"""

import base64
import datetime as dt
import gzip
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from events import services
from events.models import EventSource, KeyFeature

SOURCE_NAME = "Usage simulator"
NAMESPACE = uuid.UUID("6f1c7a52-5d0e-4d43-9a55-2b1f4c1f0a11")
FEATURES = [("Report exports", "Report Exported"), ("Integrations", "Integration Connected"),
            ("Dashboards", "Dashboard Created")]  # fmt: skip
# (event, weight, key feature?) for an active user's day
EVENTS = [("Report Viewed", 30), ("Filter Applied", 20), ("Comment Added", 10), ("Report Exported", 8),
          ("Dashboard Created", 4), ("Invite Sent", 2), ("Integration Connected", 1)]  # fmt: skip
PAGES = ["Dashboard", "Reports", "Settings", "Team"]
PROFILES = {  # daily activity probability of a user at the start and at the end of the history
    "healthy": (0.65, 0.75),
    "steady": (0.45, 0.45),
    "declining": (0.6, 0.1),
    "dormant": (0.08, 0.03),
}


def usage_profile(account: Account) -> str:
    """The account's usage story, stable per account: mostly healthy or steady, some declining, a few dormant;
    a churned account has gone dormant."""
    if account.lifecycle_stage == "churned":
        return "dormant"
    draw = random.Random(f"profile-{account.external_id}").random()
    return "healthy" if draw < 0.55 else "steady" if draw < 0.82 else "declining" if draw < 0.94 else "dormant"


class Command(BaseCommand):
    help = "Send believable usage for the demo accounts through the HTTP API (history with --days, else live)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The running csp server.")
        parser.add_argument("--write-key", default="", help="An existing source's write key.")
        parser.add_argument("--days", type=int, default=0, help="Send this many days of history, then exit.")
        parser.add_argument("--duration", type=int, default=60, help="Live mode: seconds to run (0: forever).")
        parser.add_argument("--rate", type=float, default=20.0, help="Live mode: events per second.")
        parser.add_argument("--accounts", type=int, default=0, help="Only the first N demo accounts.")
        parser.add_argument("--owner", default="", help="Only the demo accounts this user (email) owns.")
        parser.add_argument("--max-users", type=int, default=20, help="Product users per account, at most.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **opts):
        self.url = opts["url"].rstrip("/")
        key = opts["write_key"] or self._source_key()
        self.auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        for name, event in FEATURES:
            if not KeyFeature.objects.filter(event_name=event).exists():
                services.key_feature_create(name=name, event_name=event)
        accounts = list(
            Account.objects.filter(external_id__startswith="DEMO-")
            .order_by("external_id")
            .select_related("owner")
            .prefetch_related("contacts", "contracts")
        )
        if opts["owner"]:
            accounts = [a for a in accounts if a.owner_id and a.owner.email == opts["owner"].lower()]
        if opts["accounts"]:
            accounts = accounts[: opts["accounts"]]
        if not accounts:
            raise CommandError("No demo accounts (external id DEMO-...): run `python manage.py seed_demo` first.")
        rng = random.Random(opts["seed"])
        plans = [self._plan(account, rng, opts["max_users"]) for account in accounts]
        self.sent = 0
        self.lock = threading.Lock()
        with ThreadPoolExecutor(max_workers=4) as pool:
            self.pool = pool
            self._send_all([m for plan in plans for m in self._introductions(plan)])
            if opts["days"]:
                self._history(plans, opts["days"], opts["seed"])
            else:
                self._live(plans, rng, opts["rate"], opts["duration"])
        self.stdout.write(f"Sent {self.sent} messages to {self.url}.")

    def _source_key(self) -> str:
        source = EventSource.objects.filter(name=SOURCE_NAME).first()
        if source is None:
            source, key = services.source_create(name=SOURCE_NAME)
            self.stderr.write(f"Created event source {SOURCE_NAME!r}.")
            return key
        self.stderr.write(f"Rotated the write key of {SOURCE_NAME!r} (keys are stored hashed; pass --write-key).")
        return services.source_rotate_key(source=source)

    def _plan(self, account: Account, rng: random.Random, max_users: int) -> dict:
        """Who uses the product at this account and how keenly: its contacts plus unnamed end users, up to a
        share of its seats; a profile drawn once per account."""
        seats = sum(c.seats for c in account.contracts.all() if c.status == "active") or 10
        profile = usage_profile(account)
        contacts = [c for c in account.contacts.all() if c.external_id]
        extra = max(0, min(max_users, int(seats * rng.uniform(0.3, 0.9))) - len(contacts))
        users = [
            {"id": c.external_id, "traits": {"email": c.email, "name": c.name, "title": c.title}, "keen": rng.random()}
            for c in contacts
        ]
        users += [{"id": f"{account.external_id}-P{n + 1}", "traits": {}, "keen": rng.random()} for n in range(extra)]
        return {"account": account, "profile": profile, "users": users}

    def _introductions(self, plan: dict) -> list[dict]:
        account = plan["account"]
        messages = []
        for user in plan["users"]:
            group = {"type": "group", "userId": user["id"], "groupId": account.external_id}
            messages.append({**group, "traits": {"name": account.name}, "messageId": self._mid("group", user["id"])})
            if user["traits"]:
                identify = {"type": "identify", "userId": user["id"], "traits": user["traits"]}
                messages.append({**identify, "messageId": self._mid("identify", user["id"])})
        return messages

    def _mid(self, *parts) -> str:
        return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))  # stable: re-sending is harmless

    def _day_of(self, plan: dict, user: dict, day: dt.date, progress: float, rng: random.Random) -> list[dict]:
        start, end = PROFILES[plan["profile"]]
        chance = (start + (end - start) * progress) * (0.5 + user["keen"])
        if day.weekday() >= 5:
            chance *= 0.25
        if rng.random() >= chance:
            return []
        group = plan["account"].external_id
        when = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 600))
        messages = []
        for n in range(rng.randint(1, 8)):
            at = (when + dt.timedelta(minutes=7 * n)).isoformat()
            mid = self._mid(user["id"], day, n)
            if n == 0 or rng.random() < 0.25:
                messages.append({"type": "page", "name": rng.choice(PAGES), "userId": user["id"], "timestamp": at,
                                 "messageId": mid, "context": {"groupId": group}})  # fmt: skip
            else:
                event = rng.choices([e for e, _ in EVENTS], weights=[w for _, w in EVENTS])[0]
                messages.append({"type": "track", "event": event, "userId": user["id"], "timestamp": at,
                                 "messageId": mid, "properties": {"source": "simulator"},
                                 "context": {"groupId": group}})  # fmt: skip
        return messages

    def _history(self, plans: list[dict], days: int, seed: int) -> None:
        today = dt.datetime.now(dt.UTC).date()
        for offset in range(days, -1, -1):
            day = today - dt.timedelta(days=offset)
            rng = random.Random(f"{seed}-{day}")
            batch = []
            for plan in plans:
                for user in plan["users"]:
                    batch += self._day_of(plan, user, day, 1 - offset / max(days, 1), rng)
            now = dt.datetime.now(dt.UTC)
            self._send_all([m for m in batch if m["timestamp"] <= now.isoformat()])
            if offset % 10 == 0:
                self.stdout.write(f"  {day}: {self.sent} messages so far")

    def _live(self, plans: list[dict], rng: random.Random, rate: float, duration: int) -> None:
        deadline = time.monotonic() + duration if duration else None
        while deadline is None or time.monotonic() < deadline:
            tick = time.monotonic()
            batch = []
            while len(batch) < max(1, int(rate)):
                plan = rng.choice(plans)
                if not plan["users"] or rng.random() > sum(PROFILES[plan["profile"]]) / 2:
                    continue
                user = rng.choice(plan["users"])
                for message in self._day_of(plan, user, dt.date.today(), 1.0, rng)[:3]:
                    message["timestamp"] = dt.datetime.now(dt.UTC).isoformat()
                    message["messageId"] = str(uuid.uuid4())
                    batch.append(message)
            self._send_all(batch)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))

    def _send_all(self, messages: list[dict]) -> None:
        chunks = [messages[i : i + 100] for i in range(0, len(messages), 100)]
        for future in [self.pool.submit(self._post, chunk) for chunk in chunks]:
            future.result()

    def _post(self, batch: list[dict]) -> None:
        body = gzip.compress(json.dumps({"batch": batch, "sentAt": dt.datetime.now(dt.UTC).isoformat()}).encode())
        request = urllib.request.Request(
            f"{self.url}/v1/batch",
            data=body,
            method="POST",
            headers={
                "Authorization": self.auth,
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "User-Agent": "csp-simulate-usage",
            },
        )
        for attempt in range(5):  # like the SDKs: retry with backoff on network errors and 5xx
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                break
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    raise CommandError(f"{exc.code} from {self.url}: {exc.read()[:300]!r}") from exc
            except urllib.error.URLError as exc:
                if attempt == 4:
                    raise CommandError(f"Cannot reach {self.url}: {exc.reason}") from exc
            time.sleep(0.5 * 2**attempt)
        with self.lock:
            self.sent += len(batch)

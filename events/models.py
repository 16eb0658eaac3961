"""Product usage: event sources, key features, and the daily rollups the metrics and health read."""

from django.db import models

from accounts.models import Account


class KeyFeature(models.Model):
    """An admin-chosen product event that counts as use of a key feature (feature adoption)."""

    name = models.CharField(max_length=120)
    event_name = models.CharField(max_length=200, unique=True, help_text="The `event` of track calls.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccountDailyEvent(models.Model):
    """Rollup: how often each event name occurred for an account on a day (UTC)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="daily_events")
    day = models.DateField()
    event = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "event"], name="daily_event_unique")]
        indexes = [models.Index(fields=["day", "account"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.event}: {self.count}"


class AccountDailyUser(models.Model):
    """Rollup: one row per user active for an account on a day (UTC). DAU is a count of rows for a day;
    WAU/MAU are counts of distinct ``user_key`` over 7/30 days, which daily totals could not give."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="daily_users")
    day = models.DateField()
    user_key = models.CharField(max_length=200, help_text="userId, or anonymousId when no userId was sent.")
    events = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "user_key"], name="daily_user_unique")]
        indexes = [models.Index(fields=["day", "account"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.user_key}"


class SourceKind(models.TextChoices):
    """A server key is a secret kept on a back end; a browser key ships in public JavaScript, so anyone may use it."""

    SERVER = "server", "Server-side (secret key)"
    BROWSER = "browser", "Browser or mobile (public key)"


class EventSource(models.Model):
    """Where events come from (one app, one SDK install). Its write key is shown once and stored only as a
    SHA-256 hash; ``key_prefix`` lets admins tell keys apart without revealing them. A source only changes
    contacts of accounts it has tied users to with group calls; a browser source (public key) also cannot
    re-key a contact found by email, nor create accounts."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.SERVER)
    key_prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    auto_create_accounts = models.BooleanField(
        default=False, help_text="Create an account when a group call names an unknown groupId."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MessageType(models.TextChoices):
    TRACK = "track", "Track"
    IDENTIFY = "identify", "Identify"
    GROUP = "group", "Group"
    PAGE = "page", "Page"
    SCREEN = "screen", "Screen"
    ALIAS = "alias", "Alias"


class Event(models.Model):
    """One accepted Segment message, append-only (only ``account`` is filled in later, when an unmatched
    event's mapping arrives). ``(source, message_id)`` is unique, so SDK retries are stored once. Indexed for
    per-account time ranges; docs/ingestion.md shows how to partition it by month on PostgreSQL. ``received_at``
    has an index outside the model state (migration 0005): BRIN on PostgreSQL, a B-tree elsewhere."""

    # No database-level foreign keys on this table: PostgreSQL checks each with a locking lookup per inserted
    # row, on the hottest insert of the product. Integrity holds without them: ids come from lookups in the same
    # statement, and every attributed event is stored with a UsageMark of its account in the same transaction;
    # if the account was deleted meanwhile, the refresh that consumes that mark deletes those events (what the
    # deletion's cascade would have done, see ``pipeline._refresh_many_pg``). Django still applies PROTECT and
    # CASCADE on delete. No index of their own either: (source, message_id) and (account, timestamp) lead with them.
    source = models.ForeignKey(
        EventSource, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    message_id = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=MessageType.choices)
    event = models.CharField(max_length=200, blank=True, help_text="Track event name, or the page name.")
    user_id = models.CharField(max_length=200, blank=True)
    anonymous_id = models.CharField(max_length=200, blank=True)
    group_id = models.CharField(max_length=100, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    timestamp = models.DateTimeField(help_text="When it happened, as the SDK says.")
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "message_id"], name="event_message_unique")]
        indexes = [
            models.Index(fields=["account", "timestamp"], name="event_account_time"),
            # The unmatched backlog stays small; partial indexes keep attributing it cheap.
            models.Index(
                fields=["source", "user_id"], name="event_unmatched_user", condition=models.Q(account__isnull=True)
            ),
            models.Index(fields=["group_id"], name="event_unmatched_group", condition=models.Q(account__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event} {self.message_id}"

    @property
    def user_key(self) -> str:
        return self.user_id or self.anonymous_id


class UserGroup(models.Model):
    """The account a product user belongs to, learnt from their latest group call (per source)."""

    source = models.ForeignKey(EventSource, on_delete=models.CASCADE, related_name="+")
    user_id = models.CharField(max_length=200)
    group_id = models.CharField(max_length=100)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "user_id"], name="user_group_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.group_id}"


class RejectedMessage(models.Model):
    """A call or message refused at ingestion, with the reason, for the ingestion console."""

    source = models.ForeignKey(EventSource, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(db_index=True)
    status = models.PositiveSmallIntegerField(help_text="HTTP status answered (200 for a message in a batch).")
    code = models.CharField(max_length=40)
    reason = models.CharField(max_length=500)
    message_id = models.CharField(max_length=100, blank=True)
    excerpt = models.TextField(blank=True, help_text="The start of the offending payload.")
    represents = models.PositiveIntegerField(
        default=1, help_text="Calls this row stands for: calls without a valid key are sampled, one row per N."
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class UsageMark(models.Model):
    """Events of this account since ``since`` are not rolled up yet. One row per ingest call and account, so
    concurrent ingests only insert and never wait on each other's row locks; the refresh deletes the marks it
    consumed in the transaction that rewrites the rollups.

    No database-level foreign key (nor on UsageClaim): an ingest writes one mark per account it touched, and
    PostgreSQL checked each with a ``SELECT ... FOR KEY SHARE`` of the account row, so concurrent ingests piled
    multixact locks onto the same accounts; it cost a third of the database's work per event. A mark whose
    account was deleted under an ingest is consumed by the refresh, which deletes that ingest's events
    (``pipeline._refresh_many_pg``). Django's CASCADE still deletes marks and claims with their account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    since = models.DateTimeField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"mark {self.account_id} since {self.since:%Y-%m-%d}"


class UsageClaim(models.Model):
    """A refresh task is queued for this account: inserted with ON CONFLICT DO NOTHING by whoever enqueues,
    so 1,000 events of an account make one task; the task deletes it when it starts."""

    account = models.OneToOneField(
        Account, primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    enqueued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"claim {self.account_id}"

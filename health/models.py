"""Health scorecards, their measures, computed snapshots, the current score per account, overrides and the
CSM sentiment pulse. The maths lives in ``health.scoring`` and ``health.measures``; writes in ``health.services``."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account


class Band(models.TextChoices):
    RED = "red", "Red"
    YELLOW = "yellow", "Yellow"
    GREEN = "green", "Green"


class MissingPolicy(models.TextChoices):
    EXCLUDE = "exclude", "Exclude and spread its weight over the other measures"
    ZERO = "zero", "Score it as zero points"


class MeasureGroup(models.TextChoices):
    USAGE = "usage", "Usage"
    ENGAGEMENT = "engagement", "Engagement"
    SUPPORT = "support", "Support"
    SURVEYS = "surveys", "Surveys"
    FINANCIAL = "financial", "Financial"
    CSM_SENTIMENT = "csm_sentiment", "CSM sentiment"


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class Interpolation(models.TextChoices):
    LINEAR = "linear", "Linear between breakpoints"
    STEP = "step", "Steps (points of the last breakpoint reached)"


class Trend(models.TextChoices):
    UP = "up", "Up"
    DOWN = "down", "Down"
    FLAT = "flat", "Flat"


class Scorecard(models.Model):
    """A health scorecard: weighted measures, band cut-offs and a missing-data policy. It applies to the
    accounts of its ``tiers``; the one ``is_default`` scorecard scores every account no other one claims.
    (Segments, once they exist, become a second way to claim accounts: see ``health.assignment``.)"""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    is_default = models.BooleanField(default=False)
    tiers = models.JSONField(default=list, blank=True, help_text="Account tiers this scorecard applies to.")
    # Accounts in one of these segments get this scorecard before any tier rule (see ``health.assignment``).
    segments = models.ManyToManyField("segments.Segment", blank=True, related_name="scorecards")
    yellow_from = models.FloatField(default=40, help_text="Scores below this are red.")
    green_from = models.FloatField(default=70, help_text="Scores from this up are green.")
    missing_policy = models.CharField(max_length=10, choices=MissingPolicy.choices, default=MissingPolicy.EXCLUDE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_scorecard"),
        ]

    def __str__(self) -> str:
        return self.name

    def band_for(self, score: float | None) -> str:
        """Red below ``yellow_from``, green from ``green_from``, yellow between; no score, no band."""
        if score is None:
            return ""
        if score < self.yellow_from:
            return Band.RED
        if score < self.green_from:
            return Band.YELLOW
        return Band.GREEN


class Measure(models.Model):
    """One weighted measure of a scorecard. ``key`` names a measure of the registry (``health.measures``);
    ``breakpoints`` map the raw value to 0-100 points: ``[[raw, points], ...]`` ordered by raw value,
    interpolated linearly or as steps, flat beyond the ends."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="measures")
    key = models.CharField(max_length=60)
    group = models.CharField(max_length=20, choices=MeasureGroup.choices)
    weight = models.FloatField(default=1)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    interpolation = models.CharField(max_length=8, choices=Interpolation.choices, default=Interpolation.LINEAR)
    breakpoints = models.JSONField(default=list)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scorecard", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "key"], name="measure_once_per_scorecard")]

    def __str__(self) -> str:
        return f"{self.scorecard}: {self.key}"


class SnapshotSource(models.TextChoices):
    LIVE = "live", "Live (event-driven)"
    NIGHTLY = "nightly", "Nightly"
    HISTORY = "history", "History recompute"


class HealthSnapshot(models.Model):
    """One computed score of one account, with its per-measure breakdown. History, trends and "what changed"
    all read these. ``breakdown`` maps measure key → ``{"value", "points", "weight", "contribution", "missing"}``."""

    # Indexes and constraints are kept to what reads need: 100,000 rows are written per nightly recompute.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="health_snapshots", db_index=False
    )  # (account, -computed_at) below serves lookups by account
    # The scorecard that computed it; kept as a plain id if that scorecard is deleted later (history stays).
    scorecard = models.ForeignKey(
        Scorecard, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    computed_at = models.DateTimeField()
    as_of = models.DateField(help_text="The day whose data was scored.")
    score = models.FloatField(null=True)
    band = models.CharField(max_length=8, choices=Band.choices, blank=True)
    breakdown = models.JSONField(default=dict)
    source = models.CharField(max_length=8, choices=SnapshotSource.choices, default=SnapshotSource.LIVE)

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["account", "-computed_at"]), models.Index(fields=["as_of"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.computed_at:%Y-%m-%d %H:%M} {self.score}"


class AccountHealth(models.Model):
    """The latest score of an account, one row per account, so lists show score, band and trend with one join.
    ``band`` is the computed band; ``override`` (when active) is what people see instead."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, primary_key=True, related_name="health")
    scorecard = models.ForeignKey(Scorecard, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    score = models.FloatField(null=True)
    band = models.CharField(max_length=8, choices=Band.choices, blank=True)
    previous_score = models.FloatField(null=True, help_text="The score before the last change.")
    previous_band = models.CharField(max_length=8, choices=Band.choices, blank=True)
    trend = models.CharField(max_length=4, choices=Trend.choices, default=Trend.FLAT)
    # A hash of the day and the breakdown: a recompute that changes nothing writes no new snapshot that day.
    fingerprint = models.CharField(max_length=32, blank=True)
    computed_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True, help_text="When the score last moved.")
    override = models.ForeignKey(
        "HealthOverride", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        indexes = [models.Index(fields=["score"])]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} {self.band}"

    @property
    def active_override(self) -> "HealthOverride | None":
        """The override in force today (an expired one stops applying even before the next recompute)."""
        o = self.override
        return o if o is not None and o.is_active_on(timezone.localdate()) else None

    @property
    def shown_band(self) -> str:
        """What people see: the override's band while one is in force, else the computed band."""
        o = self.active_override
        return o.band if o else self.band


class HealthOverride(models.Model):
    """A CSM's manual band for an account, with a required reason and an expiry date. It is shown as an override
    beside the computed band, stops applying after ``expires_on``, and is ended only explicitly (``ended_at``)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_overrides")
    band = models.CharField(max_length=8, choices=Band.choices)
    reason = models.TextField(max_length=2000, validators=[MaxLengthValidator(2000)])
    expires_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.band} until {self.expires_on}"

    def is_active_on(self, day) -> bool:
        return self.ended_at is None and self.expires_on >= day


class SentimentPulse(models.Model):
    """The CSM's own red/yellow/green read of an account (the "CSM sentiment" measure reads the latest one)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sentiment_pulses")
    sentiment = models.CharField(max_length=8, choices=Band.choices)
    note = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["-set_at", "-id"]
        indexes = [models.Index(fields=["account", "-set_at"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.sentiment} {self.set_at:%Y-%m-%d}"


class HealthPending(models.Model):
    """An account waiting for its event-driven recompute (``health.services.health_recompute_enqueue``). One row per
    account however often it changes meanwhile, and one task takes every waiting account: when the workers fall
    behind, recomputes grow into batches (one set of queries for many accounts) instead of a queue growing."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, primary_key=True, related_name="+")
    queued_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["queued_at"])]

    def __str__(self) -> str:
        return f"{self.account_id} since {self.queued_at:%H:%M:%S}"

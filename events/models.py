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

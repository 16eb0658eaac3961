"""Factories of the triggers app's tests."""

import datetime as dt

import factory
from django.utils import timezone

from health.models import AccountHealth
from triggers.models import Trigger


class TriggerFactory(factory.django.DjangoModelFactory):
    """An active trigger that only notifies (no CTA) and has no cool-down, unless told otherwise."""

    class Meta:
        model = Trigger

    name = factory.Sequence(lambda n: f"Trigger {n}")
    is_active = True
    condition_type = "health_band"
    params = factory.LazyAttribute(lambda o: {"band": "red"} if o.condition_type == "health_band" else {})
    open_cta = False
    notify_owner = True
    cooldown_days = 0


def set_health(account, score, band, previous_score=None, previous_band=""):
    AccountHealth.objects.update_or_create(
        account=account,
        defaults={
            "score": score,
            "band": band,
            "previous_score": previous_score,
            "previous_band": previous_band,
            "computed_at": timezone.now(),
        },
    )


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)

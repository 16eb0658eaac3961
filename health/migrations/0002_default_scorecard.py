"""Install a default scorecard so every account gets a score from day one (admins edit it in the UI)."""

from django.db import migrations

# key, group, direction, breakpoints, weight: a copy, so later code changes do not change this migration.
MEASURES = [
    ("active_users_30d", "usage", "higher", [[0, 0], [10, 60], [50, 100]], 15),
    ("stickiness", "usage", "higher", [[0, 0], [10, 50], [25, 100]], 10),
    ("license_utilization", "usage", "higher", [[0, 0], [50, 60], [80, 100]], 15),
    ("key_feature_adoption", "usage", "higher", [[0, 0], [50, 70], [80, 100]], 10),
    ("days_since_last_activity", "usage", "lower", [[0, 100], [7, 70], [30, 0]], 10),
    ("usage_change", "usage", "higher", [[-50, 0], [0, 70], [20, 100]], 5),
    ("open_tickets", "support", "lower", [[0, 100], [5, 50], [15, 0]], 5),
    ("escalations", "support", "lower", [[0, 100], [1, 50], [3, 0]], 5),
    ("avg_response_hours", "support", "lower", [[1, 100], [8, 70], [48, 0]], 5),
    ("days_since_touchpoint", "engagement", "lower", [[0, 100], [30, 70], [90, 0]], 5),
    ("days_to_renewal", "financial", "higher", [[0, 0], [30, 30], [90, 70], [180, 100]], 5),
    ("arr_change_90d", "financial", "higher", [[-20, 0], [0, 70], [10, 100]], 5),
    ("csm_sentiment", "csm_sentiment", "higher", [[0, 0], [100, 100]], 5),
]


def create(apps, schema_editor):
    Scorecard = apps.get_model("health", "Scorecard")
    Measure = apps.get_model("health", "Measure")
    if Scorecard.objects.filter(is_default=True).exists():
        return
    card = Scorecard.objects.create(
        name="Default", is_default=True, description="Catches every account no other scorecard claims."
    )
    Measure.objects.bulk_create(
        Measure(scorecard=card, key=k, group=g, direction=d, breakpoints=b, weight=w, position=i)
        for i, (k, g, d, b, w) in enumerate(MEASURES, start=1)
    )


def remove(apps, schema_editor):
    apps.get_model("health", "Scorecard").objects.filter(name="Default", is_default=True).delete()


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]

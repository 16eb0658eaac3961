# Notification moved to the notifications app (issue 10): drop it from this app's state only. The table
# triggers_notification and its rows stay; notifications.0001_initial owns them now.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("triggers", "0001_initial"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]

"""The move of Notification from triggers to notifications keeps the table and its rows (PostgreSQL and SQLite)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notifications.models import Notification
from tests.factories import UserFactory

BEFORE = [("triggers", "0001_initial"), ("notifications", None)]
AFTER = [("triggers", "0002_notification_moved_to_notifications"), ("notifications", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_after_it():
    user = UserFactory()
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old_apps = executor.loader.project_state([("triggers", "0001_initial")]).apps
        OldNotification = old_apps.get_model("triggers", "Notification")
        row = OldNotification.objects.create(user_id=user.pk, title="Written by triggers", url="/accounts/1/")
        executor = MigrationExecutor(connection)  # reload the graph: it now sees the unapplied migrations
        executor.migrate(AFTER)
        moved = Notification.objects.get(pk=row.pk)
        assert (moved.user_id, moved.title, moved.read_at) == (user.pk, "Written by triggers", None)
        assert Notification._meta.db_table in connection.introspection.table_names()
    finally:
        # Back to the latest schema: later migrations (e.g. triggers' send_survey) were unapplied by BEFORE, and
        # the tests that run after this one share the database.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

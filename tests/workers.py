"""Helpers of the tests that run a real Celery worker (marker ``worker``)."""

from csp.celery import QUEUES, app


def purge_queues() -> None:
    """Empty every queue of this Redis db: leftovers of an earlier (interrupted) run are not this test's tasks."""
    with app.connection_for_write() as conn:
        for queue in QUEUES:
            conn.default_channel.queue_purge(queue)

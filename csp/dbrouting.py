"""Read replica for dashboards and exports.

When ``DATABASE_REPLICA_URL`` is set, settings add a ``replica`` database and ``ReplicaRouter``. Reads go to the
replica only inside ``replica_reads()`` (or a view decorated with ``reads_from_replica``): the heavy, read-only
screens (dashboards, revenue/usage API, CSV exports) that tolerate a replica's few seconds of lag. Everything else,
and every write, stays on the primary, so a CSM never misses a change they have just saved.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

from django.db import connections
from django.http import StreamingHttpResponse

REPLICA = "replica"
_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("csp_use_replica", default=False)


def replica_configured() -> bool:
    """Whether this deployment has a read replica (``DATABASE_REPLICA_URL``)."""
    return REPLICA in connections.settings  # built from settings.DATABASES once


@contextmanager
def replica_reads() -> Iterator[None]:
    """Route ORM reads inside the block to the replica (a no-op without one)."""
    token = _use_replica.set(replica_configured())
    try:
        yield
    finally:
        _use_replica.reset(token)


def _streamed_on_replica(content: Iterator) -> Iterator:
    # A streaming response's rows are read after the view returns, while the body is sent: keep them on the replica.
    with replica_reads():
        yield from content


def reads_from_replica(view: Callable) -> Callable:
    """Decorate a read-only view (GET/HEAD only: other methods stay on the primary) so its ORM reads, including
    those of a streamed body, go to the replica."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or not replica_configured():
            return view(request, *args, **kwargs)
        with replica_reads():
            response = view(request, *args, **kwargs)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _streamed_on_replica(response.streaming_content)
        return response

    return wrapper


class ReplicaRouter:
    """Reads inside ``replica_reads()`` go to the replica; writes, migrations and all other reads to ``default``."""

    def db_for_read(self, model, **hints) -> str | None:
        return REPLICA if _use_replica.get() else None

    def db_for_write(self, model, **hints) -> str | None:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return db == "default"  # the replica follows the primary's schema through replication

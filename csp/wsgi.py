"""WSGI entry point for gunicorn."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csp.settings")
application = get_wsgi_application()


def _warm_up() -> None:
    """Import what the first requests would otherwise import in every worker: under `gunicorn --preload` this
    runs once, before forking. The URLconf (and every view module) and Celery's broker transport (imported on
    the first enqueue); no connection is opened here, so forked workers share none. Then freeze what is loaded:
    the garbage collector stops rescanning those objects on every full collection, and forked workers keep
    sharing their memory pages instead of copying them when the collector touches them."""
    get_resolver().url_patterns  # noqa: B018
    from csp.celery import app

    app.connection_for_write().transport_cls  # noqa: B018
    gc.freeze()


_warm_up()

"""bench_api runs end to end at a tiny size and prints its figures (a smoke test: it asserts no speed)."""

import os
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="bench_api runs on PostgreSQL"),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="bench_api needs REDIS_URL (throttle counters)"),
]


def test_bench_api_prints_figures():
    template = connection.settings_dict["NAME"]  # the migrated test database, cloned: no migration to run
    connection.close()  # a template must have no open connection
    out = StringIO()
    # One server (no throttle-off run): starting gunicorn is most of the time.
    call_command(
        "bench_api", accounts=20, clients="2", duration=1, warmup=0, targets="api-csm,page-csm",
        template=template, compare=False, stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "Seeded 20 accounts" in text
    for target in ("api-csm", "page-csm"):
        line = re.search(rf"{target} +2 clients, throttles on: (\d+) requests .* req/s; p50 .* p99 .*load", text)
        assert line and int(line.group(1)) > 0, text
        assert "failed" not in line.group(0), text  # every answer was a 200 (token and session accepted)

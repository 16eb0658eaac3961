"""Benchmark: a survey mailed to N contacts by the real Celery worker through a local SMTP server (aiosmtpd,
started here), then N answers posted through the public embed endpoint served by gunicorn.

Prints mails/s (from the job's enqueue to the last message accepted by the SMTP server), answers/s and the
answer latency p50/p95. Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL): the worker and gunicorn are
separate processes sharing one SECRET_KEY, so the tokens signed by the worker verify in gunicorn. Bench data
(accounts ``BENCH-SRV-*``) is deleted before and after.
"""

import os
import queue
import random
import re
import secrets
import socket
import subprocess
import sys
import threading
import time

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import Account, Contact
from csp.serving import wait_until_healthy
from surveys.models import BatchStatus, Survey, SurveyBatch, SurveySend

PREFIX = "BENCH-SRV-"
LINK_RE = re.compile(rb"/s/([A-Za-z0-9:_-]+)/\?score=")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps each mail's token (first answer link) and the time it arrived."""

    def __init__(self):
        self.tokens: list[str] = []
        self.last_at = 0.0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        found = LINK_RE.search(envelope.content.replace(b"=\r\n", b""))  # undo quoted-printable soft breaks
        with self.lock:
            if found:
                self.tokens.append(found.group(1).decode())
            self.last_at = time.monotonic()
        return "250 OK"


class Command(BaseCommand):
    help = "Survey mails/s through Celery + SMTP, and answers/s and p95 through gunicorn (prints the figures)."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=20_000)
        parser.add_argument("--worker-concurrency", type=int, default=2)
        parser.add_argument("--gunicorn-workers", type=int, default=2)
        parser.add_argument("--clients", type=int, default=8, help="Concurrent answering clients.")
        parser.add_argument("--timeout", type=int, default=1800, help="Seconds to wait for the mails.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("bench_surveys needs DATABASE_URL (PostgreSQL) and REDIS_URL (a real worker).")
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line at INFO

        n = opts["contacts"]
        self._cleanup()
        survey = self._setup(n)
        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
        smtp.start()
        web_port = _free_port()
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_MANIFEST": "false",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "600",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "SURVEY_RATE_PER_IP": "1000000",  # every bench client shares one IP
            "SURVEY_NOTIFY_GRACE_MINUTES": "0",
        }
        from csp.celery import app

        app.control.purge()
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "csp", "worker", "-Q", "long,default,celery", "-c",
             str(opts["worker_concurrency"]), "-l", "warning", "--without-gossip", "--without-mingle"],
            env=env,
        )  # fmt: skip
        server = None
        try:
            time.sleep(3)  # the worker connects to the broker
            mails_s, elapsed_mail = self._mail(survey, inbox, n, opts["timeout"], worker)
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "csp.wsgi", "--preload", "-b", f"127.0.0.1:{web_port}", "-w",
                 str(opts["gunicorn_workers"]), "--worker-class", "gthread", "--threads", "4", "--log-level",
                 "warning"],
                env=env,
            )  # fmt: skip
            if not wait_until_healthy(web_port, server):
                raise CommandError("gunicorn did not come up within 30 s")
            answers_s, p50, p95, failures, elapsed_ans = self._answer(web_port, inbox.tokens, opts["clients"])
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            worker.terminate()
            worker.wait(timeout=60)
            smtp.stop()
            app.control.purge()
        batch = SurveyBatch.objects.filter(survey=survey).first()
        answered = survey.responses.count()
        self.stdout.write(
            f"Mails: {batch.sent} sent, {batch.failed} failed of {n} in {elapsed_mail:.1f} s → {mails_s:.0f} mails/s "
            f"(Celery worker x{opts['worker_concurrency']}, SMTP to aiosmtpd)"
        )
        self.stdout.write(
            f"Answers: {answered} stored of {len(inbox.tokens)} posted in {elapsed_ans:.1f} s → {answers_s:.0f} "
            f"answers/s; latency p50 {p50:.1f} ms, p95 {p95:.1f} ms ({failures} failed; gunicorn "
            f"{opts['gunicorn_workers']} workers x 4 threads, {opts['clients']} clients)"
        )
        self._cleanup()

    def _setup(self, n: int) -> Survey:
        """n contacts on n/10 accounts, and the survey."""
        accounts = Account.objects.bulk_create(
            [Account(name=f"Bench survey {i}", external_id=f"{PREFIX}{i}") for i in range((n + 9) // 10)]
        )
        Contact.objects.bulk_create(
            [Contact(account=accounts[i // 10], name=f"Bench {i}", email=f"bench-{i}@bench.example") for i in range(n)],
            batch_size=5000,
        )
        return Survey.objects.create(name=f"{PREFIX}NPS", kind="nps", mode="transactional", throttle_days=0)

    def _mail(self, survey: Survey, inbox: Inbox, n: int, timeout: int, worker) -> tuple[float, float]:
        from surveys.services import survey_batch_create

        start = time.monotonic()
        with transaction.atomic():
            batch = survey_batch_create(survey=survey, account_ids=None, source="bench")
        deadline = start + timeout
        while time.monotonic() < deadline and worker.poll() is None:
            batch.refresh_from_db()
            if batch.status in (BatchStatus.DONE, BatchStatus.FAILED):
                break
            time.sleep(0.5)
        else:
            raise CommandError(f"the job did not finish: {batch.sent} sent, {batch.failed} failed")
        elapsed = max(inbox.last_at, time.monotonic() if not inbox.tokens else inbox.last_at) - start
        return len(inbox.tokens) / elapsed if elapsed else 0.0, elapsed

    def _answer(self, port: int, tokens: list[str], clients: int):
        work: queue.Queue[str] = queue.Queue()
        for token in tokens:
            work.put(token)
        latencies: list[float] = []
        failures = [0]
        lock = threading.Lock()
        rng = random.Random(5)
        scores = [rng.randint(0, 10) for _ in tokens]
        comments = ["", "Great product", "Support is too slow", "Reporting could be faster"]

        def run():
            session = requests.Session()
            mine = []
            while True:
                try:
                    token = work.get_nowait()
                except queue.Empty:
                    break
                i = len(mine) + rng.randint(0, 3)
                t0 = time.perf_counter()
                r = session.post(
                    f"http://127.0.0.1:{port}/s/{token}/embed",
                    json={"score": scores[i % len(scores)], "comment": comments[i % 4]},
                    timeout=30,
                )
                mine.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    with lock:
                        failures[0] += 1
            with lock:
                latencies.extend(mine)

        start = time.monotonic()
        threads = [threading.Thread(target=run) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        latencies.sort()
        pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0  # noqa: E731
        return len(tokens) / elapsed, pct(0.50), pct(0.95), failures[0], elapsed

    def _cleanup(self) -> None:
        SurveySend.objects.filter(survey__name__startswith=PREFIX).delete()
        Survey.objects.filter(name__startswith=PREFIX).delete()
        Account.objects.filter(external_id__startswith=PREFIX).delete()

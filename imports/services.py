"""Import jobs: upload (checks the header), dry run, start, and the runs the Celery tasks call."""

import logging
import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from csp.models import User
from imports import engine
from imports.columns import REQUIRED, match_headers
from imports.models import ImportJob, ImportKind, ImportStatus, RowAction

logger = logging.getLogger(__name__)
MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000


class _Rollback(Exception):
    """Raised inside the all-or-nothing transaction to undo every write."""


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):  # Excel on Windows still writes cp1252 CSVs
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": "The file is not UTF-8 or Windows-1252 text."})


@transaction.atomic
def import_job_create(*, kind: str, filename: str, raw: bytes, created_by: User, all_or_nothing: bool) -> ImportJob:
    """Store an uploaded CSV after checking its header has the required columns; the dry run follows
    (``import_dry_run_enqueue``). Raises ValidationError naming ``file`` or ``kind``."""
    if kind not in ImportKind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}: accounts, contacts or contracts."})
    if not raw:
        raise ValidationError({"file": "The file is empty."})
    if len(raw) > MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_BYTES // 1024 // 1024} MB."})
    content = _decode(raw).replace("\x00", "")
    header, rows = engine.read_rows(content)
    fields, ignored = match_headers(kind, header)
    missing = [f for f in REQUIRED[kind] if f not in fields]
    if missing:
        raise ValidationError(
            {"file": f"Missing required column(s): {', '.join(missing)}. Found: {', '.join(header)}."}
        )
    total = sum(1 for _ in rows)
    if total == 0:
        raise ValidationError({"file": "The file has a header but no rows."})
    if total > MAX_ROWS:
        raise ValidationError({"file": f"The file has {total} rows; split it into files of at most {MAX_ROWS}."})
    job = ImportJob(
        kind=kind,
        filename=filename[:255],
        content=content,
        columns={f: header[i] for f, i in fields.items()},
        ignored_columns=ignored,
        all_or_nothing=all_or_nothing,
        total_rows=total,
        created_by=created_by,
    )
    job.full_clean(exclude=["content"])
    job.save()
    from imports.tasks import import_dry_run  # tasks import services

    transaction.on_commit(lambda: import_dry_run.delay(job.pk))
    return job


PROGRESS_EVERY = 0.5  # seconds: the import page polls every second; _finish writes the final counts


def _progress(job_id: int):
    """``on_chunk`` for the engine: writes the job's progress after the first chunk, then at most every
    PROGRESS_EVERY seconds (a write per 2,000-row chunk is more than the page can show)."""
    last = [float("-inf")]

    def update(ctx: engine.Context, done: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        ImportJob.objects.filter(pk=job_id).update(
            processed_rows=done,
            created_count=ctx.counts[RowAction.CREATE],
            updated_count=ctx.counts[RowAction.UPDATE],
            rejected_count=ctx.counts[RowAction.REJECT],
        )

    return update


def _finish(job_id: int, ctx: engine.Context, status: str, error: str = "") -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=status,
        results=ctx.results,
        processed_rows=len(ctx.results),
        created_count=ctx.counts[RowAction.CREATE],
        updated_count=ctx.counts[RowAction.UPDATE],
        rejected_count=ctx.counts[RowAction.REJECT],
        error=error,
        finished_at=timezone.now(),
    )


def import_dry_run(*, job_id: int) -> None:
    """Plan every row without writing: create / update / reject with the reason. Idempotent: a job no longer
    in the dry-run state is left alone."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.VALIDATING).defer("results").first()
    if job is None:
        return
    ImportJob.objects.filter(pk=job_id).update(started_at=timezone.now(), processed_rows=0)
    ctx = engine.run(kind=job.kind, content=job.content, apply=False, on_chunk=_progress(job_id))
    _finish(job_id, ctx, ImportStatus.VALIDATED)


@transaction.atomic
def import_start(*, job: ImportJob) -> ImportJob:
    """Queue the real import of a dry-run job (or re-run a finished or failed one: updates, never duplicates)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportStatus.VALIDATED, ImportStatus.DONE, ImportStatus.FAILED):
        raise ValidationError({"status": f"This import is {job.get_status_display().lower()}; it cannot start now."})
    job.status, job.processed_rows, job.error = ImportStatus.QUEUED, 0, ""
    job.save(update_fields=["status", "processed_rows", "error"])
    from imports.tasks import import_apply

    transaction.on_commit(lambda: import_apply.delay(job.pk))
    return job


def import_apply(*, job_id: int) -> None:
    """Write the rows. Without all-or-nothing every valid row is written chunk by chunk (progress is visible
    as it goes); with it, the whole file is written in one transaction that is rolled back if any row is
    rejected, so nothing is stored. Idempotent: only a queued or interrupted (running) job runs; rows are
    matched on external ids, so a re-run after a crash updates what the first run created."""
    claimed = ImportJob.objects.filter(pk=job_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), processed_rows=0
    )
    if not claimed:
        return
    # Not the dry run's results: decoding 50,000 of them costs a third of a second and they are rebuilt.
    job = ImportJob.objects.select_related("created_by").defer("results").get(pk=job_id)
    # The audit entries of every written row name the admin who uploaded the file and the job.
    who = {"actor": job.created_by, "job_id": job_id}
    if not job.all_or_nothing:
        ctx = engine.run(kind=job.kind, content=job.content, apply=True, on_chunk=_progress(job_id), **who)
        _finish(job_id, ctx, ImportStatus.DONE)
        return
    # All or nothing: progress rows written inside the transaction would roll back with it, so the bar
    # moves at commit; the dry run before it has already shown the row-by-row outcome.
    try:
        with transaction.atomic():
            ctx = engine.run(kind=job.kind, content=job.content, apply=True, **who)
            if ctx.counts[RowAction.REJECT]:
                raise _Rollback
    except _Rollback:
        rejected = ctx.counts[RowAction.REJECT]
        ctx.counts[RowAction.CREATE] = ctx.counts[RowAction.UPDATE] = 0
        message = f"{rejected} row(s) rejected: nothing was imported (all-or-nothing)."
        _finish(job_id, ctx, ImportStatus.FAILED, message)
        return
    _finish(job_id, ctx, ImportStatus.DONE)


def import_fail(*, job_id: int, error: str) -> None:
    """Record an unexpected error (called by the task when it gives up)."""
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )

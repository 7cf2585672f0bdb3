"""The life of an ImportJob, shared by the admin views, the background tasks and the command.

    uploaded → validating → validated → importing → done
                         ↘ failed               ↘ failed

Each transition is a conditional UPDATE on the status, so a double click, a second worker or a
repeated confirm never runs a step twice. The uploaded file lives in the private storage until
the job is done or has failed, then it is deleted: it may hold ID numbers, which the system
keeps only as hashes.
"""

import logging
import os
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from estates import scope
from estates.models import ImportJob
from plugins.signals import estates_imported

from . import reader, schema
from .engine import ImportBlocked, ImportRun

logger = logging.getLogger(__name__)
Status = ImportJob.Status
#: Below this size a file without row counts in it is counted row by row before choosing
#: between the request and the background worker; above it, the worker takes it.
COUNT_ROWS_BELOW_BYTES = 1024 * 1024
RUNNING = (Status.UPLOADED, Status.VALIDATING, Status.IMPORTING)


class JobStateError(Exception):
    """The job is not in a state that allows the step asked for."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class Inspection:
    file_format: str
    kinds: list  # kind keys found, in file order
    total_rows: int | None  # None: unknown (a large file that does not say)


def inspect_upload(upload, max_bytes=None):
    """Check an uploaded file by size and content; find its kinds and roughly how many rows
    it has. Raises reader.FileRejected."""
    max_bytes = max_bytes or settings.ESTATES_IMPORT_MAX_BYTES
    if upload.size > max_bytes:
        raise reader.FileRejected(
            _("文件太大（%(size)s MB），最大 %(max)s MB，请拆分后再导入。")
            % {"size": round(upload.size / 1024 / 1024, 1), "max": round(max_bytes / 1024 / 1024, 1)},
            status=413,
        )
    file_format = reader.sniff(upload, max_bytes)
    with reader.open_tables(upload, file_format, upload.name) as tables:
        kinds = [t.kind.key for t in tables if t.kind is not None]
        hints = [t.size_hint for t in tables]
        if None in hints and upload.size < COUNT_ROWS_BELOW_BYTES:
            hints = [sum(1 for _row in t.rows) if t.size_hint is None else t.size_hint for t in tables]
    total = None if None in hints else sum(hints)
    upload.seek(0)
    return Inspection(file_format, kinds, total)


def missing_permissions(user, kinds):
    """Labels of the kinds ``user`` may not import (each needs add + change permissions)."""
    return [
        schema.KINDS_BY_KEY[key].label
        for key in kinds
        if not user.has_perms(schema.KINDS_BY_KEY[key].permissions)
    ]


def create_job(user, project, upload, inspection):
    """Store the upload privately and create its job; validate it now when it is small, else
    hand it to the background worker."""
    total = inspection.total_rows
    job = ImportJob(
        user=user,
        project=project,
        file_format=inspection.file_format,
        original_name=(upload.name or "")[-255:],
        kinds=",".join(inspection.kinds),
        total_rows=total or 0,
        background=total is None or total > settings.ESTATES_IMPORT_BACKGROUND_ROWS,
    )
    job.file.save(f"{uuid.uuid4().hex}.{inspection.file_format}", upload, save=False)
    job.save()
    if job.background:
        _enqueue("validate_import", job)
    else:
        validate_job(job)
    return job


def validate_job(job):
    """Read and classify every row; the job becomes validated (ready to confirm) or failed."""
    if not _move(job, Status.UPLOADED, Status.VALIDATING):
        return job
    try:
        run = _read(job)
        run.preview()
    except reader.FileRejected as error:
        return _fail(job, error.message)
    except Exception:
        logger.exception("Import job %s: validation crashed", job.pk)
        return _fail(job, _("校验时发生内部错误，请联系管理员。"))
    ok = run.report.ok
    _finish(job, Status.VALIDATED if ok else Status.FAILED, run, keep_file=ok)
    return job


def confirm_job(job):
    """The clerk confirmed the preview: apply now (small files) or in the background. The
    history rows name the job's user, so only they may confirm (the views see to that)."""
    if job.status != Status.VALIDATED or not _move(job, Status.VALIDATED, Status.IMPORTING):
        job.refresh_from_db()
        raise JobStateError(_state_message(job))
    if job.background:
        _enqueue("apply_import", job)
    else:
        apply_job(job)
    return job


def apply_job(job):
    """Read the stored file again, classify it against the database as it is now and write it
    all in one transaction; then tell the plugins (``estates_imported``)."""
    job.refresh_from_db()
    if job.status != Status.IMPORTING:
        return job
    try:
        run = _read(job)
        run.apply(change_reason(job))
    except ImportBlocked:
        _finish(job, Status.FAILED, run)
        return job
    except reader.FileRejected as error:
        return _fail(job, error.message)
    except DatabaseError:
        logger.exception("Import job %s: database error while applying", job.pk)
        return _fail(job, _("写入时数据库出错（可能有人同时修改了相同的数据），未导入任何数据，请重新导入。"))
    except Exception:
        logger.exception("Import job %s: apply crashed", job.pk)
        return _fail(job, _("导入时发生内部错误，未导入任何数据，请联系管理员。"))
    _finish(job, Status.DONE, run)
    counts = run.report.counts()
    transaction.on_commit(
        lambda: estates_imported.send(sender=ImportJob, job=job, counts=counts, user=job.user)
    )
    return job


def import_file(fileobj, name, project, *, user=None, dry_run=False):
    """The command's path: one read, then either a preview or an apply under a new job.
    Returns (report, job or None)."""
    file_format = reader.sniff(fileobj, max_bytes=None)
    name = os.path.basename(name)
    run = ImportRun(project, user=user)
    with reader.open_tables(fileobj, file_format, name) as tables:
        run.read(tables)
    if dry_run or not run.report.ok:
        return run.preview(), None
    job = ImportJob.objects.create(
        user=user,
        project=project,
        file_format=file_format,
        original_name=name[-255:],
        kinds=",".join(run.importers),
        total_rows=run.rows_read,
        processed_rows=run.rows_read,
        status=Status.IMPORTING,
    )
    try:
        run.apply(change_reason(job))
    except ImportBlocked:
        _finish(job, Status.FAILED, run)
        return run.report, job
    except Exception:
        _fail(job, _("导入失败，未导入任何数据。"))
        raise
    _finish(job, Status.DONE, run)
    counts = run.report.counts()
    transaction.on_commit(lambda: estates_imported.send(sender=ImportJob, job=job, counts=counts, user=user))
    return run.report, job


def change_reason(job):
    """The history reason of every row the job writes, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        if job.file_format == reader.CSV:
            return _("CSV 导入 #%(id)s") % {"id": job.pk}
        return _("Excel 导入 #%(id)s") % {"id": job.pk}


def refresh_stale(job):
    """A background job whose task ended without finishing it (the worker crashed) fails."""
    if job.status not in RUNNING or not job.task_id:
        return job
    from django_tasks import TaskResultStatus

    from estates import tasks

    try:
        result = tasks.validate_import.get_backend().get_result(job.task_id)
    except Exception:  # result pruned or backend without results: nothing to tell
        return job
    if result.status in (TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL):
        job.refresh_from_db()
        if job.status in RUNNING:
            _fail(job, _("后台任务意外中断，未导入任何数据，请重新上传。"))
    return job


# --- helpers ------------------------------------------------------------------------------------


def _read(job):
    run = ImportRun(
        job.project,
        user=job.user,
        allowed_projects=scope.projects_for(job.user) if job.user else None,
        progress=lambda rows: ImportJob.objects.filter(pk=job.pk).update(processed_rows=rows),
    )
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=0)
    with job.file.open("rb") as fileobj:
        with reader.open_tables(fileobj, job.file_format, job.original_name) as tables:
            run.read(tables)
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=run.rows_read, total_rows=run.rows_read)
    job.processed_rows = job.total_rows = run.rows_read
    return run


def _move(job, from_status, to_status):
    moved = ImportJob.objects.filter(pk=job.pk, status=from_status).update(status=to_status)
    if moved:
        job.status = to_status
    return bool(moved)


def _finish(job, status, run, keep_file=False):
    job.status = status
    job.summary = run.report.as_dict()
    job.finished_at = None if keep_file else timezone.now()
    job.save(update_fields=["status", "summary", "finished_at", "processed_rows", "total_rows"])
    if not keep_file:
        _delete_file(job)
    return job


def _fail(job, message):
    job.status = Status.FAILED
    summary = dict(job.summary or {})
    summary["errors"] = [{"sheet": None, "row": None, "column": None, "message": str(message)}]
    summary["error_count"] = 1
    job.summary = summary
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "summary", "finished_at"])
    _delete_file(job)
    return job


def _delete_file(job):
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def _enqueue(task_name, job):
    from estates import tasks

    def enqueue():
        result = getattr(tasks, task_name).enqueue(job.pk)
        ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)


def _state_message(job):
    if job.status == Status.DONE:
        return _("该导入已完成，不能重复导入。")
    if job.status == Status.FAILED:
        return _("该文件有错误，不能导入，请修改后重新上传。")
    if job.status == Status.IMPORTING:
        return _("该导入正在进行中。")
    return _("该文件尚未校验完毕，请稍候。")

"""Large imports in the background (ARCHITECTURE.md decision 12), run by
``manage.py db_worker --backend background``: the admin page stores the upload privately,
enqueues ``import_cases_file`` and shows the task's result when it is there. The result (the
report as a dict and the number of cases written) lives in the task backend, so the case desk
needs no job table of its own.
"""

import logging
import uuid

from django.contrib.auth import get_user_model
from django.core.files.storage import storages
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from estates.importing.reader import FileRejected
from estates.importing.report import Report

from .run import import_cases
from .schema import CASE_KIND

logger = logging.getLogger(__name__)
UPLOAD_FOLDER = "cases/imports/"


def enqueue(upload, user, dry_run):
    """Store ``upload`` in the private storage and queue its import; returns the task result id."""
    stored = storages["private"].save(f"{UPLOAD_FOLDER}{uuid.uuid4().hex}.xlsx", upload)
    result = import_cases_file.enqueue(stored, upload.name, user.pk, dry_run, translation.get_language())
    return result.id


@task(backend="background")
def import_cases_file(stored_name, file_name, user_id, dry_run, language):
    """{"report": Report.as_dict(), "written": cases written}. The file is deleted afterwards."""
    storage = storages["private"]
    with translation.override(language):
        try:
            user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
            if user is None or not user.has_perms(CASE_KIND.permissions):  # gone, or lost the right since
                return failure(_("您没有登记工单的权限，不能导入工单。请联系管理员。"))
            with storage.open(stored_name, "rb") as fileobj:
                run = import_cases(fileobj, file_name, user=user, dry_run=dry_run)
            return {"report": run.report.as_dict(), "written": run.written}
        except FileRejected as error:
            return failure(error.message)
        except DatabaseError:
            logger.exception("Case import of %s failed while writing", file_name)
            return failure(_("写入时数据库出错（可能有人同时修改了相同的数据），未导入任何数据，请重新导入。"))
        finally:
            storage.delete(stored_name)


def failure(message):
    report = Report()
    report.error(None, None, message)
    return {"report": report.as_dict(), "written": 0}
